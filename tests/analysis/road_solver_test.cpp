// ROAD's noisy linear imputation solves its sparse system by a nested-dissection Cholesky
// factorisation (conjugate gradients for images too large for its memory): against scipy's sparse
// direct solve (tests/python/evaluation_reference.py impute), and the two solvers against each other.
#include "analysis/evaluation/faithfulness_metrics.h"
#include "analysis/evaluation/dense_fronts.h"
#include "analysis/evaluation/imputation_solver.h"
#include "evaluation_test_support.h"
#include "model/npy.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace {
namespace fa = fs::analysis;

void expectScipy(int64_t channels, int64_t size, double fraction, uint64_t seed, int64_t width = 0) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  if (width == 0) width = size;
  const at::Tensor img = at::rand({channels, size, width}, gen).to(at::kDouble);
  const at::Tensor removed = at::rand({size, width}, gen) < fraction;
  const at::Tensor mine = fa::noisyLinearImputation(img, removed, 0.0, 0);
  const std::string out = fs_test::evaluationScratch() + "/imputed_" + std::to_string(size) + "x" + std::to_string(width) + ".npy";
  fs_test::pythonReference("impute", {img, removed.to(at::kFloat)}, {out});
  const at::Tensor ref = fs::model::readNpy(out).to(at::kDouble);
  EXPECT_LT((mine - ref).abs().max().item<double>(), 1e-6) << size << "x" << width << " px, " << fraction;
}

// 112 x 112 (the demo models' input), half removed: about 6,300 unknowns on three channels.
TEST(RoadSolver, NestedDissectionMatchesScipy) { expectScipy(3, 112, 0.5, 3); }

// Nearly everything removed (one giant region), little removed, and odd, non-square sizes whose
// dissection leaves rectangles of one row or column.
TEST(RoadSolver, NestedDissectionMatchesScipyOnEveryShape) {
  expectScipy(1, 64, 0.97, 5);
  expectScipy(2, 37, 0.1, 6, 53);
  expectScipy(1, 3, 0.5, 7, 41);
  expectScipy(1, 200, 0.6, 4);
}

// A ranked removal (ROAD's case: one connected block of the most relevant pixels) on 224 x 224.
TEST(RoadSolver, NestedDissectionMatchesConjugateGradients) {
  const int64_t h = 224, w = 224;
  at::Generator gen = at::detail::createCPUGenerator(9);
  const at::Tensor v = at::rand({h, w}, gen).to(at::kDouble).contiguous();
  const at::Tensor yy = at::arange(h, at::kDouble).view({h, 1}), xx = at::arange(w, at::kDouble).view({1, w});
  const at::Tensor removed = ((yy - 90).pow(2) + (xx - 120).pow(2) < 70 * 70).contiguous();
  const fa::imputation::System s = fa::imputation::buildSystem(removed.data_ptr<bool>(), h, w);
  ASSERT_GT(s.pixels.size(), 10000u);
  fa::imputation::NestedDissection nd;
  ASSERT_TRUE(nd.factorise(s));
  const std::vector<double> b = fa::imputation::rightHandSide(s, v.data_ptr<double>());
  const std::vector<double> direct = nd.solve(b), cg = fa::imputation::conjugateGradients(s, b);
  double worst = 0;
  for (size_t i = 0; i < b.size(); ++i) worst = std::max(worst, std::abs(direct[i] - cg[i]));
  EXPECT_LT(worst, 1e-6);
}

// A grey image normalised per channel: channels 1 and 2 are affine images of channel 0 and are
// imputed as such; each equals its own channel imputed alone.
TEST(RoadSolver, AffineChannelsEqualTheirOwnImputation) {
  at::Generator gen = at::detail::createCPUGenerator(11);
  const at::Tensor grey = at::rand({1, 56, 56}, gen).to(at::kDouble);
  const at::Tensor img = at::cat({(grey - 0.485) / 0.229, (grey - 0.456) / 0.224, (grey - 0.406) / 0.225}).to(at::kFloat);
  const at::Tensor removed = at::rand({56, 56}, gen) < 0.7;
  const at::Tensor all = fa::noisyLinearImputation(img, removed, 0.0, 0);
  for (int64_t c = 0; c < 3; ++c) {
    const at::Tensor alone = fa::noisyLinearImputation(img.narrow(0, c, 1), removed, 0.0, 0);
    EXPECT_LT((all.narrow(0, c, 1) - alone).abs().max().item<double>(), 1e-5) << c;
  }
  // A channel that is not affine in the first is solved on its own.
  const at::Tensor mixed = at::cat({img.narrow(0, 0, 1), at::rand({1, 56, 56}, gen)});
  const at::Tensor both = fa::noisyLinearImputation(mixed, removed, 0.0, 0);
  EXPECT_LT((both.narrow(0, 1, 1) - fa::noisyLinearImputation(mixed.narrow(0, 1, 1), removed, 0.0, 0)).abs().max().item<double>(), 1e-6);
}

