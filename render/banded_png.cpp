#include "render/banded_png.h"

#include "model/errors.h"

#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <string>

namespace fs::render {
using fs::model::InputError;

namespace {

struct PngTarget {
  QByteArray* bytes = nullptr;
  std::string error;
};

void appendBytes(png_structp png, png_bytep data, png_size_t length) {
  static_cast<PngTarget*>(png_get_io_ptr(png))->bytes->append(reinterpret_cast<const char*>(data), qsizetype(length));
}

void flushNothing(png_structp) {}

void recordError(png_structp png, png_const_charp message) {
  static_cast<PngTarget*>(png_get_error_ptr(png))->error = message;
  png_longjmp(png, 1);
}

void ignoreWarning(png_structp, png_const_charp) {}

// The libpng calls, with nothing here that a longjmp out of libpng would skip the destructor of: the
// bands are painted by the caller's function between rows, and any error returns false.
bool writePng(png_structp png, png_infop info, QSize size, int dotsPerMeter,
              const std::function<void(QImage&, int)>& paintBand, QImage* band) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, png_uint_32(size.width()), png_uint_32(size.height()), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (dotsPerMeter > 0)
    png_set_pHYs(png, info, png_uint_32(dotsPerMeter), png_uint_32(dotsPerMeter), PNG_RESOLUTION_METER);
  png_write_info(png, info);
  // Format_RGB32 is 0xffRRGGBB per pixel: bytes B, G, R, 0xff in memory on a little-endian machine.
  static_assert(Q_BYTE_ORDER == Q_LITTLE_ENDIAN, "RGB32 rows are read as B, G, R, filler");
  png_set_bgr(png);
  png_set_filler(png, 0, PNG_FILLER_AFTER);
  for (int top = 0; top < size.height(); top += band->height()) {
    const int rows = std::min(band->height(), size.height() - top);
    band->fill(Qt::white);
    paintBand(*band, top);
    for (int r = 0; r < rows; ++r) png_write_row(png, band->constScanLine(r));
  }
  png_write_end(png, info);
  return true;
}

}  // namespace

QByteArray encodePngInBands(QSize size, int dotsPerMeter, const std::function<void(QImage&, int)>& paintBand,
                            int bandRows) {
  if (size.isEmpty()) throw InputError("PNG: the picture is empty");
  if (bandRows < 1) throw InputError("PNG: a band needs at least one row");
  QImage band(size.width(), std::min(bandRows, size.height()), QImage::Format_RGB32);
  if (band.isNull()) throw InputError("PNG: out of memory for a band of " + std::to_string(size.width()) + " px");
  QByteArray bytes;
  PngTarget target{&bytes, {}};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &target, recordError, ignoreWarning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw InputError("PNG: libpng could not start");
  }
  png_set_write_fn(png, &target, appendBytes, flushNothing);
  bool ok = false;
  try {
    ok = writePng(png, info, size, dotsPerMeter, paintBand, &band);
  } catch (...) {  // from paintBand
    png_destroy_write_struct(&png, &info);
    throw;
  }
  png_destroy_write_struct(&png, &info);
  if (!ok) throw InputError("PNG encoding failed: " + target.error);
  return bytes;
}

}  // namespace fs::render
