#include "render/image_conversion.h"

#include <opencv2/core/mat.hpp>

namespace fs::render {

QImage toQImage(const cv::Mat& mat) {
  QImage::Format format;
  switch (mat.type()) {
    case CV_8UC1: format = QImage::Format_Grayscale8; break;
    case CV_8UC3: format = QImage::Format_RGB888; break;
    case CV_8UC4: format = QImage::Format_RGBA8888; break;
    default: return {};
  }
  const QImage view(mat.data, mat.cols, mat.rows, static_cast<qsizetype>(mat.step), format);
  return view.copy();
}

}  // namespace fs::render
