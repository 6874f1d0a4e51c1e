// Attention rollout (Abnar & Zuidema 2020) and gradient-weighted attention rollout (Chefer et al.
// 2021): the formulas on hand-made attention stacks, computed here entry by entry, and both
// methods on the vit_tiny / deit_tiny reference fixtures against an independent torch model in
// timm's layout (tests/python/attention_rollout_reference.py, which first checks its logits and
// attention against the fixture).
#include "analysis/saliency/attention_rollout.h"
#include "analysis/saliency/saliency_method.h"
#include "model/errors.h"
#include "tests/analysis/saliency_test_support.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <unistd.h>

namespace fa = fs::analysis;

namespace {

// A row-stochastic [heads,T,T] stack from a seeded generator.
at::Tensor randomAttention(at::Generator& gen, int64_t heads, int64_t t) {
  return at::softmax(2.0 * at::randn({heads, t, t}, gen, at::kDouble), -1);
}

// Plain loops: C = A B for [T,T] accessors.
at::Tensor product(const at::Tensor& a, const at::Tensor& b) {
  const int64_t t = a.size(0);
  at::Tensor c = at::zeros({t, t}, at::kDouble);
  auto A = a.accessor<double, 2>(), B = b.accessor<double, 2>();
  auto C = c.accessor<double, 2>();
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < t; ++j)
      for (int64_t k = 0; k < t; ++k) C[i][j] += A[i][k] * B[k][j];
  return c;
}

}  // namespace

TEST(AttentionRollout, TwoBlocksOfThreeTokensByHand) {
  // Block 1: one head, token 0 attends to token 1 only; block 2: token 0 to token 2 only; the
  // others attend to themselves. A' = 0.5 A + 0.5 I: block 1 row 0 = (0.5, 0.5, 0), block 2 row 0
  // = (0.5, 0, 0.5), the other rows unit vectors. R = A'_2 A'_1, row 0 = 0.5 (0.5,0.5,0) + 0.5 (0,0,1).
  at::Tensor a1 = at::eye(3, at::kDouble).unsqueeze(0).clone(), a2 = a1.clone();
  a1[0][0].zero_(), a1[0][0][1] = 1.0;
  a2[0][0].zero_(), a2[0][0][2] = 1.0;
  const at::Tensor r = fa::attentionRollout({a1, a2});
  const at::Tensor expected = at::tensor({0.25, 0.25, 0.5}, at::kDouble);
  EXPECT_TRUE(at::allclose(r[0], expected, 0, 1e-15)) << r;
  EXPECT_TRUE(at::allclose(r[1], at::tensor({0.0, 1.0, 0.0}, at::kDouble), 0, 1e-15)) << r;
  // The class token's row over two patch tokens as a 1x2 map.
  EXPECT_TRUE(at::allclose(fa::tokenRowMap(r, 0, 1, 1, 2), at::tensor({0.25f, 0.5f}).view({1, 2}))) << r;
  // Uniform attention everywhere: every row of R is the mean of 0.5 I + 0.5/T, rolled: rows sum to one.
  const at::Tensor uniform = at::full({2, 4, 4}, 0.25, at::kDouble);
  const at::Tensor ru = fa::attentionRollout({uniform, uniform, uniform});
  EXPECT_TRUE(at::allclose(ru.sum(-1), at::ones({4}, at::kDouble)));
}

TEST(AttentionRollout, RandomStackEqualsTheFormulaEntryByEntry) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  const int64_t heads = 3, t = 5;
  std::vector<at::Tensor> stack, grads;
  for (int l = 0; l < 4; ++l) stack.push_back(randomAttention(gen, heads, t)), grads.push_back(at::randn({heads, t, t}, gen, at::kDouble));
  // Abnar & Zuidema: A' = 0.5 mean_h A + 0.5 I, rows renormalised, R = A'_4 A'_3 A'_2 A'_1.
  at::Tensor rollout = at::eye(t, at::kDouble);
  // Chefer et al.: Ā = mean_h max(0, ∇A ⊙ A), R = R + Ā R from R = I.
  at::Tensor relevance = at::eye(t, at::kDouble);
  for (int l = 0; l < 4; ++l) {
    at::Tensor fused = at::zeros({t, t}, at::kDouble), weighted = at::zeros({t, t}, at::kDouble);
    auto A = stack[l].accessor<double, 3>(), G = grads[l].accessor<double, 3>();
    auto F = fused.accessor<double, 2>(), W = weighted.accessor<double, 2>();
    for (int64_t i = 0; i < t; ++i) {
      double rowSum = 0;
      for (int64_t j = 0; j < t; ++j) {
        for (int64_t h = 0; h < heads; ++h) {
          F[i][j] += 0.5 * A[h][i][j] / heads;
          W[i][j] += std::max(0.0, G[h][i][j] * A[h][i][j]) / heads;
        }
        F[i][j] += i == j ? 0.5 : 0.0;
        rowSum += F[i][j];
      }
      for (int64_t j = 0; j < t; ++j) F[i][j] /= rowSum;
    }
    rollout = product(fused, rollout);
    relevance = relevance + product(weighted, relevance);
  }
  EXPECT_TRUE(at::allclose(fa::attentionRollout(stack), rollout, 1e-12, 1e-14));
  EXPECT_TRUE(at::allclose(fa::gradientAttentionRollout(stack, grads), relevance, 1e-12, 1e-14));
  // Negative evidence only: the weighted attention is zero, R stays the identity.
  std::vector<at::Tensor> negative;
  for (const auto& a : stack) negative.push_back(-at::ones_like(a));
  EXPECT_TRUE(at::equal(fa::gradientAttentionRollout(stack, negative), at::eye(t, at::kDouble)));
}

