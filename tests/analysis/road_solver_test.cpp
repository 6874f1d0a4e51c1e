// ROAD's noisy linear imputation solves its sparse system by a band Cholesky factorisation where
// that is cheap (the demo models' 112-pixel inputs) and by conjugate gradients otherwise: both
// paths against scipy's sparse direct solve (tests/python/evaluation_reference.py impute).
#include "analysis/evaluation/faithfulness_metrics.h"
#include "evaluation_test_support.h"
#include "model/npy.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

namespace {
namespace fa = fs::analysis;

void expectScipy(int64_t channels, int64_t size, double fraction, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const at::Tensor img = at::rand({channels, size, size}, gen).to(at::kDouble);
  const at::Tensor removed = at::rand({size, size}, gen) < fraction;
  const at::Tensor mine = fa::noisyLinearImputation(img, removed, 0.0, 0);
  const std::string out = fs_test::evaluationScratch() + "/imputed_" + std::to_string(size) + ".npy";
  fs_test::pythonReference("impute", {img, removed.to(at::kFloat)}, {out});
  const at::Tensor ref = fs::model::readNpy(out).to(at::kDouble);
  EXPECT_LT((mine - ref).abs().max().item<double>(), 1e-6) << size << " px";
}

// 112 x 112, half removed: about 6,300 unknowns with a band of about 113, the direct path.
TEST(RoadSolver, BandCholeskyMatchesScipy) { expectScipy(3, 112, 0.5, 3); }

// 200 x 200, 60% removed: about 24,000 unknowns with a band of about 200, conjugate gradients.
TEST(RoadSolver, ConjugateGradientsMatchScipy) { expectScipy(1, 200, 0.6, 4); }

}  // namespace
