#pragma once
// Reading user images: a header probe that never decodes, and a loader that refuses oversized
// images before decoding and always returns 8-bit RGB. Free functions, no state, any thread.
// Every bad file is an fs::model::InputError whose message starts with the file name.
#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fs::analysis {

// Default for loadImageRgb/decodeImageBytes; the CLI exposes it as --max-pixels.
constexpr int64_t kDefaultMaxPixels = 100'000'000;

struct ImageInfo {
  int width = 0;
  int height = 0;
  std::string format;  // "png", "jpeg", "bmp", "tiff" or "webp"
};

// Reads only the header bytes (PNG IHDR, JPEG SOFn, BMP DIB header, TIFF IFD0, WebP
// VP8/VP8L/VP8X) and returns the stored size, before any EXIF orientation. Throws InputError
// for a missing file or an unknown or corrupt header.
ImageInfo probeImage(const std::string& path);

// Same as probeImage on an in-memory file; `name` only labels error messages.
ImageInfo probeImageBytes(const std::vector<uint8_t>& bytes, const std::string& name);

// Returns CV_8UC3 in RGB order. 16-bit is scaled by 1/257, float is clamped to [0,1] * 255,
// gray is replicated, alpha is composited on white and JPEG EXIF orientation is applied.
// Throws InputError before decoding when width * height > maxPixels (maxPixels <= 0: no limit).
// TIFF orientation tags are not applied (libtiff may already apply them on some paths).
cv::Mat loadImageRgb(const std::string& path, int64_t maxPixels = kDefaultMaxPixels);

// loadImageRgb for bytes already in memory (clipboard, drag and drop).
cv::Mat decodeImageBytes(const std::vector<uint8_t>& bytes, const std::string& name,
                         int64_t maxPixels = kDefaultMaxPixels);

}  // namespace fs::analysis