TEST(AttentionRollout, InconsistentStacksAreRefused) {
  EXPECT_THROW(fa::attentionRollout({}), fs::model::InputError);
  EXPECT_THROW(fa::attentionRollout({at::ones({2, 3, 3}), at::ones({2, 4, 4})}), fs::model::InputError);
  EXPECT_THROW(fa::attentionRollout({at::ones({3, 3})}), fs::model::InputError);
  EXPECT_THROW(fa::gradientAttentionRollout({at::ones({2, 3, 3})}, {}), fs::model::InputError);
  EXPECT_THROW(fa::gradientAttentionRollout({at::ones({2, 3, 3})}, {at::ones({1, 3, 3})}), fs::model::InputError);
  EXPECT_THROW(fa::tokenRowMap(at::eye(5, at::kDouble), 0, 1, 2, 3), fs::model::InputError);
}

namespace {

// Runs the Python reference on a fixture; returns {rollout, grad_rollout} as float64 [h,w].
std::pair<at::Tensor, at::Tensor> pythonRollouts(const std::string& fixture) {
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data/rollout_" + fixture + "_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string cmd = std::string(FS_PYTHON) + " " + FS_SOURCE_DIR + "/tests/python/attention_rollout_reference.py " +
                          fs::test::refDir(fixture) + " " + dir;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  char buf[256] = {};
  const std::string out = std::fgets(buf, sizeof buf, pipe) ? buf : "";
  if (::pclose(pipe) != 0 || out.rfind("ok", 0) != 0) throw std::runtime_error("Python reference failed: " + cmd);
  std::pair<at::Tensor, at::Tensor> r{fs::model::readNpy(dir + "/rollout.npy"), fs::model::readNpy(dir + "/grad_rollout.npy")};
  std::filesystem::remove_all(dir);
  return r;
}

void expectWithinFixtureTolerance(const at::Tensor& ours, const at::Tensor& ref, const std::string& what) {
  ASSERT_EQ(ours.sizes(), ref.sizes()) << what;
  const at::Tensor r = ref.to(at::kDouble), o = ours.to(at::kDouble);
  const double excess = ((o - r).abs() - (1e-4 + 1e-4 * r.abs())).max().item<double>();
  EXPECT_LE(excess, 0.0) << what << ": max |ours - ref| = " << (o - r).abs().max().item<double>();
}

}  // namespace

TEST(AttentionRollout, BothMethodsMatchTimmLayoutTorchOnTheFixtures) {
  for (const std::string fixture : {"vit_tiny", "deit_tiny"}) {
    fa::LoadedModel m = fs::test::fixtureModel(fixture);
    const at::Tensor x = fs::test::fixtureInput(fixture);
    const auto cfg = fs::test::fixtureConfig(fixture);
    const int grid = cfg["img_size"].get<int>() / cfg["patch_size"].get<int>();
    const auto [rollout, gradRollout] = pythonRollouts(fixture);
    fa::SaliencyOptions o;
    o.target = cfg["target_class"].get<int>();
    const fa::SaliencyResult r = fa::makeSaliencyMethod("attention_rollout")->compute(m, x, o);
    const fa::SaliencyResult g = fa::makeSaliencyMethod("gradient_rollout")->compute(m, x, o);
    EXPECT_EQ(r.map.sizes().vec(), (std::vector<int64_t>{grid, grid})) << fixture;
    expectWithinFixtureTolerance(r.map, rollout, fixture + " rollout");
    expectWithinFixtureTolerance(g.map, gradRollout, fixture + " gradient rollout");
    EXPECT_TRUE(at::equal(r.map2d, r.map)) << fixture;
    EXPECT_TRUE(r.inputAttribution && r.tap.empty()) << fixture;
    EXPECT_GT(g.map.abs().max().item<double>(), 0.0) << fixture << ": the gradient reaches the attention";
    // Without an explicit target both report the top-1 class, which the fixture's target is.
    EXPECT_EQ(fa::makeSaliencyMethod("gradient_rollout")->compute(m, x, {}).target, o.target) << fixture;
    EXPECT_EQ(fa::makeSaliencyMethod("attention_rollout")->compute(m, x, {}).target, o.target) << fixture;
  }
}

TEST(AttentionRollout, ModelsWithoutAttentionAreRefusedByName) {
  for (const std::string fixture : {"convmlp_tiny", "swin_tiny", "convnext_tiny"}) {
    fa::LoadedModel m = fs::test::fixtureModel(fixture);
    const at::Tensor x = fs::test::fixtureInput(fixture);
    for (const std::string method : {"attention_rollout", "gradient_rollout"}) {
      try {
        fa::makeSaliencyMethod(method)->compute(m, x, {});
        ADD_FAILURE() << method << " accepted " << fixture;
      } catch (const fs::model::InputError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(m.config.id), std::string::npos) << what;
        EXPECT_NE(what.find(method), std::string::npos) << what;
        EXPECT_NE(what.find("ViT and DeiT"), std::string::npos) << what;
      }
    }
  }
}
