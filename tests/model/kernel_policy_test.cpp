// The inference path never runs one of oneDNN's reference kernels: every registered model at batch
// 1, each family's smallest and largest at batch 16 (variantsToCheck), the implementations it
// executed (read from the primitive descriptors as each primitive is created, counted per
// execution). Run by ctest under the CPU's own ISA and again under ONEDNN_MAX_CPU_ISA=AVX2
// (tests/CMakeLists.txt: kernels_*), where ConvMLP's fused 1x1 convolutions used to get "ref:any".
// The fallbacks it takes are checked against ATen.
#include "model/fast_inference.h"
#include "model/kernel_policy.h"
#include "model/registry.h"
#include "test_support.h"

#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fs::model {
namespace {

std::string describe(const std::vector<KernelUse>& uses) {
  std::ostringstream out;
  for (const auto& u : uses) out << "  " << u.kind << " " << u.impl << " x" << u.calls << "\n";
  return out.str();
}

// Forward at `batch` on the inference path; returns what it executed.
std::vector<KernelUse> kernelsOfForward(const Variant& v, int64_t batch) {
  Classifier net = buildModel(v.config, 1);
  net->prepareForInference();
  const auto& in = v.config.input;
  const at::Tensor x = at::randn({batch, 3, in.height, in.width});
  resetKernelUses();
  c10::InferenceMode guard;
  const at::Tensor logits = net->forward(x, {}).logits;
  EXPECT_TRUE(logits.isfinite().all().item<bool>()) << v.config.id;
  return kernelUses();
}

// The variants a batch checks. Batch 1: every registered one. Larger batches: of a family's
// published sizes only the smallest and the largest (those between run the same layer kinds at
// shapes in between), and the demo models.
std::vector<const Variant*> variantsToCheck(int64_t batch) {
  std::vector<const Variant*> out;
  for (const Variant& v : registeredVariants()) {
    bool between = false;
    if (batch > 1 && v.expectedGMacs > 0) {
      bool smaller = false, larger = false;
      for (const Variant& o : registeredVariants())
        if (o.config.family == v.config.family && o.expectedGMacs > 0)
          smaller = smaller || o.expectedGMacs < v.expectedGMacs, larger = larger || o.expectedGMacs > v.expectedGMacs;
      between = smaller && larger;
    }
    if (!between) out.push_back(&v);
  }
  return out;
}

class NoReferenceKernels : public ::testing::TestWithParam<int64_t> {};

TEST_P(NoReferenceKernels, ForEveryRegisteredModel) {
  const int64_t batch = GetParam();
  const std::string only = std::getenv("FS_KERNEL_TEST_MODELS") ? std::getenv("FS_KERNEL_TEST_MODELS") : "";
  int checked = 0;
  for (const Variant* variant : variantsToCheck(batch)) {
    const Variant& v = *variant;
    if (!only.empty() && (" " + only + " ").find(" " + v.config.id + " ") == std::string::npos) continue;
    const auto uses = kernelsOfForward(v, batch);
    bool onednn = false;
    for (const auto& u : uses) {
      EXPECT_FALSE(isSlowImplementation(u.impl))
          << v.config.id << " at batch " << batch << " ran " << u.kind << " " << u.impl << " (ISA " << onednnIsa()
          << ")\n"
          << describe(uses);
      onednn = onednn || u.kind == "convolution";
    }
    // Every family has at least one convolution (stem, patch projection or tokenizer) on oneDNN.
    EXPECT_TRUE(onednn) << v.config.id << " recorded no oneDNN convolution:\n" << describe(uses);
    ++checked;
  }
  EXPECT_GT(checked, 0);
  std::cout << "[ kernels  ] batch " << batch << ", ISA " << onednnIsa() << ", matmuls on "
            << backendName(matmulBackend()) << ", " << checked << " models\n";
}

INSTANTIATE_TEST_SUITE_P(Batches, NoReferenceKernels, ::testing::Values(1, 16));

TEST(KernelPolicy, ReferenceImplementationsAreRecognised) {
  EXPECT_TRUE(isSlowImplementation("ref:any"));
  EXPECT_TRUE(isSlowImplementation("ref_int8:any"));
  EXPECT_TRUE(isSlowImplementation("gemm:ref"));
  EXPECT_FALSE(isSlowImplementation("jit:avx2"));
  EXPECT_FALSE(isSlowImplementation("jit_1x1:avx512_core"));
  EXPECT_FALSE(isSlowImplementation("brg:avx512_core"));
  EXPECT_FALSE(isSlowImplementation("gemm:jit"));
}

TEST(KernelPolicy, MatmulBackendIsTheOverrideOrTheCachedCalibration) {
  const MatmulBackend chosen = matmulBackend();
  if (const char* forced = std::getenv("FEATURESCOPE_MATMUL")) {
    EXPECT_EQ(backendName(chosen), std::string(forced));
    return;
  }
  std::ifstream in(calibrationFile());
  ASSERT_TRUE(in) << calibrationFile();
  const auto all = nlohmann::json::parse(in);
  ASSERT_TRUE(all.contains(calibrationKey())) << calibrationKey();
  const auto& entry = all[calibrationKey()];
  EXPECT_EQ(entry["backend"].get<std::string>(), backendName(chosen));
  EXPECT_GT(entry["onednn_ms"].get<double>(), 0.0);
  EXPECT_GT(entry["blas_ms"].get<double>(), 0.0);
  EXPECT_EQ(chosen, entry["blas_ms"].get<double>() < entry["onednn_ms"].get<double>() ? MatmulBackend::Blas
                                                                                    : MatmulBackend::OneDnn);
}

// Both backends compute x W^T + b, with GELU or the residual fused, as ATen does.
TEST(KernelPolicy, BothMatmulBackendsEqualAten) {
  torch::NoGradGuard noGrad;
  at::Tensor w = at::randn({48, 40}), b = at::randn({48});
  const at::Tensor x = at::randn({2, 7, 40}), residual = at::randn({2, 7, 48});
  const at::Tensor plain = at::linear(x, w, b);
  storeForMatmul(w);
  for (bool blas : {false, true}) {
    PackedLinear fc;
    fc.pack(w, b, blas);
    const double tol = 1e-5 * plain.abs().max().item<double>();
    EXPECT_TRUE(fs::test::closeToRef(fc.run(x), plain, tol, 1e-5)) << blas;
    EXPECT_TRUE(fs::test::closeToRef(fc.run(x, MatmulOp::Gelu), at::gelu(plain), tol, 1e-5)) << blas;
    EXPECT_TRUE(fs::test::closeToRef(fc.run(x, MatmulOp::Add, residual.clone()), plain + residual, tol, 1e-5)) << blas;
    PackedTokenMix mix;
    const at::Tensor tw = at::randn({5, 7}), tb = at::randn({5});
    mix.pack(tw, tb, blas);
    const at::Tensor expected = at::matmul(tw, x) + tb.view({1, 5, 1});
    EXPECT_TRUE(fs::test::closeToRef(mix.run(x), expected, 1e-4, 1e-5)) << blas;
    EXPECT_TRUE(fs::test::closeToRef(mix.run(x, MatmulOp::Gelu), at::gelu(expected), 1e-4, 1e-5)) << blas;
    const at::Tensor addend = at::randn({2, 5, 40});
    EXPECT_TRUE(fs::test::closeToRef(mix.run(x, MatmulOp::Add, addend.clone()), expected + addend, 1e-4, 1e-5)) << blas;
    // The gradient pass through frozen weights: W^T times the output's gradient.
    {
      at::AutoGradMode grad(true);
      ASSERT_TRUE(mix.differentiable()) << blas;
      const at::Tensor xg = x.clone().requires_grad_(true), gy = at::randn({2, 5, 40});
      const at::Tensor y = mix.runDifferentiable(xg);
      EXPECT_TRUE(fs::test::closeToRef(y, expected, 1e-4, 1e-5)) << blas;
      const at::Tensor gx = torch::autograd::grad({y}, {xg}, {gy})[0];
      EXPECT_TRUE(fs::test::closeToRef(gx, at::matmul(tw.t(), gy), 1e-4, 1e-5)) << blas;
      PackedTokenMix trained;
      trained.pack(tw.clone().requires_grad_(true), tb, blas);
      EXPECT_FALSE(trained.differentiable()) << blas;
    }
    // Each batch size has its own primitive over the whole batch: every image mixed, none skipped.
    for (int64_t batch : {3, 1, 2}) {
      const at::Tensor xb = at::randn({batch, 7, 40});
      const at::Tensor eb = at::matmul(tw, xb) + tb.view({1, 5, 1});
      EXPECT_TRUE(fs::test::closeToRef(mix.run(xb), eb, 1e-4, 1e-5)) << blas << " batch " << batch;
    }
  }
}

}  // namespace
}  // namespace fs::model
