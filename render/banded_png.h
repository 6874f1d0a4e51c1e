#pragma once
// PNG encoding of a picture painted band by band, so that a large figure (a 25-row scorecard at
// 300 dpi is 9,517 x 16,959 px, 646 MB as one QImage) never exists whole in memory: each band of
// rows is painted into a small QImage, and its rows go straight to libpng. The file is an 8-bit RGB
// PNG (PNG specification, ISO/IEC 15948) with the resolution in its pHYs chunk, as Qt writes a
// QImage::Format_RGB32 image; libpng's default filters and zlib level.
#include <QByteArray>
#include <QImage>
#include <QSize>

#include <functional>

namespace fs::render {

// Rows per band by default: 512 rows of a 9,517 px figure are 19.5 MB.
inline constexpr int kPngBandRows = 512;

// paintBand(band, top) fills `band` (Format_RGB32, size.width() x band.height(), white) with the
// picture's rows top .. top + band.height() - 1. InputError if the size is empty or libpng fails.
QByteArray encodePngInBands(QSize size, int dotsPerMeter,
                            const std::function<void(QImage& band, int top)>& paintBand,
                            int bandRows = kPngBandRows);

}  // namespace fs::render
