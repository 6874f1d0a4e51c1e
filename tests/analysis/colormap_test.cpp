// Display steps: colormaps, sign modes, percentile ranges, colour bars, and the overlay of a map
// onto the original image through the crop geometry.
#include "analysis/colormap.h"
#include "analysis/preprocess.h"
#include "analysis/saliency_overlay.h"
#include "model/errors.h"

#include <gtest/gtest.h>

namespace fs::analysis {
namespace {

cv::Vec3b colorOf(Colormap map, float v) {
  return colorize(cv::Mat(1, 1, CV_32F, cv::Scalar(v)), {0.0, 1.0}, map).at<cv::Vec3b>(0, 0);
}

void expectColor(const cv::Vec3b& c, int r, int g, int b, const std::string& what) {
  EXPECT_NEAR(c[0], r, 2) << what;
  EXPECT_NEAR(c[1], g, 2) << what;
  EXPECT_NEAR(c[2], b, 2) << what;
}

TEST(Colormap, EndpointsMatchMatplotlib) {
  expectColor(colorOf(Colormap::Viridis, 0), 68, 1, 84, "viridis 0");
  expectColor(colorOf(Colormap::Viridis, 1), 253, 231, 37, "viridis 1");
  expectColor(colorOf(Colormap::Inferno, 0), 0, 0, 4, "inferno 0");
  expectColor(colorOf(Colormap::Inferno, 1), 252, 255, 164, "inferno 1");
  expectColor(colorOf(Colormap::Magma, 1), 252, 253, 191, "magma 1");
  expectColor(colorOf(Colormap::Turbo, 0), 48, 18, 59, "turbo 0");
  expectColor(colorOf(Colormap::Jet, 0), 0, 0, 128, "jet 0");
  expectColor(colorOf(Colormap::Gray, 1), 255, 255, 255, "gray 1");
  expectColor(colorOf(Colormap::Diverging, 0), 59, 76, 192, "diverging 0");
  expectColor(colorOf(Colormap::Diverging, 0.5f), 221, 220, 220, "diverging 0.5");
  expectColor(colorOf(Colormap::Diverging, 1), 180, 4, 38, "diverging 1");
}

TEST(Colormap, NamesRoundTripAndUnknownListsValid) {
  for (const auto& n : colormapNames()) EXPECT_EQ(colormapName(parseColormap(n)), n);
  EXPECT_EQ(parseColormap("Turbo"), Colormap::Turbo);
  try {
    parseColormap("rainbow");
    FAIL();
  } catch (const fs::model::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("viridis, inferno"), std::string::npos) << e.what();
  }
}

TEST(Colormap, SignModesAndPercentileRanges) {
  cv::Mat v(1, 101, CV_32F);
  for (int i = 0; i <= 100; ++i) v.at<float>(0, i) = static_cast<float>(i - 50);
  EXPECT_EQ(applySign(v, SignMode::Relu).at<float>(0, 0), 0.f);
  EXPECT_EQ(applySign(v, SignMode::Absolute).at<float>(0, 0), 50.f);
  EXPECT_EQ(applySign(v, SignMode::Signed).at<float>(0, 0), -50.f);
  const ValueRange relu = displayRange(v, SignMode::Relu, 100);
  EXPECT_DOUBLE_EQ(relu.lo, 0);
  EXPECT_DOUBLE_EQ(relu.hi, 50);
  const ValueRange clipped = displayRange(v, SignMode::Absolute, 90);
  EXPECT_DOUBLE_EQ(clipped.lo, 0);
  EXPECT_NEAR(clipped.hi, 45.0, 1e-9);  // numpy.percentile(abs(-50..50), 90)
  const ValueRange sym = displayRange(v, SignMode::Signed, 100);
  EXPECT_DOUBLE_EQ(sym.lo, -50);
  EXPECT_DOUBLE_EQ(sym.hi, 50);
  const ValueRange shared = sharedRange({v, v * 3}, SignMode::Relu, 100);
  EXPECT_DOUBLE_EQ(shared.hi, 150);
  cv::Mat withNan = v.clone();
  withNan.at<float>(0, 100) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_DOUBLE_EQ(displayRange(withNan, SignMode::Relu, 100).hi, 49);
}

TEST(Colormap, ColorizeClampsAndBarsRunLowToHigh) {
  cv::Mat v = (cv::Mat_<float>(1, 3) << -5.f, 0.5f, 7.f);
  const cv::Mat rgb = colorize(v, {0.0, 1.0}, Colormap::Gray);
  EXPECT_EQ(rgb.type(), CV_8UC3);
  EXPECT_EQ(rgb.at<cv::Vec3b>(0, 0)[0], 0);
  EXPECT_NEAR(rgb.at<cv::Vec3b>(0, 1)[0], 128, 1);
  EXPECT_EQ(rgb.at<cv::Vec3b>(0, 2)[0], 255);
  const cv::Mat h = colorBar(Colormap::Gray, 100, 10, false);
  EXPECT_EQ(h.size(), cv::Size(100, 10));
  EXPECT_LT(h.at<cv::Vec3b>(5, 0)[0], h.at<cv::Vec3b>(5, 99)[0]);
  const cv::Mat vert = colorBar(Colormap::Gray, 100, 10, true);
  EXPECT_EQ(vert.size(), cv::Size(10, 100));
  EXPECT_GT(vert.at<cv::Vec3b>(0, 5)[0], vert.at<cv::Vec3b>(99, 5)[0]);  // high at the top
  const cv::Mat legend = withColorBar(cv::Mat(50, 200, CV_8UC3, cv::Scalar(0, 0, 0)), Colormap::Viridis, {0, 1});
  EXPECT_EQ(legend.cols, 200);
  EXPECT_GT(legend.rows, 50 + 12);
}

DisplaySettings opaqueGray() {
  DisplaySettings s;
  s.colormap = Colormap::Gray, s.sign = SignMode::Signed, s.alpha = 1.0;
  return s;
}

TEST(SaliencyOverlay, MapIsPlacedOnTheCropRectangleOnly) {
  CropGeometry crop;
  crop.scale = crop.scaleY = 0.5, crop.x0 = 10, crop.y0 = 4, crop.width = crop.height = 32;  // 64 x 64 original px
  const cv::Mat original(60, 100, CV_8UC3, cv::Scalar(7, 7, 7));
  const cv::Mat leftRight = (cv::Mat_<float>(1, 2) << 0.f, 1.f);
  const ValueRange range{0.0, 1.0};
  const SaliencyOverlay o = overlaySaliency(original, leftRight, crop, opaqueGray(), &range);
  ASSERT_EQ(o.rgb.size(), original.size());
  EXPECT_EQ(o.rgb.at<cv::Vec3b>(30, 9)[0], 7);    // left of the crop: untouched
  EXPECT_EQ(o.rgb.at<cv::Vec3b>(30, 74)[0], 7);   // right of the crop
  EXPECT_EQ(o.rgb.at<cv::Vec3b>(3, 40)[0], 7);    // above
  EXPECT_EQ(o.rgb.at<cv::Vec3b>(30, 10)[0], 0);   // left half of the map: 0
  EXPECT_EQ(o.rgb.at<cv::Vec3b>(59, 25)[0], 0);
  EXPECT_EQ(o.rgb.at<cv::Vec3b>(30, 73)[0], 255); // right half: 1
  EXPECT_EQ(o.rgb.at<cv::Vec3b>(4, 58)[0], 255);
  EXPECT_NEAR(o.rgb.at<cv::Vec3b>(30, 41)[0], 128, 12);  // bilinear in between
}

TEST(SaliencyOverlay, FollowsThePreprocessingCropAndBlends) {
  const cv::Mat original(90, 150, CV_8UC3, cv::Scalar(100, 100, 100));
  fs::model::InputSpec spec;
  spec.height = spec.width = 32;
  const Preprocessed p = preprocess(original, spec);
  const cv::Rect2d rect = p.crop.originalRect();
  DisplaySettings s = opaqueGray();
  s.alpha = 0.5;
  const ValueRange range{0.0, 1.0};
  const SaliencyOverlay o = overlaySaliency(original, cv::Mat(7, 7, CV_32F, cv::Scalar(1.f)), p.crop, s, &range);
  for (int x = 0; x < original.cols; ++x) {
    const bool inside = x + 0.5 > rect.x && x + 0.5 < rect.x + rect.width;
    EXPECT_NEAR(o.rgb.at<cv::Vec3b>(45, x)[1], inside ? 178 : 100, 1) << "x=" << x;
  }
  const SaliencyOverlay automatic = overlaySaliency(original, cv::Mat(7, 7, CV_32F, cv::Scalar(2.f)), p.crop, s);
  EXPECT_DOUBLE_EQ(automatic.range.hi, 2.0);
}

}  // namespace
}  // namespace fs::analysis
