// The figure layout and the ConvMLP paper figure builder on the tiny reference models: shape of
// the grid, normalisation ranges, channel ranking, saliency column, validation and tick helpers.
#include "analysis/feature_stats.h"
#include "analysis/figure_layout.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "model/errors.h"
#include "tests/model/test_support.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <numeric>

namespace {
namespace fa = fs::analysis;

const char* kFixtures[] = {"convmlp_tiny", "mixer_tiny", "resmlp_tiny"};

std::vector<fa::LoadedModel>& referenceModels() {
  static std::vector<fa::LoadedModel> models = [] {
    std::vector<fa::LoadedModel> m;
    for (const char* f : kFixtures)
      m.push_back(fa::loadModel(fs::test::refDir(f) + "/config.json", fs::test::refDir(f) + "/weights.safetensors", 0));
    return m;
  }();
  return models;
}

std::vector<fa::LoadedModel*> modelPointers() {
  std::vector<fa::LoadedModel*> p;
  for (auto& m : referenceModels()) p.push_back(&m);
  return p;
}

// A non-square test image: colour ramps and a bright disc.
cv::Mat testImage() {
  cv::Mat img(90, 120, CV_8UC3);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(2 * x), uchar(2 * y), uchar(x + y));
  cv::circle(img, {70, 40}, 18, cv::Scalar(250, 240, 30), cv::FILLED);
  return img;
}

fa::FigureLayout build(const fa::FeatureFigureOptions& o) {
  return fa::buildFeatureFigure(modelPointers(), testImage(), o);
}

double meanOf(const cv::Mat& m) { return cv::mean(m)[0]; }

}  // namespace

TEST(FigureLayout, PaperFigureHasModelRowsStageColumnsAndThreeByFourCells) {
  const fa::FigureLayout fig = build({});
  ASSERT_EQ(fig.rowCount(), 3);
  ASSERT_EQ(fig.columnCount(), 4);  // convmlp_tiny: conv_stages + 3 stages; the token models have 2
  EXPECT_EQ(fig.columnLabels[0], "Stage 1");
  EXPECT_EQ(fig.columnLabels[3], "Stage 4");
  EXPECT_NE(fig.rowLabels[0].find("convmlp_tiny"), std::string::npos);
  EXPECT_NE(fig.rowLabels[1].find("mixer_tiny"), std::string::npos);
  for (int r = 0; r < 3; ++r) {
    const auto stages = referenceModels()[r].net->stages();
    for (int c = 0; c < 4; ++c) {
      const fa::FigureCell& cell = fig.cells[r][c];
      if (c >= int(stages.size())) {
        EXPECT_EQ(cell.kind, fa::CellKind::Empty);
        continue;
      }
      ASSERT_EQ(cell.kind, fa::CellKind::Tiles);
      EXPECT_EQ(cell.tiles.channels.size(), 12u);
      EXPECT_EQ(cell.tiles.cols, 4);
      EXPECT_EQ(cell.tiles.rows, 3);
      EXPECT_EQ(cell.tiles.ranges.size(), 12u);  // channel normalisation: one range per tile
      EXPECT_EQ(cell.tiles.colormap, fa::Colormap::Gray);
      EXPECT_EQ(cell.note.rfind(stages[c], 0), 0u) << cell.note;
    }
  }
  ASSERT_TRUE(fig.sharedBar.has_value());
  EXPECT_NO_THROW(fa::validateFigureLayout(fig));
}

TEST(FigureLayout, FirstChannelsMatchTheTapInOrder) {
  const fa::FigureLayout fig = build({});
  fa::LoadedModel& m = referenceModels()[0];
  const at::Tensor tap = fa::extractTap(m, fa::preprocess(testImage(), m.config.input).input, "stages.0");
  for (int i = 0; i < 12; ++i) {
    const cv::Mat& tile = fig.cells[0][1].tiles.channels[i];
    ASSERT_EQ(tile.rows, tap.size(2));
    EXPECT_NEAR(meanOf(tile), tap[0][i].mean().item<double>(), 1e-5) << "channel " << i;
  }
}

