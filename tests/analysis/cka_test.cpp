// Linear CKA: the defining invariances (Kornblith et al. 2019, sec. 3), agreement with the
// feature-space formula, both HSIC estimators against numpy (tests/python/cka_reference.py: HSIC
// written out as in Gretton et al. 2005 and Song et al. 2012), and the tap-by-tap matrix over real models.
#include "analysis/cka.h"
#include "analysis/model_loader.h"
#include "model/errors.h"
#include "model/npy.h"
#include "tests/model/test_support.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <unistd.h>

namespace {
namespace fa = fs::analysis;

using fs::test::refDir;

// ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F), written independently of the Gram form.
double directCka(const at::Tensor& x, const at::Tensor& y) {
  const at::Tensor xc = x.to(at::kDouble) - x.to(at::kDouble).mean(0, true);
  const at::Tensor yc = y.to(at::kDouble) - y.to(at::kDouble).mean(0, true);
  const double num = yc.t().matmul(xc).pow(2).sum().item<double>();
  return num / (xc.t().matmul(xc).norm().item<double>() * yc.t().matmul(yc).norm().item<double>());
}

at::Tensor orthogonal(int64_t p, at::Generator& gen) {
  return std::get<0>(at::linalg_qr(at::randn({p, p}, gen, at::kDouble)));
}

TEST(LinearCka, SelfSimilarityIsOne) {
  at::Generator gen = at::detail::createCPUGenerator(1);
  const at::Tensor x = at::randn({20, 50}, gen, at::kDouble);
  EXPECT_NEAR(fa::linearCka(x, x), 1.0, 1e-12);
}

TEST(LinearCka, InvariantToOrthogonalTransformsAndIsotropicScaling) {
  at::Generator gen = at::detail::createCPUGenerator(2);
  const at::Tensor x = at::randn({16, 12}, gen, at::kDouble), y = at::randn({16, 8}, gen, at::kDouble);
  const double base = fa::linearCka(x, y);
  EXPECT_NEAR(fa::linearCka(x.matmul(orthogonal(12, gen)), y), base, 1e-10);
  EXPECT_NEAR(fa::linearCka(x * 7.5, y * 0.01), base, 1e-10);
  EXPECT_NEAR(fa::linearCka(x + 3.0, y), base, 1e-10);  // centring removes offsets
  EXPECT_NEAR(fa::linearCka(x.matmul(orthogonal(12, gen)) * 3.0, x), 1.0, 1e-10);
}

TEST(LinearCka, NotInvariantToArbitraryLinearTransformsAndMatchesTheDirectFormula) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  const at::Tensor x = at::randn({30, 6}, gen, at::kDouble);
  const at::Tensor a = at::randn({6, 6}, gen, at::kDouble) * at::linspace(0.05, 5.0, 6, at::kDouble);
  const double transformed = fa::linearCka(x.matmul(a), x);
  EXPECT_LT(transformed, 0.99);
  EXPECT_NEAR(transformed, directCka(x.matmul(a), x), 1e-10);
  const at::Tensor y = at::randn({30, 9}, gen, at::kDouble);
  EXPECT_NEAR(fa::linearCka(x, y), directCka(x, y), 1e-10);
}

TEST(LinearCka, SymmetricAndBounded) {
  at::Generator gen = at::detail::createCPUGenerator(4);
  const at::Tensor x = at::randn({10, 5}, gen, at::kDouble), y = at::randn({10, 40}, gen, at::kDouble);
  EXPECT_NEAR(fa::linearCka(x, y), fa::linearCka(y, x), 1e-12);
  EXPECT_GE(fa::linearCka(x, y), 0.0);
  EXPECT_LE(fa::linearCka(x, y), 1.0);
  EXPECT_EQ(fa::linearCka(at::ones({10, 3}), y), 0.0);  // constant features: undefined -> 0
}

