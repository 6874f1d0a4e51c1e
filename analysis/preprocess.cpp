#include "analysis/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs::analysis {
namespace {

using fs::model::InputSpec;
using fs::model::Interpolation;

// Resampling follows Pillow's Resample.c (ImagingResample): separable convolution, horizontal
// pass first, each pass rounded to 8 bits with 22-bit fixed-point weights, and the filter
// support widened by the downscale factor, which is PIL's antialiasing. Matching it bit for bit
// keeps us at parity with timm/torchvision on PIL images; OpenCV's INTER_LINEAR/INTER_CUBIC do
// not antialias and use a different cubic (a = -0.75 instead of PIL's -0.5).
constexpr int kPrecisionBits = 32 - 8 - 2;

struct Filter {
  double support;
  double (*weight)(double);
};

double bilinearWeight(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

double bicubicWeight(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// For each output index: the first input index, the tap count and fixed-point weights.
struct Taps {
  int kernelSize = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;  // outSize x kernelSize
};

// Pillow's precompute_coeffs + normalize_coeffs_8bpc.
Taps computeTaps(int inSize, int outSize, const Filter& filter) {
  double scale = static_cast<double>(inSize) / outSize;
  double filterScale = std::max(scale, 1.0);
  double support = filter.support * filterScale;
  Taps t;
  t.kernelSize = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(outSize);
  t.count.resize(outSize);
  t.weights.assign(static_cast<size_t>(outSize) * t.kernelSize, 0);
  std::vector<double> k(t.kernelSize);
  for (int xx = 0; xx < outSize; ++xx) {
    double center = (xx + 0.5) * scale;
    int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    int n = std::min(static_cast<int>(center + support + 0.5), inSize) - xmin;
    double sum = 0.0;
    for (int x = 0; x < n; ++x) {
      k[x] = filter.weight((x + xmin - center + 0.5) * (1.0 / filterScale));
      sum += k[x];
    }
    for (int x = 0; x < n; ++x) {
      double w = (sum != 0.0 ? k[x] / sum : k[x]) * (1 << kPrecisionBits);
      t.weights[static_cast<size_t>(xx) * t.kernelSize + x] = static_cast<int32_t>(w < 0 ? w - 0.5 : w + 0.5);
    }
    t.first[xx] = xmin;
    t.count[xx] = n;
  }
  return t;
}

uint8_t clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}

cv::Mat resampleHorizontal(const cv::Mat& in, int outWidth, const Taps& t) {
  cv::Mat out(in.rows, outWidth, CV_8UC3);
  for (int y = 0; y < in.rows; ++y) {
    const uint8_t* src = in.ptr<uint8_t>(y);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int xx = 0; xx < outWidth; ++xx) {
      const int32_t* k = &t.weights[static_cast<size_t>(xx) * t.kernelSize];
      const uint8_t* s = src + 3 * t.first[xx];
      for (int c = 0; c < 3; ++c) {
        int32_t acc = 1 << (kPrecisionBits - 1);
        for (int x = 0; x < t.count[xx]; ++x) acc += s[3 * x + c] * k[x];
        dst[3 * xx + c] = clip8(acc);
      }
    }
  }
  return out;
}

cv::Mat resampleVertical(const cv::Mat& in, int outHeight, const Taps& t) {
  cv::Mat out(outHeight, in.cols, CV_8UC3);
  std::vector<int32_t> acc(static_cast<size_t>(in.cols) * 3);
  for (int yy = 0; yy < outHeight; ++yy) {
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    const int32_t* k = &t.weights[static_cast<size_t>(yy) * t.kernelSize];
    for (int y = 0; y < t.count[yy]; ++y) {
      const uint8_t* row = in.ptr<uint8_t>(t.first[yy] + y);
      for (size_t i = 0; i < acc.size(); ++i) acc[i] += row[i] * k[y];
    }
    uint8_t* dst = out.ptr<uint8_t>(yy);
    for (size_t i = 0; i < acc.size(); ++i) dst[i] = clip8(acc[i]);
  }
  return out;
}

// Pillow's nearest resize (ImagingScaleAffine): source index = floor((x + 0.5) * in / out),
// accumulated the way Pillow does so that rounding matches too.
std::vector<int> nearestIndices(int inSize, int outSize) {
  double step = static_cast<double>(inSize) / outSize;
  double pos = step * 0.5;
  std::vector<int> index(outSize);
  for (int i = 0; i < outSize; ++i, pos += step) index[i] = std::min(static_cast<int>(pos), inSize - 1);
  return index;
}

cv::Mat resizeNearest(const cv::Mat& in, cv::Size size) {
  std::vector<int> xs = nearestIndices(in.cols, size.width);
  std::vector<int> ys = nearestIndices(in.rows, size.height);
  cv::Mat out(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y) {
    const auto* src = in.ptr<cv::Vec3b>(ys[y]);
    auto* dst = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < size.width; ++x) dst[x] = src[xs[x]];
  }
  return out;
}