TEST(FigureLayout, ChannelCountSetsTheGrid) {
  fa::FeatureFigureOptions o;
  o.channels = 6;
  const fa::FigureLayout fig = build(o);
  const auto& t = fig.cells[1][0].tiles;
  EXPECT_EQ(t.channels.size(), 6u);
  EXPECT_EQ(t.cols, 3);
  EXPECT_EQ(t.rows, 2);
}

TEST(FigureLayout, SharedNormalisationGivesOneRangePerColumn) {
  fa::FeatureFigureOptions o;
  o.norm = "shared";
  const fa::FigureLayout fig = build(o);
  for (int c = 0; c < fig.columnCount(); ++c) {
    ASSERT_TRUE(fig.columnBars[c].has_value()) << c;
    const fa::ValueRange bar = fig.columnBars[c]->range;
    double lo = 1e30, hi = -1e30;
    for (int r = 0; r < fig.rowCount(); ++r) {
      const auto& cell = fig.cells[r][c];
      if (cell.kind != fa::CellKind::Tiles) continue;
      ASSERT_EQ(cell.tiles.ranges.size(), 1u);
      EXPECT_DOUBLE_EQ(cell.tiles.ranges[0].lo, bar.lo);
      EXPECT_DOUBLE_EQ(cell.tiles.ranges[0].hi, bar.hi);
      for (const auto& tile : cell.tiles.channels) {
        double a = 0, b = 0;
        cv::minMaxLoc(tile, &a, &b);
        lo = std::min(lo, a), hi = std::max(hi, b);
      }
    }
    EXPECT_NEAR(bar.lo, lo, 1e-5);
    EXPECT_NEAR(bar.hi, hi, 1e-5);
  }
  EXPECT_FALSE(fig.sharedBar.has_value());
}

TEST(FigureLayout, TapNormalisationGivesOneRangeAndBarPerCell) {
  fa::FeatureFigureOptions o;
  o.norm = "tap";
  const fa::FigureLayout fig = build(o);
  const auto& cell = fig.cells[0][0];
  ASSERT_EQ(cell.tiles.ranges.size(), 1u);
  ASSERT_TRUE(cell.bar.has_value());
  EXPECT_DOUBLE_EQ(cell.bar->range.hi, cell.tiles.ranges[0].hi);
}

TEST(FigureLayout, RankingByMeanOrdersChannelsOnASyntheticTap) {
  // Channel c is constant perm[c]: the mean ranking is the channels sorted by value, descending.
  const std::vector<float> values{0.5f, 3.f, -1.f, 2.f, 7.f, 0.f};
  at::Tensor tap = at::empty({1, 6, 3, 3});
  for (int c = 0; c < 6; ++c) tap[0][c].fill_(values[c]);
  EXPECT_EQ(fa::rankChannels(tap, fa::ChannelRank::Mean, 4), (std::vector<int>{4, 1, 3, 0}));
}

TEST(FigureLayout, RankingByMeanShowsTheTopChannelsInOrder) {
  fa::FeatureFigureOptions o;
  o.rank = "mean";
  o.channels = 5;
  const fa::FigureLayout fig = build(o);
  fa::LoadedModel& m = referenceModels()[0];
  const at::Tensor tap = fa::extractTap(m, fa::preprocess(testImage(), m.config.input).input, "stages.1");
  const std::vector<int> expected = fa::rankChannels(tap, fa::ChannelRank::Mean, 5);
  const auto& t = fig.cells[0][2].tiles;
  ASSERT_EQ(t.tileLabels.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.tileLabels[i], "#" + std::to_string(expected[i]));
    if (i > 0) {
      EXPECT_GE(meanOf(t.channels[i - 1]) + 1e-6, meanOf(t.channels[i]));
    }
  }
}

TEST(FigureLayout, ContributionRankingMatchesASingleTapGradient) {
  fa::FeatureFigureOptions o;
  o.rank = "contribution";
  o.channels = 4;
  const fa::FigureLayout fig = build(o);
  fa::LoadedModel& m = referenceModels()[0];
  const at::Tensor x = fa::preprocess(testImage(), m.config.input).input;
  const fa::TapGradient g = fa::tapGradient(m, x, "stages.0");
  const std::vector<int> expected = fa::rankChannels(g.activation, fa::ChannelRank::Contribution, 4, g.gradient);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(fig.cells[0][1].tiles.tileLabels[i], "#" + std::to_string(expected[i]));
}

