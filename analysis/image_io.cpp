#include "analysis/image_io.h"

#include "analysis/image_probe.h"
#include "model/errors.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <string>
#include <vector>

namespace fs::analysis {
namespace {

using fs::model::InputError;

void checkPixelLimit(const ImageInfo& info, const std::string& name, int64_t maxPixels) {
  int64_t pixels = int64_t{info.width} * info.height;
  if (maxPixels <= 0 || pixels <= maxPixels) return;
  throw InputError(name + ": image is " + std::to_string(info.width) + " x " + std::to_string(info.height) +
                   " = " + std::to_string(pixels) + " pixels, above the limit of " +
                   std::to_string(maxPixels) + " pixels (raise it with --max-pixels)");
}

// Same mapping as OpenCV's ApplyExifOrientation (TIFF/EXIF spec, tag 274).
cv::Mat applyOrientation(const cv::Mat& img, int orientation) {
  cv::Mat out = img;
  if (orientation >= 5) cv::transpose(img, out);
  static constexpr int kFlipCode[9] = {0, 0, 1, -1, 0, 0, 1, -1, 0};
  bool flips = orientation != 1 && orientation != 5;
  if (flips) cv::flip(out, out, kFlipCode[orientation]);
  return out;
}

cv::Mat toDepth8(const cv::Mat& m, const std::string& name) {
  cv::Mat out;
  switch (m.depth()) {
    case CV_8U: return m;
    case CV_16U: m.convertTo(out, CV_8U, 1.0 / 257.0); return out;
    case CV_32F:
    case CV_64F: m.convertTo(out, CV_8U, 255.0); return out;  // saturates: clamp to [0, 1]
    default:
      throw InputError(name + ": unsupported pixel depth (OpenCV depth " + std::to_string(m.depth()) + ")");
  }
}

// out = c * a + 255 * (1 - a), exact integer rounding.
cv::Mat compositeBgraOnWhite(const cv::Mat& bgra) {
  cv::Mat rgb(bgra.size(), CV_8UC3);
  for (int y = 0; y < bgra.rows; ++y) {
    const auto* src = bgra.ptr<cv::Vec4b>(y);
    auto* dst = rgb.ptr<cv::Vec3b>(y);
    for (int x = 0; x < bgra.cols; ++x) {
      int a = src[x][3];
      for (int c = 0; c < 3; ++c)
        dst[x][c] = static_cast<uint8_t>((src[x][2 - c] * a + 255 * (255 - a) + 127) / 255);
    }
  }
  return rgb;
}

cv::Mat toRgb8(const cv::Mat& decoded, const std::string& name) {
  cv::Mat m = toDepth8(decoded, name);
  cv::Mat out;
  switch (m.channels()) {
    case 1: cv::cvtColor(m, out, cv::COLOR_GRAY2RGB); return out;
    case 2: {
      cv::Mat ch[2];
      cv::split(m, ch);
      cv::merge(std::vector<cv::Mat>{ch[0], ch[0], ch[0], ch[1]}, out);
      return compositeBgraOnWhite(out);
    }
    case 3: cv::cvtColor(m, out, cv::COLOR_BGR2RGB); return out;
    case 4: return compositeBgraOnWhite(m);
    default: throw InputError(name + ": unsupported channel count " + std::to_string(m.channels()));
  }
}

cv::Mat decodeProbed(const std::vector<uint8_t>& bytes, const std::string& name, const ImageInfo& info) {
  cv::Mat raw;
  try {
    raw = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw InputError(name + ": not a decodable image (" + e.err + ")");
  }
  if (raw.empty()) {
    throw InputError(name + ": not a decodable image (the " + info.format + " decoder failed)");
  }
  cv::Mat rgb = toRgb8(raw, name);
  return info.format == "jpeg" ? applyOrientation(rgb, image_probe::jpegOrientation(bytes)) : rgb;
}

}  // namespace

cv::Mat loadImageRgb(const std::string& path, int64_t maxPixels) {
  checkPixelLimit(probeImage(path), path, maxPixels);
  return decodeImageBytes(image_probe::readImageFile(path), path, maxPixels);
}

cv::Mat decodeImageBytes(const std::vector<uint8_t>& bytes, const std::string& name, int64_t maxPixels) {
  ImageInfo info = probeImageBytes(bytes, name);
  checkPixelLimit(info, name, maxPixels);
  return decodeProbed(bytes, name, info);
}

}  // namespace fs::analysis
