#include "render/color_ramp.h"

#include <QColor>

#include <opencv2/core/mat.hpp>

namespace fs::render {

QLinearGradient colorRamp(fs::analysis::Colormap map, const QPointF& low, const QPointF& high) {
  const cv::Mat ramp = fs::analysis::colorBar(map, 256, 1, false);  // 1 x 256 RGB
  QLinearGradient g(low, high);
  for (int i = 0; i < ramp.cols; ++i) {
    const cv::Vec3b c = ramp.at<cv::Vec3b>(0, i);
    g.setColorAt(double(i) / (ramp.cols - 1), QColor(c[0], c[1], c[2]));
  }
  return g;
}

}  // namespace fs::render
