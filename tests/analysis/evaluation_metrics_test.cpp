// The evaluation metrics of step one (localisation, complexity, similarity, agreement, bootstrap):
// each against an independent computation (tests/python/evaluation_reference.py: scipy, skimage,
// numpy) on small inputs, and the properties their papers state; the registry and the masks.
#include "analysis/evaluation/complexity.h"
#include "analysis/evaluation/localisation.h"
#include "analysis/evaluation/masks.h"
#include "analysis/evaluation/metric.h"
#include "analysis/evaluation/similarity.h"
#include "analysis/evaluation/statistics.h"
#include "evaluation_test_support.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <set>

namespace {
namespace fa = fs::analysis;
using fs::model::InputError;

// A mask with a rectangle [r0,r1) x [c0,c1) set.
at::Tensor box(int64_t h, int64_t w, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  at::Tensor m = at::zeros({h, w}, at::kBool);
  m.narrow(0, r0, r1 - r0).narrow(1, c0, c1 - c0).fill_(true);
  return m;
}

at::Tensor peakAt(int64_t h, int64_t w, int64_t r, int64_t c) {
  at::Tensor m = at::zeros({h, w}, at::kDouble);
  m[r][c] = 1.0;
  return m;
}

TEST(Localisation, PointingGameHitsInsideAndWithinFifteenPixels) {
  const at::Tensor mask = box(64, 64, 20, 30, 20, 30);
  EXPECT_EQ(fa::pointingGame(peakAt(64, 64, 25, 25), mask), 1.0);
  EXPECT_EQ(fa::pointingGame(peakAt(64, 64, 25, 44), mask), 1.0);  // 15 px right of column 29
  EXPECT_EQ(fa::pointingGame(peakAt(64, 64, 25, 45), mask), 0.0);  // 16 px
  EXPECT_EQ(fa::pointingGame(peakAt(64, 64, 40, 40), mask), 0.0);  // diagonal: sqrt(11^2 + 11^2) = 15.6 > 15
  EXPECT_EQ(fa::pointingGame(peakAt(64, 64, 39, 39), mask), 1.0);  // sqrt(10^2 + 10^2) = 14.1
  EXPECT_EQ(fa::pointingGame(peakAt(64, 64, 25, 45), mask, 0.0), 0.0);
  EXPECT_THROW(fa::pointingGame(peakAt(64, 64, 1, 1), at::zeros({64, 64}, at::kBool)), InputError);
  EXPECT_THROW(fa::pointingGame(peakAt(64, 64, 1, 1), box(32, 64, 0, 2, 0, 2)), InputError);
}

TEST(Localisation, EnergyMassRankAndIouOnKnownMaps) {
  const at::Tensor mask = box(10, 10, 2, 4, 2, 7);  // 2 x 5 = 10 pixels
  at::Tensor map = at::zeros({10, 10}, at::kDouble);
  map.narrow(0, 2, 2).narrow(1, 2, 5).fill_(2.0);  // 10 pixels inside, energy 20
  map[9][9] = 5.0;                                  // outside, energy 5
  map[0][0] = -7.0;                                 // negative relevance is not counted
  EXPECT_NEAR(fa::relevanceMass(map, mask), 20.0 / 25.0, 1e-12);
  EXPECT_NEAR(fa::relevanceRankAccuracy(map, mask), 9.0 / 10.0, 1e-12);  // top 10: [9][9] and 9 inside
  // The energy game's bounding box of an L-shaped mask also holds [3][2].
  at::Tensor l = box(10, 10, 2, 3, 2, 7);
  l[3][6] = true;
  at::Tensor m2 = at::zeros({10, 10}, at::kDouble);
  m2[3][2] = 3.0, m2[2][4] = 1.0, m2[8][8] = 4.0;
  EXPECT_NEAR(fa::energyPointingGame(m2, l), 4.0 / 8.0, 1e-12);
  EXPECT_NEAR(fa::relevanceMass(m2, l), 1.0 / 8.0, 1e-12);
  EXPECT_EQ(fa::relevanceMass(-map.abs(), mask), 0.0);
  // Top 10% = 10 pixels: 9 of them in the 10-pixel mask: IoU = 9 / 11.
  EXPECT_NEAR(fa::topKIou(map, mask, 0.1), 9.0 / 11.0, 1e-12);
  EXPECT_NEAR(fa::topKIou(mask.to(at::kDouble), mask, 0.1), 1.0, 1e-12);
  EXPECT_THROW(fa::topKIou(map, mask, 0.0), InputError);
}

TEST(Localisation, PeakedMapInsideTheMaskScoresOneOnEveryMetric) {
  const at::Tensor mask = box(32, 32, 8, 24, 10, 20);
  at::Tensor map = at::zeros({32, 32}, at::kDouble);
  map.narrow(0, 8, 16).narrow(1, 10, 10).fill_(1.0);
  map[16][15] = 3.0;
  EXPECT_EQ(fa::pointingGame(map, mask), 1.0);
  EXPECT_NEAR(fa::energyPointingGame(map, mask), 1.0, 1e-12);
  EXPECT_NEAR(fa::relevanceMass(map, mask), 1.0, 1e-12);
  EXPECT_NEAR(fa::relevanceRankAccuracy(map, mask), 1.0, 1e-12);
}

TEST(Complexity, GiniAndEntropyMatchScipyAndTheirBounds) {
  at::Generator gen = at::detail::createCPUGenerator(7);
  for (int64_t n : {5, 64, 400}) {
    const at::Tensor a = (at::randn({n}, gen) * at::rand({n}, gen).gt(0.3)).to(at::kDouble);
    const std::vector<double> ref = fs_test::pythonReference("complexity", {a});
    ASSERT_EQ(ref.size(), 2u);
    EXPECT_NEAR(fa::giniSparseness(a), ref[0], 1e-6) << n;
    EXPECT_NEAR(fa::entropyComplexity(a), ref[1], 1e-6) << n;
  }
  const at::Tensor uniform = at::full({8, 8}, 0.5, at::kDouble);
  EXPECT_NEAR(fa::giniSparseness(uniform), 0.0, 1e-12);
  EXPECT_NEAR(fa::entropyComplexity(uniform), std::log(64.0), 1e-12);
  EXPECT_NEAR(fa::giniSparseness(peakAt(8, 8, 3, 3)), 63.0 / 64.0, 1e-12);
  EXPECT_NEAR(fa::entropyComplexity(-peakAt(8, 8, 3, 3)), 0.0, 1e-12);
  EXPECT_EQ(fa::giniSparseness(at::zeros({4, 4})), 0.0);
}

TEST(Similarity, SpearmanSsimAndHogMatchScipyAndSkimage) {
  at::Generator gen = at::detail::createCPUGenerator(8);
  const at::Tensor smooth = at::avg_pool2d(at::randn({1, 1, 44, 52}, gen), {5, 5}, {1, 1})[0][0];  // 40x48
  const std::vector<std::pair<at::Tensor, at::Tensor>> pairs{
      {smooth, smooth + 0.3 * at::randn({40, 48}, gen)},
      {smooth, at::randn({40, 48}, gen)},
      {at::randn({24, 24}, gen), at::randn({24, 24}, gen)},
      {smooth - 0.1, -smooth.flip(1)}};
  for (const auto& [a, b] : pairs) {
    const std::vector<double> ref = fs_test::pythonReference("similarity", {a, b});
    ASSERT_EQ(ref.size(), 4u);
    const at::Tensor x = a.to(at::kDouble), y = b.to(at::kDouble);
    EXPECT_NEAR(fa::spearmanSimilarity(x, y, false), ref[0], 1e-9);
    EXPECT_NEAR(fa::spearmanSimilarity(x, y, true), ref[1], 1e-9);
    EXPECT_NEAR(fa::ssimSimilarity(x, y), ref[2], 1e-6);
    EXPECT_NEAR(fa::hogSimilarity(x, y), ref[3], 1e-4);
    const fa::SimilarityScores s = fa::similarityScores(x, y);
    EXPECT_NEAR(s.ssim, ref[2], 1e-6);
    EXPECT_NEAR(s.spearmanAbs, ref[1], 1e-9);
  }
  EXPECT_NEAR(fa::ssimSimilarity(smooth, smooth * 3.0 + 1.0), 1.0, 1e-9);  // rescaled to [0,1] first
  EXPECT_NEAR(fa::hogSimilarity(smooth, smooth), 1.0, 1e-9);
  EXPECT_THROW(fa::ssimSimilarity(at::rand({5, 5}), at::rand({5, 5})), InputError);
  EXPECT_THROW(fa::hogDescriptor(at::rand({20, 40})), InputError);
}

TEST(Statistics, KendallTauMatchesScipyWithTies) {
  const std::vector<std::vector<double>> xs{{1, 2, 3, 4, 5}, {1, 1, 2, 3, 3, 4}, {3, 1, 2, 2, 5, 4, 4}};
  const std::vector<std::vector<double>> ys{{5, 4, 3, 1, 2}, {2, 1, 2, 4, 3, 3}, {1, 1, 1, 2, 3, 3, 2}};
  for (size_t i = 0; i < xs.size(); ++i) {
    const double ref = fs_test::pythonReference("kendall", {at::tensor(xs[i]), at::tensor(ys[i])}).at(0);
    EXPECT_NEAR(fa::kendallTau(xs[i], ys[i]), ref, 1e-12) << i;
  }
  EXPECT_EQ(fa::kendallTau({1, 2, 3}, {1, 2, 3}), 1.0);
  EXPECT_EQ(fa::kendallTau({1, 2, 3}, {7, 7, 7}), 0.0);
  EXPECT_THROW(fa::kendallTau({1, 2}, {1}), InputError);
  EXPECT_EQ(fa::rankScores({0.2, 0.9, 0.5, 0.9}, true), (std::vector<double>{4, 1.5, 3, 1.5}));
  EXPECT_EQ(fa::rankScores({0.2, 0.9, 0.5}, false), (std::vector<double>{1, 3, 2}));
}

TEST(Statistics, MedianIsTheMiddleValueOrTheMeanOfTheMiddleTwo) {
  EXPECT_EQ(fa::median({3, 1, 2}), 2.0);
  EXPECT_EQ(fa::median({4, 1, 3, 2}), 2.5);
  EXPECT_EQ(fa::median({7}), 7.0);
  EXPECT_TRUE(std::isnan(fa::median({})));
}

TEST(Statistics, BootstrapIntervalAgreesWithScipyAndIsDeterministic) {
  at::Generator gen = at::detail::createCPUGenerator(9);
  const at::Tensor v = at::rand({60}, gen).pow(2).to(at::kDouble);
  std::vector<double> values(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
  for (double& x : values) x = double(float(x));  // the float32 the reference reads
  const fa::ConfidenceInterval ci = fa::bootstrapMeanCi(values, 1, 20000);
  const std::vector<double> ref = fs_test::pythonReference("bootstrap", {at::tensor(values)});
  const double sd = v.std().item<double>() / std::sqrt(60.0);  // standard error of the mean
  EXPECT_NEAR(ci.low, ref.at(0), 0.05 * sd);
  EXPECT_NEAR(ci.high, ref.at(1), 0.05 * sd);
  EXPECT_LT(ci.low, ci.mean);
  EXPECT_GT(ci.high, ci.mean);
  const fa::ConfidenceInterval again = fa::bootstrapMeanCi(values, 1, 20000);
  EXPECT_EQ(again.low, ci.low);
  EXPECT_EQ(again.high, ci.high);
  const fa::ConfidenceInterval constant = fa::bootstrapMeanCi({2.0, 2.0, 2.0}, 3);
  EXPECT_EQ(constant.low, 2.0);
  EXPECT_EQ(constant.high, 2.0);
  EXPECT_TRUE(std::isnan(fa::bootstrapMeanCi({}, 0).mean));
}

TEST(MetricRegistry, NamesAreUniqueAndEveryMetricIsRegistered) {
  const std::vector<std::string> names = fa::metricNames();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const std::string& n : names) EXPECT_EQ(fa::makeMetric(n)->name(), n);
  try {
    fa::makeMetric("accuracy");
    FAIL() << "unknown metric accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("pointing_game"), std::string::npos) << e.what();
  }
  // Through the registry: the map is resized to the input and ranked against the mask.
  fa::MetricInput in;
  in.input = at::zeros({1, 3, 32, 32});
  in.map2d = at::zeros({8, 8});
  in.map2d[4][4] = 1.0;
  in.mask = box(32, 32, 16, 20, 16, 20);
  EXPECT_EQ(fa::makeMetric("pointing_game")->compute(in), 1.0);
  in.mask = at::Tensor();
  EXPECT_THROW(fa::makeMetric("relevance_mass")->compute(in), InputError);
  EXPECT_GT(fa::makeMetric("gini")->compute(in), 0.5);
}

TEST(Masks, SilhouetteAndMaskFilesWithClearErrors) {
  fs::model::InputSpec spec;
  spec.height = spec.width = 56;
  spec.cropPct = 1.0;
  at::Tensor img = at::zeros({28, 28}, at::kByte);
  img.narrow(0, 10, 8).narrow(1, 4, 6).fill_(200);
  const at::Tensor s = fa::fashionMnistSilhouette(img, spec);
  ASSERT_EQ(s.sizes(), at::IntArrayRef({56, 56}));
  EXPECT_EQ(s.sum().item<int64_t>(), 16 * 12);
  EXPECT_TRUE(s[25][10].item<bool>());
  EXPECT_FALSE(s[10][10].item<bool>());

  const std::string dir = fs_test::evaluationScratch();
  EXPECT_EQ(fa::maskPathFor(dir + "/shirt.png"), dir + "/shirt.mask.png");
  cv::Mat m = cv::Mat::zeros(40, 40, CV_8U);
  m(cv::Rect(10, 20, 10, 10)).setTo(255);
  cv::imwrite(dir + "/good.mask.png", m);
  const at::Tensor loaded = fa::loadMask(dir + "/good.mask.png", 40, 40, spec);
  EXPECT_EQ(loaded.sizes(), at::IntArrayRef({56, 56}));
  EXPECT_NEAR(loaded.sum().item<double>(), 14.0 * 14.0, 20.0);
  const auto expectError = [&](const std::string& path, int w, int h, const std::string& reason) {
    try {
      fa::loadMask(path, w, h, spec);
      ADD_FAILURE() << path << " accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
  };
  expectError(dir + "/good.mask.png", 50, 40, "but its image is 50x40");
  cv::imwrite(dir + "/empty.mask.png", cv::Mat::zeros(40, 40, CV_8U));
  expectError(dir + "/empty.mask.png", 40, 40, "empty");
  expectError(dir + "/missing.mask.png", 40, 40, "unreadable");
  std::filesystem::remove_all(dir);
}

}  // namespace
