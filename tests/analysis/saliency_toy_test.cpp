// Saliency methods on a toy classifier whose answers are known in closed form: the logits are a
// fixed linear function of the input, logit_k = sum W_k * x + b_k, and the only tap is the input.
#include "analysis/saliency/saliency_method.h"
#include "model/classifier.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace fs::analysis {
namespace {

constexpr int kSize = 16;

class LinearToy : public fs::model::ClassifierImpl {
 public:
  LinearToy(at::Tensor weight, at::Tensor bias) : weight_(std::move(weight)), bias_(std::move(bias)) {}
  std::vector<fs::model::TapInfo> taps() const override { return {{"input", 3, kSize, kSize, 1}}; }
  std::vector<std::string> stages() const override { return {"input"}; }
  fs::model::ForwardResult forward(const at::Tensor& x, const std::vector<std::string>& tapNames) override {
    fs::model::TapSink sink(tapNames);
    const at::Tensor t = sink.nchw("input", x * 1.0);
    return {at::einsum("bchw,kchw->bk", {t, weight_}) + bias_, sink.take()};
  }

 private:
  at::Tensor weight_, bias_;
};

LoadedModel toyModel(const at::Tensor& weight, const at::Tensor& bias) {
  LoadedModel m;
  m.config.id = "linear_toy";
  m.config.numClasses = static_cast<int>(weight.size(0));
  m.config.input.height = m.config.input.width = kSize;
  m.net = std::make_shared<LinearToy>(weight, bias);
  for (int k = 0; k < m.config.numClasses; ++k) m.labels.push_back("class " + std::to_string(k));
  return m;
}

std::vector<int64_t> starts(int64_t size, int64_t window, int64_t stride) {
  std::vector<int64_t> s;
  for (int64_t p = 0; p + window <= size; p += stride) s.push_back(p);
  if (s.back() + window < size) s.push_back(size - window);
  return s;
}

// Occlusion by hand: each window's drop is sum over the window of W_t * x; pixels average the
// drops of the windows that cover them.
at::Tensor expectedOcclusion(const at::Tensor& w, const at::Tensor& x, int window, int stride) {
  const at::Tensor contrib = (w * x[0]).sum(0).to(at::kDouble);  // [H,W]
  at::Tensor sum = at::zeros({kSize, kSize}, at::kDouble), count = at::zeros({kSize, kSize}, at::kDouble);
  for (int64_t y : starts(kSize, window, stride))
    for (int64_t x0 : starts(kSize, window, stride)) {
      const double drop = contrib.slice(0, y, y + window).slice(1, x0, x0 + window).sum().item<double>();
      sum.slice(0, y, y + window).slice(1, x0, x0 + window) += drop;
      count.slice(0, y, y + window).slice(1, x0, x0 + window) += 1;
    }
  return (sum / count).to(at::kFloat);
}

TEST(SaliencyToy, OcclusionIsTheWindowedLinearContribution) {
  at::manual_seed(3);
  const at::Tensor weight = at::randn({4, 3, kSize, kSize}), x = at::randn({1, 3, kSize, kSize});
  LoadedModel m = toyModel(weight, at::randn({4}));
  for (auto [window, stride] : {std::pair{4, 4}, std::pair{6, 4}, std::pair{5, 3}}) {
    SaliencyOptions o;
    o.target = 2, o.window = window, o.stride = stride, o.batchSize = 5;
    const SaliencyResult r = makeSaliencyMethod("occlusion")->compute(m, x, o);
    ASSERT_EQ(r.map.sizes(), (at::IntArrayRef{kSize, kSize}));
    EXPECT_TRUE(at::allclose(r.map, expectedOcclusion(weight[2], x, window, stride), 1e-4, 1e-4))
        << "window " << window << " stride " << stride;
  }
}

// Windows that do not touch would leave pixels between them without a score: refused.
TEST(SaliencyToy, OcclusionRefusesAStrideLargerThanTheWindow) {
  at::manual_seed(3);
  LoadedModel m = toyModel(at::randn({4, 3, kSize, kSize}), at::randn({4}));
  SaliencyOptions o;
  o.window = 4, o.stride = 5;
  try {
    makeSaliencyMethod("occlusion")->compute(m, at::randn({1, 3, kSize, kSize}), o);
    FAIL() << "stride 5 > window 4 was accepted";
  } catch (const fs::model::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("stride 5"), std::string::npos) << e.what();
  }
}

// Score-CAM with indicator channels on disjoint regions R_k: the mask of channel k is exactly
// 1_{R_k}, the masked input keeps only channel k on R_k, so with W_0 = w_c per channel and
// W_1 = 0 the target-0 softmax score is sigmoid(w_k |R_k|) and map = sum_k sigmoid(w_k |R_k|) 1_{R_k}.
TEST(SaliencyToy, ScoreCamOnIndicatorChannels) {
  const double w[3] = {0.02, -0.05, 0.1};
  at::Tensor weight = at::zeros({2, 3, kSize, kSize});
  for (int c = 0; c < 3; ++c) weight[0][c].fill_(w[c]);
  at::Tensor x = at::zeros({1, 3, kSize, kSize});
  x[0][0].slice(0, 0, 4).fill_(1.0);                      // R_0: rows 0-3, 64 px
  x[0][1].slice(0, 4, 6).fill_(1.0);                      // R_1: rows 4-5, 32 px
  x[0][2].slice(0, 8, 16).slice(1, 0, 2).fill_(1.0);      // R_2: 8 x 2, 16 px
  LoadedModel m = toyModel(weight, at::zeros({2}));
  SaliencyOptions o;
  o.target = 0, o.batchSize = 2;
  const SaliencyResult r = makeSaliencyMethod("scorecam")->compute(m, x, o);
  const double area[3] = {64, 32, 16};
  at::Tensor expected = at::zeros({kSize, kSize});
  for (int k = 0; k < 3; ++k) expected += x[0][k] / (1.0 + std::exp(-w[k] * area[k]));
  EXPECT_EQ(r.tap, "input");
  EXPECT_TRUE(at::allclose(r.map, expected, 1e-5, 1e-6)) << r.map << expected;
}

