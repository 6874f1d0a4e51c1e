// The sanity cascade over images (analysis/sanity_cascade.h) on the bundled Fashion-MNIST ResNet:
// progress after every randomised unit and a cancel that stops within one unit (what the GUI's
// Cancel relies on), and the figures and tables of both modes in one (sanity --mode both): a row
// per method and mode with the runs' own maps, the comparisons in the cascading row only, the
// tables the runs' tables one after another.
#include "analysis/fashion_mnist.h"
#include "analysis/model_loader.h"
#include "analysis/sanity_cascade.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <atomic>
#include <string>
#include <vector>

namespace {
namespace fa = fs::analysis;

struct Inputs {
  std::vector<at::Tensor> images;
  std::vector<std::string> names;
};

Inputs testImages(const fa::LoadedModel& m, int n) {
  const fa::ImageDataset test = fa::loadFashionMnist(fa::defaultFashionMnistDir(), false);
  Inputs in;
  for (int i = 0; i < n; ++i) {
    in.images.push_back(fa::fashionMnistBatch(test.images.narrow(0, i, 1), m.config.input));
    in.names.push_back("test-" + std::to_string(i));
  }
  return in;
}

bool sameMat(const cv::Mat& a, const cv::Mat& b) {
  return a.size == b.size && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0.0;
}

// Two test images, gradcam and gradient.
class SanityCascadeRun : public testing::Test {
 protected:
  SanityCascadeRun() { o.methods = {"gradcam", "gradient"}; }
  fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  Inputs in = testImages(m, 2);
  fa::SanityCascadeOptions o;
};

TEST_F(SanityCascadeRun, ProgressAfterEveryUnitAndCancelWithinOneUnit) {
  o.seed = 1;
  std::vector<double> seen;
  o.progress = [&](double f) { seen.push_back(f); };
  const fa::SanityCascade full = fa::runSanityCascade(m, in.images, in.names, o);
  const size_t units = full.units.size();
  ASSERT_EQ(units, 7u);  // fc, layer4..layer1, bn1, conv1
  EXPECT_FALSE(full.cancelled);
  ASSERT_EQ(seen.size(), 2 * 2 * units);  // images x methods x units
  for (size_t k = 0; k < seen.size(); ++k) EXPECT_NEAR(seen[k], double(k + 1) / double(seen.size()), 1e-12) << k;

  // Cancelled after the 17th unit (the second image's gradcam, its third unit): no unit after it,
  // only the first image kept, with the same numbers as the full run.
  std::atomic<bool> cancel{false};
  seen.clear();
  o.cancel = &cancel;
  o.progress = [&](double f) {
    seen.push_back(f);
    if (seen.size() == 17) cancel = true;
  };
  const fa::SanityCascade part = fa::runSanityCascade(m, in.images, in.names, o);
  EXPECT_TRUE(part.cancelled);
  EXPECT_EQ(seen.size(), 17u);
  ASSERT_EQ(part.images, std::vector<std::string>{"test-0"});
  // The curves' heading counts the images, in the singular for one.
  EXPECT_NE(fa::sanityCurvesFigure(part, "one").columnLabels[0].find(" over 1 image\nvs "), std::string::npos);
  EXPECT_NE(fa::sanityCurvesFigure(full, "all").columnLabels[0].find(" over " + std::to_string(full.images.size()) +
                                                                      " images\nvs "),
            std::string::npos);
  ASSERT_EQ(part.scores.size(), 1u);
  for (size_t k = 0; k < 2; ++k)
    for (size_t u = 0; u < units; ++u)
      EXPECT_EQ(part.scores[0][k][u].spearman, full.scores[0][k][u].spearman) << k << " " << u;
  ASSERT_EQ(part.firstMaps.size(), 2u);
  EXPECT_TRUE(sameMat(part.firstMaps[1].back(), full.firstMaps[1].back()));

  // Cancelled before the first unit: nothing kept, and no figure of nothing.
  seen.clear();
  const fa::SanityCascade none = fa::runSanityCascade(m, in.images, in.names, o);
  EXPECT_TRUE(none.cancelled);
  EXPECT_TRUE(seen.empty());
  EXPECT_TRUE(none.images.empty() && none.scores.empty() && none.firstMaps.empty());
  EXPECT_THROW(fa::sanityCascadeFigure(none, "x"), fs::model::InputError);
}

TEST_F(SanityCascadeRun, BothModesInOneFigureAndOneTable) {
  o.seed = 5;
  o.randomLogit = true;
  const fa::SanityCascade cascading = fa::runSanityCascade(m, in.images, in.names, o);
  o.mode = fa::RandomisationMode::Independent;
  o.randomLogit = false;
  const fa::SanityCascade independent = fa::runSanityCascade(m, in.images, in.names, o);
  const std::vector<const fa::SanityCascade*> both{&cascading, &independent};
  const size_t units = cascading.units.size();

  const fa::FigureLayout f = fa::sanityCascadeFigure(both, "both");
  ASSERT_EQ(f.rowCount(), 4);  // gradcam cascading, gradcam independent, gradient cascading, gradient independent
  ASSERT_EQ(size_t(f.columnCount()), units + 2);  // original, the units, the random class
  const std::vector<std::string> rows{"gradcam\ncascading", "gradcam\nindependent", "gradient\ncascading",
                                      "gradient\nindependent"};
  for (int r = 0; r < 4; ++r) {
    const std::string& label = f.rowLabels[size_t(r)];
    EXPECT_EQ(label.substr(label.size() - rows[size_t(r)].size()), rows[size_t(r)]) << label;
    const fa::SanityCascade& run = r % 2 == 0 ? cascading : independent;
    const size_t method = size_t(r / 2);
    for (size_t k = 0; k <= units; ++k) {
      ASSERT_EQ(f.cells[size_t(r)][k].kind, fa::CellKind::Overlay);
      EXPECT_TRUE(sameMat(f.cells[size_t(r)][k].overlay.map, run.firstMaps[method][k])) << r << " " << k;
    }
    // The random class does not depend on the mode: in the cascading row only.
    EXPECT_EQ(f.cells[size_t(r)][units + 1].kind, r % 2 == 0 ? fa::CellKind::Overlay : fa::CellKind::Empty) << r;
  }
  // Cascading and independent agree on the head (the first unit) and differ below it.
  EXPECT_TRUE(sameMat(cascading.firstMaps[0][1], independent.firstMaps[0][1]));
  EXPECT_FALSE(sameMat(cascading.firstMaps[0][units], independent.firstMaps[0][units]));
  // One run: the single-mode figure, unchanged.
  const fa::FigureLayout one = fa::sanityCascadeFigure(cascading, "one");
  EXPECT_EQ(one.rowCount(), 2);
  EXPECT_EQ(one.rowLabels[0].find("cascading"), std::string::npos);
  EXPECT_EQ(one.caption, fa::sanityCascadeFigure(std::vector<const fa::SanityCascade*>{&cascading}, "one").caption);

  const fa::FigureLayout curves = fa::sanityCurvesFigure(both, "curves");
  ASSERT_EQ(curves.rowCount(), 4);  // Spearman, |Spearman|, SSIM, HOG
  EXPECT_NE(curves.caption.find("dashed lines and open dots: independent"), std::string::npos) << curves.caption;
  // The key: each method in the colour of its lines, then the two modes' styles.
  const size_t methods = both[0]->methods.size();
  ASSERT_EQ(curves.legend.size(), methods + 2);
  EXPECT_EQ(curves.legend[methods].label, "cascading");
  EXPECT_FALSE(curves.legend[methods].dashed);
  EXPECT_EQ(curves.legend.back().label, "independent");
  EXPECT_TRUE(curves.legend.back().dashed && curves.legend.back().openMarker);
  EXPECT_EQ(curves.caption.find('#'), std::string::npos) << curves.caption;
  // Each panel is a vector plot: per mode and method a series from (0, 1) through the mean
  // similarity after each unit (the table's numbers), in the key's colour, the second mode dashed.
  const std::vector<std::string> keys{"spearman", "spearman_abs", "ssim", "hog"};
  for (size_t k = 0; k < keys.size(); ++k) {
    const fa::FigureCell& cell = curves.cells[k][0];
    ASSERT_EQ(cell.kind, fa::CellKind::Plot);
    ASSERT_EQ(cell.plot.series.size(), 2 * methods);
    ASSERT_EQ(cell.plot.xTicks.size(), units + 1);
    EXPECT_EQ(cell.plot.xTicks[1].label, cascading.units[0]);
    // The panels share the x axis: the list of units once, under the last.
    EXPECT_EQ(cell.note.empty(), k + 1 < keys.size()) << k;
    if (k + 1 == keys.size()) EXPECT_NE(cell.note.find("1 = " + cascading.units[0]), std::string::npos) << cell.note;
    for (size_t r = 0; r < 2; ++r)
      for (size_t m = 0; m < methods; ++m) {
        const fa::PlotSeries& s = cell.plot.series[r * methods + m];
        const fa::SanityCascade& run = r == 0 ? cascading : independent;
        EXPECT_EQ(s.dashed, r == 1);
        for (int c = 0; c < 3; ++c) EXPECT_EQ(s.rgb[c], curves.legend[m].rgb[c]);
        ASSERT_EQ(s.y.size(), units + 1);
        EXPECT_DOUBLE_EQ(s.y[0], 1.0);
        for (size_t u = 0; u < units; ++u)
          EXPECT_DOUBLE_EQ(s.y[u + 1], fa::meanSimilarity(run, m, u, keys[k]).value) << keys[k] << " " << r << " " << m << " " << u;
      }
  }
  // One run: its series only, and no style entries in the key.
  const fa::FigureLayout curvesOne = fa::sanityCurvesFigure(cascading, "curves");
  EXPECT_EQ(curvesOne.legend.size(), methods);
  EXPECT_EQ(curvesOne.cells[0][0].plot.series.size(), methods);

  // The tables: one header, the cascading rows, then the independent ones.
  const std::string means = fa::sanityMeansCsv(both), a = fa::sanityMeansCsv(cascading),
                    b = fa::sanityMeansCsv(independent);
  EXPECT_EQ(means, a + b.substr(b.find('\n') + 1));
  const std::string rowsCsv = fa::sanityRowsCsv(both), ra = fa::sanityRowsCsv(cascading),
                    rb = fa::sanityRowsCsv(independent);
  EXPECT_EQ(rowsCsv, ra + rb.substr(rb.find('\n') + 1));
  EXPECT_NE(rowsCsv.find(",independent\n"), std::string::npos);

  // Runs of other methods cannot share a figure.
  fa::SanityCascade other = independent;
  other.methods = {"gradcam"};
  EXPECT_THROW(fa::sanityCascadeFigure(std::vector<const fa::SanityCascade*>{&cascading, &other}, "x"),
               fs::model::InputError);
}

}  // namespace