TEST(FigureLayout, SaliencyColumnOverlaysTheInput) {
  fa::FeatureFigureOptions o;
  o.saliency = "gradcam";
  const fa::FigureLayout fig = build(o);
  ASSERT_EQ(fig.columnCount(), 5);
  EXPECT_EQ(fig.columnLabels[4], "Grad-CAM");
  for (int r = 0; r < 3; ++r) {
    const auto& cell = fig.cells[r][4];
    ASSERT_EQ(cell.kind, fa::CellKind::Overlay);
    EXPECT_EQ(cell.overlay.rgb.type(), CV_8UC3);
    EXPECT_GT(cell.overlay.rgb.rows, 0);
    EXPECT_NE(cell.note.find("class"), std::string::npos);
  }
}

TEST(FigureLayout, ExplicitTapsAndErrors) {
  fa::FeatureFigureOptions o;
  o.stages = {{"conv_stages", "stages.2"}, {"blocks.0"}, {"blocks.1"}};
  const fa::FigureLayout fig = build(o);
  EXPECT_EQ(fig.columnCount(), 2);
  EXPECT_EQ(fig.columnLabels[0], "Tap 1");
  EXPECT_EQ(fig.cells[1][1].kind, fa::CellKind::Empty);
  o.stages = {{"nope"}};
  EXPECT_THROW(build(o), fs::model::InputError);
  o.stages.clear();
  o.rank = "loudest";
  EXPECT_THROW(build(o), fs::model::InputError);
  o.rank = "first";
  o.saliency = "nope";
  EXPECT_THROW(build(o), fs::model::InputError);
}

TEST(FigureLayout, ValidationRejectsMisshapenLayouts) {
  fa::FigureLayout f;
  f.columnLabels = {"a", "b"};
  f.rowLabels = {"r"};
  f.cells = {{fa::FigureCell{}}};
  EXPECT_THROW(fa::validateFigureLayout(f), fs::model::InputError);
  f.cells[0].push_back(fa::FigureCell{});
  EXPECT_NO_THROW(fa::validateFigureLayout(f));
  f.cells[0][0].kind = fa::CellKind::Tiles;
  f.cells[0][0].tiles.channels.assign(13, cv::Mat::zeros(2, 2, CV_32F));
  f.cells[0][0].tiles.ranges = {fa::ValueRange{}};
  EXPECT_THROW(fa::validateFigureLayout(f), fs::model::InputError);
}

TEST(FigureLayout, NiceTicksAreRoundAndInsideTheRange) {
  const auto t = fa::niceTicks({0.0, 1.0}, 5);
  ASSERT_GE(t.size(), 2u);
  EXPECT_EQ(t.front().label, "0");
  EXPECT_EQ(t.back().label, "1");
  for (const fa::ValueRange r : {fa::ValueRange{-3.2, 7.9}, fa::ValueRange{0.0012, 0.0047}, fa::ValueRange{-50, -2}}) {
    const auto ticks = fa::niceTicks(r, 5);
    ASSERT_GE(ticks.size(), 2u);
    ASSERT_LE(ticks.size(), 5u);
    for (const auto& k : ticks) {
      EXPECT_GE(k.value, r.lo - 1e-12);
      EXPECT_LE(k.value, r.hi + 1e-12);
    }
  }
  EXPECT_EQ(fa::niceTicks({2.0, 2.0}).size(), 1u);
}

TEST(FigureLayout, ShortIdsForConfigPaths) {
  EXPECT_EQ(fa::modelShortId("/x/y/convmlp_tiny/config.json"), "convmlp_tiny");
  EXPECT_EQ(fa::modelShortId("my model.json"), "my_model");
  EXPECT_EQ(fa::modelShortId("resnet50"), "resnet50");
  EXPECT_EQ(fa::modelDisplayName(referenceModels()[1]), "MLP-Mixer (mixer_tiny)");
}