cv::Mat resizeLikePil(const cv::Mat& rgb, cv::Size size, Interpolation interpolation) {
  if (interpolation == Interpolation::Nearest) return resizeNearest(rgb, size);
  Filter filter =
      interpolation == Interpolation::Bilinear ? Filter{1.0, bilinearWeight} : Filter{2.0, bicubicWeight};
  cv::Mat out = rgb;
  if (size.width != out.cols)
    out = resampleHorizontal(out, size.width, computeTaps(out.cols, size.width, filter));
  if (size.height != out.rows)
    out = resampleVertical(out, size.height, computeTaps(out.rows, size.height, filter));
  return out;
}

// Python's round(d / 2) for d >= 0: ties go to the even neighbour.
int roundHalfEven(int d) {
  int half = d / 2;
  return (d % 2 == 1 && half % 2 == 1) ? half + 1 : half;
}

// torchvision CenterCrop offset along one axis; negative when it pads (zeros) instead.
int cropOffset(int size, int crop) {
  return size >= crop ? roundHalfEven(size - crop) : -((crop - size) / 2);
}

// timm's eval resize: square target -> torchvision Resize(int) on the short side; non-square
// target -> timm ResizeKeepRatio (the side with the smaller ratio matches, the other covers).
cv::Size resizedSize(cv::Size in, const InputSpec& spec) {
  int targetH = static_cast<int>(std::floor(spec.height / spec.cropPct));
  int targetW = static_cast<int>(std::floor(spec.width / spec.cropPct));
  if (targetH == targetW) {
    int shortSide = std::min(in.width, in.height);
    int longSide = std::max(in.width, in.height);
    auto newLong = static_cast<int>(static_cast<double>(int64_t{targetH} * longSide) / shortSide);
    return in.width <= in.height ? cv::Size(targetH, newLong) : cv::Size(newLong, targetH);
  }
  double ratio = std::min(static_cast<double>(in.height) / targetH, static_cast<double>(in.width) / targetW);
  return {static_cast<int>(std::nearbyint(in.width / ratio)),
          static_cast<int>(std::nearbyint(in.height / ratio))};
}

cv::Mat centerCrop(const cv::Mat& img, int left, int top, cv::Size size) {
  cv::Mat out(size, CV_8UC3, cv::Scalar::all(0));
  cv::Rect src = cv::Rect(left, top, size.width, size.height) & cv::Rect(0, 0, img.cols, img.rows);
  img(src).copyTo(out(src - cv::Point(left, top)));
  return out;
}

at::Tensor normalise(const cv::Mat& rgb, const InputSpec& spec) {
  at::Tensor input = at::empty({1, 3, rgb.rows, rgb.cols}, at::kFloat);
  auto a = input.accessor<float, 4>();
  float lut[3][256];
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) lut[c][v] = (static_cast<float>(v) / 255.0f - spec.mean[c]) / spec.std[c];
  }
  for (int y = 0; y < rgb.rows; ++y) {
    const auto* row = rgb.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      for (int c = 0; c < 3; ++c) a[0][c][y][x] = lut[c][row[x][c]];
    }
  }
  return input;
}

}  // namespace

cv::Point2d CropGeometry::toOriginal(double u, double v) const {
  return {x0 + (u + 0.5) / scale - 0.5, y0 + (v + 0.5) / scaleY - 0.5};
}

cv::Rect2d CropGeometry::originalRect() const { return {x0, y0, width / scale, height / scaleY}; }

Preprocessed preprocess(const cv::Mat& rgb, const InputSpec& spec) {
  if (rgb.empty() || rgb.type() != CV_8UC3)
    throw std::invalid_argument("preprocess: expected a CV_8UC3 RGB image");
  if (spec.height <= 0 || spec.width <= 0 || !(spec.cropPct > 0.0)) {
    throw std::invalid_argument("preprocess: invalid input size or crop_pct");
  }
  cv::Size size = resizedSize(rgb.size(), spec);
  cv::Mat resized = resizeLikePil(rgb, size, spec.interpolation);
  int left = cropOffset(size.width, spec.width);
  int top = cropOffset(size.height, spec.height);
  Preprocessed out;
  out.resizedCrop = centerCrop(resized, left, top, {spec.width, spec.height});
  out.input = normalise(out.resizedCrop, spec);
  out.crop.scale = static_cast<double>(size.width) / rgb.cols;
  out.crop.scaleY = static_cast<double>(size.height) / rgb.rows;
  out.crop.x0 = left / out.crop.scale;
  out.crop.y0 = top / out.crop.scaleY;
  out.crop.width = spec.width;
  out.crop.height = spec.height;
  return out;
}

cv::Mat denormalise(const at::Tensor& input, const InputSpec& spec) {
  at::Tensor t = input.dim() == 4 && input.size(0) == 1 ? input[0] : input;
  if (t.dim() != 3 || t.size(0) != 3)
    throw std::invalid_argument("denormalise: expected [1,3,H,W] or [3,H,W]");
  t = t.detach().to(at::kCPU, at::kFloat).contiguous();
  auto a = t.accessor<float, 3>();
  cv::Mat rgb(static_cast<int>(t.size(1)), static_cast<int>(t.size(2)), CV_8UC3);
  for (int y = 0; y < rgb.rows; ++y) {
    auto* row = rgb.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      for (int c = 0; c < 3; ++c)
        row[x][c] = cv::saturate_cast<uint8_t>((a[c][y][x] * spec.std[c] + spec.mean[c]) * 255.0f);
    }
  }
  return rgb;
}

}  // namespace fs::analysis