// Biased and debiased CKA of x and y by tests/python/cka_reference.py (numpy); a failure there
// fails the test.
std::pair<double, double> pythonCka(const at::Tensor& x, const at::Tensor& y) {
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data/cka_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  fs::model::writeNpy(dir + "/x.npy", x.to(at::kFloat));
  fs::model::writeNpy(dir + "/y.npy", y.to(at::kFloat));
  const std::string cmd = std::string(FS_PYTHON) + " " + FS_SOURCE_DIR + "/tests/python/cka_reference.py " + dir +
                          "/x.npy " + dir + "/y.npy";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  char buf[256] = {};
  const std::string out = std::fgets(buf, sizeof buf, pipe) ? buf : "";
  if (::pclose(pipe) != 0 || out.empty()) throw std::runtime_error("Python reference failed: " + cmd);
  std::filesystem::remove_all(dir);
  std::istringstream in(out);
  double biased = 0, debiased = 0;
  in >> biased >> debiased;
  return {biased, debiased};
}

TEST(LinearCka, BothEstimatorsMatchTheHsicFormulasInNumpy) {
  at::Generator gen = at::detail::createCPUGenerator(11);
  for (const auto& [n, p, q] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{4, 3, 7}, {9, 40, 5}, {25, 300, 120}}) {
    // float32 round trip first, so both sides see the same numbers.
    const at::Tensor x = at::randn({n, p}, gen, at::kFloat).to(at::kDouble);
    const at::Tensor y = (x.narrow(1, 0, std::min(p, q)).repeat({1, q / std::min(p, q) + 1}).narrow(1, 0, q) +
                          at::randn({n, q}, gen, at::kFloat).to(at::kDouble))
                             .to(at::kFloat)
                             .to(at::kDouble);
    const auto [biased, debiased] = pythonCka(x, y);
    EXPECT_NEAR(fa::linearCka(x, y), biased, 1e-9) << n << "x" << p;
    EXPECT_NEAR(fa::linearCka(x, y, /*debiased=*/true), debiased, 1e-9) << n << "x" << p;
  }
}

TEST(LinearCka, DebiasedEstimatorRemovesTheHighDimensionalBias) {
  // Independent features with far more dimensions than examples: the biased estimator reads
  // them as nearly identical, the debiased one as unrelated (Nguyen et al. 2021, appendix).
  at::Generator gen = at::detail::createCPUGenerator(12);
  const at::Tensor x = at::randn({60, 4000}, gen, at::kDouble), y = at::randn({60, 4000}, gen, at::kDouble);
  EXPECT_GT(fa::linearCka(x, y), 0.95);
  EXPECT_LT(std::abs(fa::linearCka(x, y, true)), 0.15);
  EXPECT_NEAR(fa::linearCka(x, x, true), 1.0, 1e-12);
  EXPECT_THROW(fa::linearCka(x.narrow(0, 0, 3), y.narrow(0, 0, 3), true), fs::model::InputError);
}

TEST(CkaEstimator, AutoIsDebiasedForFewImagesAndNamesRoundTrip) {
  using fa::CkaEstimator;
  EXPECT_EQ(fa::resolveCkaEstimator(CkaEstimator::Auto, 2), CkaEstimator::Biased);  // debiased needs 4
  EXPECT_EQ(fa::resolveCkaEstimator(CkaEstimator::Auto, 4), CkaEstimator::Debiased);
  EXPECT_EQ(fa::resolveCkaEstimator(CkaEstimator::Auto, fa::kCkaDebiasedBelow - 1), CkaEstimator::Debiased);
  EXPECT_EQ(fa::resolveCkaEstimator(CkaEstimator::Auto, fa::kCkaDebiasedBelow), CkaEstimator::Biased);
  EXPECT_EQ(fa::resolveCkaEstimator(CkaEstimator::Biased, 10), CkaEstimator::Biased);
  EXPECT_THROW(fa::resolveCkaEstimator(CkaEstimator::Debiased, 3), fs::model::InputError);
  for (CkaEstimator e : {CkaEstimator::Auto, CkaEstimator::Biased, CkaEstimator::Debiased})
    EXPECT_EQ(fa::parseCkaEstimator(fa::ckaEstimatorName(e)), e);
  EXPECT_THROW(fa::parseCkaEstimator("unbiased"), fs::model::UsageError);
}

std::vector<at::Tensor> randomInputs(int n, int64_t size, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  std::vector<at::Tensor> out;
  for (int i = 0; i < n; ++i) out.push_back(at::randn({1, 3, size, size}, gen, at::kFloat));
  return out;
}

