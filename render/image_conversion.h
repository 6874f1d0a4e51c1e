#pragma once
// cv::Mat (from analysis/) -> QImage. Deep copies, so the QImage owns its pixels and can cross
// threads; turn it into a QPixmap only on the GUI thread.
#include <QImage>

namespace cv {
class Mat;
}

namespace fs::render {

// CV_8UC1 -> Grayscale8, CV_8UC3 (RGB order) -> RGB888, CV_8UC4 (RGBA) -> RGBA8888; else null.
QImage toQImage(const cv::Mat& mat);

}  // namespace fs::render
