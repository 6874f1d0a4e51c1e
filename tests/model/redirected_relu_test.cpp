// Lucid's redirected ReLU gradient (model/redirected_relu.h) against its definition worked by hand,
// and applyPostOp using it only while a RedirectedReluGradient lives.
#include "model/fast_inference.h"
#include "model/redirected_relu.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace fs::model {
namespace {

// Sample 0 has a positive input (its ReLU gradient gets through); sample 1 is silent everywhere.
at::Tensor inputs() { return at::tensor({1.f, -2.f, -1.f, -3.f, -0.5f, -4.f}).view({2, 3}).requires_grad_(true); }
// dLoss/dy: positive entries would push a negative input lower.
at::Tensor upstream() { return at::tensor({0.5f, 2.f, -1.f, 3.f, -2.f, 0.25f}).view({2, 3}); }

TEST(RedirectedRelu, ForwardIsReluAndBackwardRedirectsSilentSamplesOnly) {
  torch::AutoGradMode enable(true);
  const at::Tensor x = inputs();
  const at::Tensor y = redirectedRelu(x);
  EXPECT_TRUE(at::equal(y, at::relu(x.detach())));
  const at::Tensor g = torch::autograd::grad({y}, {x}, {upstream()})[0];
  // Sample 0: relu'(x) * g = [0.5, 0, 0]. Sample 1: g with the entries where g > 0 zeroed = [0, -2, 0].
  const at::Tensor expected = at::tensor({0.5f, 0.f, 0.f, 0.f, -2.f, 0.f}).view({2, 3});
  EXPECT_TRUE(at::equal(g, expected)) << g;
}

TEST(RedirectedRelu, PostOpsUseItOnlyWhileAsked) {
  torch::AutoGradMode enable(true);
  const at::Tensor x = inputs();
  const at::Tensor plain = torch::autograd::grad({applyPostOp(x, PostOp::Relu, {})}, {x}, {upstream()})[0];
  EXPECT_EQ(plain[1].abs().sum().item<float>(), 0.f);  // the silent sample gets nothing
  {
    RedirectedReluGradient redirect;
    EXPECT_TRUE(RedirectedReluGradient::active());
    const at::Tensor y = applyPostOp(x, PostOp::AddThenRelu, at::zeros({2, 3}));
    const at::Tensor g = torch::autograd::grad({y}, {x}, {upstream()})[0];
    EXPECT_FLOAT_EQ(g[1][1].item<float>(), -2.f);
  }
  EXPECT_FALSE(RedirectedReluGradient::active());
}

}  // namespace
}  // namespace fs::model
