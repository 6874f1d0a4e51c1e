// The inference-only path (cached oneDNN convolution and matmul primitives with fused ReLU, GELU
// and residual sums, some in place) against the autograd path of the same model: logits and every
// tap at batch 2, inputs and handed-out taps untouched, weight changes picked up, MAC counts equal.
#include "model/fast_inference.h"
#include "model/registry.h"
#include "test_support.h"

#include <c10/core/InferenceMode.h>

namespace fs::model {
namespace {

struct FastPathOff {
  FastPathOff() { setFastInferenceEnabled(false); }
  ~FastPathOff() { setFastInferenceEnabled(true); }
};

std::vector<std::string> allTaps(const ClassifierImpl& net) {
  std::vector<std::string> names;
  for (const auto& t : net.taps()) names.push_back(t.name);
  return names;
}

Classifier prepared(const std::string& id) {
  Classifier net = buildModel(findVariant(id)->config, 3);
  net->eval();
  // Random BatchNorm statistics, so that folding has something to fold.
  torch::NoGradGuard noGrad;
  for (auto& item : net->named_buffers()) {
    if (item.key().find("running_mean") != std::string::npos) item.value().normal_(0, 0.1);
    if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 1.5);
  }
  net->prepareForInference();
  return net;
}

class FastInference : public ::testing::TestWithParam<std::string> {};

TEST_P(FastInference, MatchesTheAutogradPathOnLogitsAndEveryTap) {
  Classifier net = prepared(GetParam());
  const auto& in = findVariant(GetParam())->config.input;
  const at::Tensor x = at::randn({2, 3, in.height, in.width}, at::TensorOptions().dtype(at::kFloat));
  const at::Tensor xCopy = x.clone();
  const auto taps = allTaps(*net);
  ForwardResult fast, slow;
  {
    c10::InferenceMode guard;
    ASSERT_TRUE(fastInferenceAllowed());
    fast = net->forward(x, taps);
  }
  {
    FastPathOff off;
    c10::InferenceMode guard;
    ASSERT_FALSE(fastInferenceAllowed());
    slow = net->forward(x, taps);
  }
  EXPECT_TRUE(x.equal(xCopy)) << "the forward modified its input";
  const double scale = slow.logits.abs().max().item<double>();
  EXPECT_TRUE(fs::test::closeToRef(fast.logits, slow.logits, 1e-4 * scale, 1e-4));
  ASSERT_EQ(fast.taps.size(), taps.size());
  for (const auto& name : taps) {
    const at::Tensor& f = fast.taps.at(name);
    ASSERT_FALSE(f.is_mkldnn()) << name;
    EXPECT_TRUE(fs::test::closeToRef(f, slow.taps.at(name), 1e-4 * slow.taps.at(name).abs().max().item<double>(), 1e-4))
        << name;
  }
  // Taps handed out by a fast forward are not overwritten by the in-place sums of the next one,
  // with or without taps requested.
  std::map<std::string, at::Tensor> kept;
  for (const auto& [name, t] : fast.taps) kept[name] = t.clone();
  {
    c10::InferenceMode guard;
    net->forward(x * 2, taps);
    net->forward(x * 3, {});
  }
  for (const auto& [name, t] : fast.taps) EXPECT_TRUE(t.equal(kept.at(name))) << name;
}

TEST_P(FastInference, GradientsStillFlowOutsideInferenceMode) {
  Classifier net = prepared(GetParam());
  const auto& in = findVariant(GetParam())->config.input;
  at::Tensor x = at::randn({1, 3, in.height, in.width}).requires_grad_(true);
  ASSERT_FALSE(fastInferenceAllowed());
  const ForwardResult r = net->forward(x, {net->stages().front()});
  r.logits[0][0].backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0);
}

TEST_P(FastInference, MacCountIsTheSameOnBothPaths) {
  Classifier net = prepared(GetParam());
  const auto& config = findVariant(GetParam())->config;
  const int64_t fast = countMacs(*net, config);
  FastPathOff off;
  EXPECT_EQ(fast, countMacs(*net, config));
}

// New weights reach the fast path once the cache is rebuilt, as after loading or training.
TEST_P(FastInference, RepackingPicksUpNewWeights) {
  Classifier net = prepared(GetParam());
  const auto& in = findVariant(GetParam())->config.input;
  const at::Tensor x = at::randn({1, 3, in.height, in.width});
  {
    torch::NoGradGuard noGrad;
    for (auto& p : net->parameters()) p.mul_(1.1);
  }
  net->invalidateInferenceCache();
  net->prepareForInference();
  at::Tensor fast, slow;
  {
    c10::InferenceMode guard;
    fast = net->forward(x, {}).logits;
    FastPathOff off;
    slow = net->forward(x, {}).logits;
  }
  EXPECT_TRUE(fs::test::closeToRef(fast, slow, 1e-4 * slow.abs().max().item<double>(), 1e-4));
}

INSTANTIATE_TEST_SUITE_P(Families, FastInference,
                         ::testing::Values("convmlp_fmnist", "puremlp_fmnist", "resnet_fmnist", "mixer_fmnist",
                                           "resmlp_fmnist", "resnet18"));

}  // namespace
}  // namespace fs::model
