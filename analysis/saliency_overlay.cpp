#include "analysis/saliency_overlay.h"

#include "analysis/preprocess.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace fs::analysis {
namespace {

// Original pixels [begin, end) whose centres fall inside the crop along one axis.
cv::Range cropSpan(double origin, double scale, int modelSize, int imageSize) {
  const int begin = std::max(0, static_cast<int>(std::ceil(origin - 0.5)));
  const int end = std::min(imageSize, static_cast<int>(std::floor(origin + modelSize / scale - 0.5)) + 1);
  return {begin, std::max(begin, end)};
}

// Source coordinates in `map` for original pixels `span`: original -> model input -> map cells.
cv::Mat sourceCoords(const cv::Range& span, double origin, double scale, int modelSize, int mapSize) {
  cv::Mat coords(1, span.size(), CV_32F);
  for (int i = 0; i < span.size(); ++i) {
    const double u = (span.start + i + 0.5 - origin) * scale - 0.5;
    coords.at<float>(0, i) = static_cast<float>((u + 0.5) * mapSize / modelSize - 0.5);
  }
  return coords;
}

std::string label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

SaliencyOverlay overlaySaliency(const cv::Mat& original, const cv::Mat& map, const CropGeometry& crop,
                                const DisplaySettings& settings, const ValueRange* range) {
  CV_Assert(original.type() == CV_8UC3 && map.type() == CV_32FC1 && !map.empty());
  SaliencyOverlay out;
  const cv::Mat values = applySign(map, settings.sign);
  out.range = range ? *range : displayRange(values, settings.sign, settings.clipPercentile);
  out.rgb = original.clone();
  const cv::Range xs = cropSpan(crop.x0, crop.scale, crop.width, original.cols);
  const cv::Range ys = cropSpan(crop.y0, crop.scaleY, crop.height, original.rows);
  if (xs.empty() || ys.empty()) return out;
  const cv::Mat mapX = cv::repeat(sourceCoords(xs, crop.x0, crop.scale, crop.width, map.cols), ys.size(), 1);
  const cv::Mat mapY = cv::repeat(sourceCoords(ys, crop.y0, crop.scaleY, crop.height, map.rows).t(), 1, xs.size());
  cv::Mat resampled;
  cv::remap(values, resampled, mapX, mapY, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  const cv::Mat colored = colorize(resampled, out.range, settings.colormap);
  cv::Mat roi = out.rgb(ys, xs);
  const double alpha = std::clamp(settings.alpha, 0.0, 1.0);
  cv::addWeighted(roi, 1.0 - alpha, colored, alpha, 0.0, roi);
  return out;
}

cv::Mat withColorBar(const cv::Mat& image, Colormap map, const ValueRange& range) {
  CV_Assert(image.type() == CV_8UC3);
  constexpr int kMargin = 4, kBar = 12, kText = 16, kMinWidth = 160;
  const int width = std::max(image.cols, kMinWidth);
  cv::Mat canvas(image.rows + kMargin + kBar + kText, width, CV_8UC3, cv::Scalar(255, 255, 255));
  image.copyTo(canvas(cv::Rect(0, 0, image.cols, image.rows)));
  const int barTop = image.rows + kMargin, barWidth = width - 2 * kMargin;
  colorBar(map, barWidth, kBar, false).copyTo(canvas(cv::Rect(kMargin, barTop, barWidth, kBar)));
  const int baseline = barTop + kBar + kText - 4;
  const auto font = cv::FONT_HERSHEY_SIMPLEX;
  const double scale = 0.4;
  const std::string hi = label(range.hi);
  int ignored = 0;
  const int hiWidth = cv::getTextSize(hi, font, scale, 1, &ignored).width;
  cv::putText(canvas, label(range.lo), {kMargin, baseline}, font, scale, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::putText(canvas, hi, {width - kMargin - hiWidth, baseline}, font, scale, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  return canvas;
}

}  // namespace fs::analysis