TEST(SaliencyToy, GradientMethodsOfALinearModel) {
  at::manual_seed(5);
  const at::Tensor weight = at::randn({3, 3, kSize, kSize}), x = at::randn({1, 3, kSize, kSize});
  LoadedModel m = toyModel(weight, at::randn({3}));
  SaliencyOptions o;
  o.target = 1, o.samples = 6, o.steps = 7, o.batchSize = 4;
  const at::Tensor w1 = weight[1].unsqueeze(0);
  EXPECT_TRUE(at::allclose(makeSaliencyMethod("gradient")->compute(m, x, o).map, w1));
  EXPECT_TRUE(at::allclose(makeSaliencyMethod("smoothgrad")->compute(m, x, o).map, w1, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(makeSaliencyMethod("gradxinput")->compute(m, x, o).map, w1 * x));
  EXPECT_TRUE(at::allclose(makeSaliencyMethod("integrated_gradients")->compute(m, x, o).map, w1 * x, 1e-5, 1e-6));
  // Tap = input: HiResCAM is sum_c W_t * x, Grad-CAM sum_c mean_hw(W_t) * x.
  EXPECT_TRUE(at::allclose(makeSaliencyMethod("hirescam")->compute(m, x, o).map, (w1 * x)[0].sum(0), 1e-5, 1e-5));
  const at::Tensor gc = (weight[1].mean({1, 2}, true) * x[0]).sum(0);
  EXPECT_TRUE(at::allclose(makeSaliencyMethod("gradcam")->compute(m, x, o).map, gc, 1e-5, 1e-5));
}

// RISE (Petsiuk et al. 2018, eq. 6): S = sum_i P(x ⊙ M_i) M_i / (N p). A model that ignores its
// input has P constant, and E[M_i] = p at every pixel, so the map is P everywhere up to the
// Monte-Carlo error of N masks (std of a mask value <= 0.5: ~1.6% of p for N = 4000).
TEST(SaliencyToy, RiseOfAConstantModelIsItsProbabilityEverywhere) {
  const at::Tensor bias = at::tensor({0.3f, -0.2f, 1.1f});
  LoadedModel m = toyModel(at::zeros({3, 3, kSize, kSize}), bias);
  const at::Tensor x = at::rand({1, 3, kSize, kSize});
  SaliencyOptions o;
  o.target = 2;
  const SaliencyResult r = makeSaliencyMethod("rise")->compute(m, x, o);
  const double p = at::softmax(bias, 0)[2].item<double>();
  ASSERT_EQ(r.map.sizes(), (at::IntArrayRef{kSize, kSize}));
  EXPECT_NEAR(r.map.mean().item<double>(), p, 0.02 * p);
  EXPECT_LT((r.map - p).abs().max().item<double>(), 0.1 * p);
  // Seeded: the same masks for the same seed, other masks for another.
  EXPECT_TRUE(at::equal(makeSaliencyMethod("rise")->compute(m, x, o).map, r.map));
  o.seed = 1;
  EXPECT_FALSE(at::equal(makeSaliencyMethod("rise")->compute(m, x, o).map, r.map));
}

// Evidence only in the left half (positive weights there, none on the right): keeping the left
// half raises the target's probability, so RISE ranks the left half above the right.
TEST(SaliencyToy, RiseFindsTheHalfThatHoldsTheEvidence) {
  // logit_0 = 4 (f - 1/2) with f the kept fraction of the left half: P_0 = sigmoid of it, far
  // from saturation.
  const double pixels = 3.0 * kSize * (kSize / 2);
  at::Tensor weight = at::zeros({2, 3, kSize, kSize});
  weight[0].narrow(2, 0, kSize / 2).fill_(float(4.0 / pixels));
  LoadedModel m = toyModel(weight, at::tensor({-2.0f, 0.0f}));
  const at::Tensor x = at::ones({1, 3, kSize, kSize});
  SaliencyOptions o;
  o.target = 0;
  setParameterValue(o, "masks", 2000);
  setParameterValue(o, "cells", 4);
  const at::Tensor map = makeSaliencyMethod("rise")->compute(m, x, o).map;
  const double left = map.narrow(1, 0, kSize / 4).mean().item<double>();
  const double right = map.narrow(1, 3 * kSize / 4, kSize / 4).mean().item<double>();
  EXPECT_GT(left, right * 1.05) << map.mean(0);  // measured: 0.557 vs 0.490
  EXPECT_THROW(setParameterValue(o, "keep", 0.0), fs::model::InputError);  // outside (0.01, 1]
}

}  // namespace
}  // namespace fs::analysis
