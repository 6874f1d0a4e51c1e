// The app's map grid draws its colour bar as the figures do (render/color_ramp.h): the colormap's
// ramp from low (left) to high (right). Checked against fs::analysis::colorBar's own entries.
#include "analysis/colormap.h"
#include "ui/map_grid.h"

#include <gtest/gtest.h>

#include <QImage>

#include <opencv2/core.hpp>

#include <cstdlib>

namespace {

namespace fa = fs::analysis;

int distance(QRgb a, const cv::Vec3b& b) {
  return std::abs(qRed(a) - b[0]) + std::abs(qGreen(a) - b[1]) + std::abs(qBlue(a) - b[2]);
}

TEST(MapGrid, ColourBarRunsThroughTheColormapFromLowToHigh) {
  fs::ui::MapGrid grid;
  const cv::Mat map(8, 8, CV_32F, cv::Scalar(0.5f));
  grid.setTiles({map}, {QStringLiteral("c0")}, 1, fs::service::SessionCrop{});
  grid.setDisplay(fa::Colormap::Viridis, fa::SignMode::Signed, {fa::ValueRange{0.0, 1.0}}, true);
  grid.resize(240, 300);
  const QImage image = grid.grab().toImage().convertToFormat(QImage::Format_RGB32);
  const cv::Mat ramp = fa::colorBar(fa::Colormap::Viridis, 256, 1, false);  // 1 x 256 RGB
  const cv::Vec3b low = ramp.at<cv::Vec3b>(0, 0), mid = ramp.at<cv::Vec3b>(0, 128), high = ramp.at<cv::Vec3b>(0, 255);
  // The bar: the row whose longest run of pixels starts at the ramp's low colour and ends at its high one.
  int found = -1, left = 0, right = 0;
  for (int y = image.height() - 1; y >= 0 && found < 0; --y) {
    const QRgb* row = reinterpret_cast<const QRgb*>(image.constScanLine(y));
    int x0 = 0;
    while (x0 < image.width() && distance(row[x0], low) > 24) ++x0;
    int x1 = image.width() - 1;
    while (x1 > x0 && distance(row[x1], high) > 24) --x1;
    if (x1 - x0 >= 60) found = y, left = x0, right = x1;
  }
  ASSERT_GE(found, 0) << "no row runs from the low to the high colour";
  const QRgb* row = reinterpret_cast<const QRgb*>(image.constScanLine(found));
  // Viridis' green rises monotonically along the ramp; so must the bar's, left to right.
  for (int x = left + 1; x <= right; ++x) EXPECT_GE(qGreen(row[x]) + 2, qGreen(row[x - 1])) << "x = " << x;
  EXPECT_LE(distance(row[(left + right) / 2], mid), 30);
}

}  // namespace