TEST(ComputeCka, SameModelGivesUnitDiagonalAndSymmetricMatrix) {
  fa::LoadedModel m = fa::loadModel(refDir("convmlp_tiny/config.json"), refDir("convmlp_tiny/weights.safetensors"), 0);
  const auto inputs = randomInputs(5, 64, 7);
  std::vector<double> seen;
  const fa::CkaMatrix r = fa::computeCka(m, m, inputs, inputs, [&](double f) { seen.push_back(f); });
  ASSERT_EQ(r.tapsA.size(), m.net->taps().size());
  ASSERT_EQ(r.cka.size(), r.tapsA.size());
  EXPECT_EQ(r.images, 5);
  for (size_t i = 0; i < r.cka.size(); ++i) {
    EXPECT_NEAR(r.cka[i][i], 1.0, 1e-9) << r.tapsA[i].name;
    for (size_t j = 0; j < r.cka.size(); ++j) EXPECT_NEAR(r.cka[i][j], r.cka[j][i], 1e-9);
  }
  ASSERT_FALSE(seen.empty());
  EXPECT_DOUBLE_EQ(seen.back(), 1.0);
}

TEST(ComputeCka, BlockwiseAccumulationEqualsOnePass) {
  fa::LoadedModel a = fa::loadModel(refDir("mixer_tiny/config.json"), refDir("mixer_tiny/weights.safetensors"), 0);
  fa::LoadedModel b = fa::loadModel(refDir("resmlp_tiny/config.json"), refDir("resmlp_tiny/weights.safetensors"), 0);
  const auto inputs = randomInputs(5, 64, 8);
  const fa::CkaMatrix one = fa::computeCka(a, b, inputs, inputs, {}, nullptr, fa::kCkaBlockBytes, fa::CkaEstimator::Biased);
  const fa::CkaMatrix blocks =
      fa::computeCka(a, b, inputs, inputs, {}, nullptr, /*maxBlockBytes=*/1, fa::CkaEstimator::Biased);
  EXPECT_EQ(one.estimator, fa::CkaEstimator::Biased);
  ASSERT_EQ(one.cka.size(), 3u);
  ASSERT_EQ(one.cka[0].size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) {
      EXPECT_NEAR(one.cka[i][j], blocks.cka[i][j], 1e-6);  // batch 5 vs 1: float32 forwards differ
      EXPECT_GE(one.cka[i][j], 0.0);
      EXPECT_LE(one.cka[i][j], 1.0);
    }
  // Two different models: their last blocks are not the same representation.
  EXPECT_LT(one.cka[2][2], 1.0 - 1e-6);
  // The default for 5 images is the debiased estimator, also blockwise, and each entry is the
  // debiased CKA of that pair of taps' flattened features.
  const fa::CkaMatrix d = fa::computeCka(a, b, inputs, inputs);
  const fa::CkaMatrix dBlocks = fa::computeCka(a, b, inputs, inputs, {}, nullptr, 1);
  EXPECT_EQ(d.estimator, fa::CkaEstimator::Debiased);
  std::vector<std::string> namesA, namesB;
  for (const auto& t : d.tapsA) namesA.push_back(t.name);
  for (const auto& t : d.tapsB) namesB.push_back(t.name);
  const auto ra = a.net->forward(at::cat(inputs), namesA), rb = b.net->forward(at::cat(inputs), namesB);
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) {
      EXPECT_NEAR(d.cka[i][j], dBlocks.cka[i][j], 1e-6);
      const double direct = fa::linearCka(ra.taps.at(namesA[i]).reshape({5, -1}), rb.taps.at(namesB[j]).reshape({5, -1}), true);
      EXPECT_NEAR(d.cka[i][j], direct, 1e-6) << namesA[i] << " " << namesB[j];
    }
}

TEST(ComputeCka, RefusesTooFewImagesAndStopsOnCancel) {
  fa::LoadedModel m = fa::loadModel(refDir("mixer_tiny/config.json"), "", 0);
  const auto inputs = randomInputs(3, 64, 9);
  EXPECT_THROW(fa::computeCka(m, m, {inputs[0]}, {inputs[0]}), fs::model::InputError);
  EXPECT_THROW(fa::computeCka(m, m, inputs, {inputs[0], inputs[1]}), fs::model::InputError);
  std::atomic<bool> cancel{true};
  EXPECT_TRUE(fa::computeCka(m, m, inputs, inputs, {}, &cancel).cancelled);
}

}  // namespace
