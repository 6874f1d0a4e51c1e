// The scorecard figure's layout from a hand-written scorecard: one row per model x method in the
// scorecard's order, one column per metric (union, first seen), each CI cell's dot at the mean's
// place on the column's scale (the range over every CI) in its colour, the numbers under it, then
// the agreement matrix aligned with the metric columns; a file that is not a scorecard refused.
#include "analysis/colormap.h"
#include "analysis/scorecard_figure.h"
#include "model/errors.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>

namespace {
namespace fa = fs::analysis;

// Two methods x two metrics; the agreement of a metric with itself is 1, across the two -1.
std::string scorecard(const std::string& id) {
  return R"({"tool": "featurescope-cli evaluate", "model": {"id": ")" + id + R"("},
    "methods": ["gradient", "gradcam"],
    "aggregate": {"statistics": {"metrics": ["deletion_auc", "gini"],
      "methods": {"gradcam": {"deletion_auc": {"n": 4, "mean": 0.2, "ci_low": 0.1, "ci_high": 0.3, "rank": 1},
                              "gini": {"n": 4, "mean": 0.4, "ci_low": 0.35, "ci_high": 0.5, "rank": 2}},
                  "gradient": {"deletion_auc": {"n": 4, "mean": 0.5, "ci_low": 0.4, "ci_high": 0.6, "rank": 2},
                               "gini": {"n": 4, "mean": 0.6, "ci_low": 0.55, "ci_high": 0.7, "rank": 1}}},
      "agreement": [[1, -1], [-1, 1]]}}})";
}

TEST(ScorecardFigure, CellsShowTheMeanAndCiOnTheColumnScale) {
  const fa::FigureLayout f = fa::buildScorecardFigure({{"a", scorecard("a"), "a.json"}, {"b", scorecard("b"), "b.json"}}, "T");
  ASSERT_EQ(f.columnCount(), 2);
  EXPECT_EQ(f.columnLabels[0], "deletion_auc\n(lower = better)");
  EXPECT_EQ(f.columnLabels[1], "gini\n(higher = better)");
  ASSERT_EQ(f.rowCount(), 2 * 2 + 2 * 2);  // model x method, then 2 agreement rows per model
  EXPECT_EQ(f.rowLabels[0], "a\ngradient");  // the scorecard's method order, not alphabetical
  EXPECT_EQ(f.rowLabels[3], "b\ngradcam");
  // deletion_auc's scale: [0.1, 0.6] over every CI; gradient's mean 0.5 at 80% of the axis.
  ASSERT_TRUE(f.columnBars[0].has_value());
  EXPECT_DOUBLE_EQ(f.columnBars[0]->range.lo, 0.1);
  EXPECT_DOUBLE_EQ(f.columnBars[0]->range.hi, 0.6);
  const fa::FigureCell& cell = f.cells[0][0];
  ASSERT_EQ(cell.kind, fa::CellKind::Plot);  // vector shapes, not an image
  EXPECT_EQ(cell.note, "0.5 [0.4, 0.6]  #2  n=4");
  const fa::FigurePlot& plot = cell.plot;
  EXPECT_LT(plot.xRange.lo, 0.1);
  EXPECT_GT(plot.xRange.hi, 0.6);
  ASSERT_EQ(plot.series.size(), 5u);  // axis, CI, two caps, mean
  // The light axis spans the column's scale; the dark CI line spans [0.4, 0.6].
  EXPECT_EQ(plot.series[0].x, (std::vector<double>{0.1, 0.6}));
  EXPECT_EQ(plot.series[0].rgb[0], 220);
  EXPECT_EQ(plot.series[1].x, (std::vector<double>{0.4, 0.6}));
  EXPECT_EQ(plot.series[1].rgb[0], 40);
  EXPECT_EQ(plot.series[2].x, (std::vector<double>{0.4, 0.4}));
  EXPECT_EQ(plot.series[3].x, (std::vector<double>{0.6, 0.6}));
  // The mean's dot at 0.5, in its colour on the column's Turbo bar.
  const fa::PlotSeries& dot = plot.series[4];
  EXPECT_EQ(dot.x, (std::vector<double>{0.5}));
  EXPECT_GT(dot.markerRadius, 0.0);
  cv::Mat value(1, 1, CV_32F, cv::Scalar(0.5f));
  const cv::Vec3b expected = fa::colorize(value, {0.1, 0.6}, fa::Colormap::Turbo).at<cv::Vec3b>(0, 0);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(dot.rgb[k], int(expected[k]));
  // Agreement: row "a: tau of deletion_auc vs", column gini = -1 (blue end of the diverging map).
  const fa::FigureCell& tau = f.cells[4][1];
  EXPECT_EQ(tau.note, "tau -1");
  ASSERT_EQ(tau.kind, fa::CellKind::Plot);  // a vector square, not an image
  EXPECT_TRUE(tau.plot.series.empty());
  EXPECT_DOUBLE_EQ(tau.plot.aspect, 1.0);
  cv::Mat minusOne(1, 1, CV_32F, cv::Scalar(-1.0f));
  const cv::Vec3b blue = fa::colorize(minusOne, {-1.0, 1.0}, fa::Colormap::Diverging).at<cv::Vec3b>(0, 0);
  ASSERT_TRUE(tau.plot.fill.has_value());
  EXPECT_EQ(*tau.plot.fill, (std::array<int, 3>{blue[0], blue[1], blue[2]}));
}

TEST(ScorecardFigure, RefusesWhatIsNotAScorecardNamingTheFile) {
  try {
    fa::buildScorecardFigure({{"x", R"({"tool": "featurescope-cli export"})", "dir/x.json"}}, "");
    FAIL() << "no error";
  } catch (const fs::model::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dir/x.json: not an evaluate scorecard"), std::string::npos) << e.what();
  }
  std::string empty = scorecard("a");
  empty.replace(empty.find(R"(["deletion_auc", "gini"])"), 24, "[]");
  EXPECT_THROW(fa::buildScorecardFigure({{"a", empty, "a.json"}}, ""), fs::model::InputError);
}

}  // namespace