// The dense kernels run for x86-64-v3 exactly when the CPU has its features, whatever its maker
// or model (GCC's target_clones("arch=haswell") ran the baseline on every CPU but an Intel
// Haswell): /proc/cpuinfo read independently of the CPUID check the solver makes.
TEST(RoadSolver, DenseKernelsUseAvx2AndFmaWhereverTheCpuHasThem) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0) {
      flags = line + " ";
      break;
    }
  ASSERT_FALSE(flags.empty()) << "no flags line in /proc/cpuinfo";
  bool v3 = true;
  // x86-64-v3 also has LZCNT ("abm"), left out here: some hypervisors drop "abm" from the kernel's
  // flags while CPUID reports it, and every CPU with AVX2, BMI1 and BMI2 has it.
  for (const char* f : {"avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "xsave"})
    v3 = v3 && flags.find(std::string(" ") + f + " ") != std::string::npos;
  EXPECT_STREQ(fa::imputation::kernelIsa(), v3 ? "x86-64-v3" : "baseline") << flags;
}

// One System and one factor reused from system to system (as each lane of a ROAD curve keeps
// them) give every solution of fresh ones to the bit, whatever they held before: ROAD's nested
// masks from 90% down to 10% (smaller after larger), a singular system between them, then
// another image size and shape.
TEST(RoadSolver, AReusedFactorEqualsAFreshOneToTheBit) {
  at::Generator gen = at::detail::createCPUGenerator(13);
  fa::imputation::System kept;
  fa::imputation::NestedDissection keptFactor;
  const auto expectSame = [&](const at::Tensor& removed, const at::Tensor& v, const std::string& what) {
    const int64_t h = removed.size(0), w = removed.size(1);
    const fa::imputation::System fresh = fa::imputation::buildSystem(removed.data_ptr<bool>(), h, w);
    fa::imputation::buildSystem(removed.data_ptr<bool>(), h, w, kept);
    ASSERT_EQ(kept.pixels, fresh.pixels) << what;
    fa::imputation::NestedDissection freshFactor;
    const bool ok = freshFactor.factorise(fresh);
    ASSERT_EQ(keptFactor.factorise(kept), ok) << what;
    if (!ok) return;
    const std::vector<double> a = freshFactor.solve(fa::imputation::rightHandSide(fresh, v.data_ptr<double>()));
    const std::vector<double> b = keptFactor.solve(fa::imputation::rightHandSide(kept, v.data_ptr<double>()));
    ASSERT_EQ(a.size(), b.size()) << what;
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << what << ", unknown " << i;
  };
  const at::Tensor map = at::rand({96, 96}, gen), v = at::rand({96, 96}, gen).to(at::kDouble).contiguous();
  const at::Tensor order = std::get<1>(at::sort(map.reshape({-1}), true, 0, true));
  for (int percent = 90; percent >= 10; percent -= 40) {
    at::Tensor removed = at::zeros({96 * 96}, at::kBool);
    removed.index_fill_(0, order.narrow(0, 0, 96 * 96 * percent / 100), true);
    expectSame(removed.view({96, 96}).contiguous(), v, std::to_string(percent) + "% of 96 x 96");
  }
  expectSame(at::ones({96, 96}, at::kBool), v, "everything removed");
  const at::Tensor small = (at::rand({37, 53}, gen) < 0.6).contiguous();
  expectSame(small, at::rand({37, 53}, gen).to(at::kDouble).contiguous(), "60% of 37 x 53");
}

// With no pixel known the system is singular: the factorisation says so.
TEST(RoadSolver, SingularSystemIsRefused) {
  const std::vector<char> all(25, 1);
  const fa::imputation::System s = fa::imputation::buildSystem(reinterpret_cast<const bool*>(all.data()), 5, 5);
  fa::imputation::NestedDissection nd;
  EXPECT_FALSE(nd.factorise(s));
}

}  // namespace
