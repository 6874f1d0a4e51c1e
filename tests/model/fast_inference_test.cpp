// The inference-only path (cached oneDNN convolution and matmul primitives with fused ReLU, GELU
// and residual sums, some in place) against the autograd path of the same model: logits and every
// tap at batch 2, inputs and handed-out taps untouched, weight changes picked up, MAC counts equal.
#include "model/checkpoint.h"
#include "model/fast_inference.h"
#include "model/kernel_policy.h"
#include "model/layers.h"
#include "model/registry.h"
#include "test_support.h"

#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <array>
#include <cstdlib>

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

// The gradients of a fixed mix of two logits with respect to the input and to every tap.
std::vector<at::Tensor> inputAndTapGradients(ClassifierImpl& net, const at::Tensor& x0,
                                             const std::vector<std::string>& taps) {
  const at::Tensor x = x0.clone().requires_grad_(true);
  const ForwardResult r = net.forward(x, taps);
  std::vector<at::Tensor> wrt{x};
  for (const auto& name : taps) wrt.push_back(r.taps.at(name));
  const at::Tensor objective = r.logits.select(1, 1).sum() + 0.5 * r.logits.select(1, 0).sum();
  return torch::autograd::grad({objective}, wrt, {}, c10::nullopt, false, /*allow_unused=*/true);
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

// Gradient passes through a prepared model with frozen weights (as loadModel leaves it) run the
// packed convolutions' forward (PackedConv::runDifferentiable): the input gradient and every
// tap's gradient of a logit equal the autograd path's at batch 2.
TEST_P(FastInference, GradientPassMatchesTheAutogradPath) {
  Classifier net = prepared(GetParam());
  for (auto& p : net->parameters()) p.requires_grad_(false);
  const auto& in = findVariant(GetParam())->config.input;
  const at::Tensor x0 = at::randn({2, 3, in.height, in.width});
  const auto taps = allTaps(*net);
  std::vector<at::Tensor> fast, slow;
  ASSERT_TRUE(fastGradientAllowed());
  fast = inputAndTapGradients(*net, x0, taps);
  {
    FastPathOff off;
    ASSERT_FALSE(fastGradientAllowed());
    slow = inputAndTapGradients(*net, x0, taps);
  }
  ASSERT_EQ(fast.size(), slow.size());
  for (size_t i = 0; i < fast.size(); ++i) {
    const std::string what = i == 0 ? "input" : taps[i - 1];
    ASSERT_EQ(fast[i].defined(), slow[i].defined()) << what;
    if (!slow[i].defined()) continue;
    const double scale = slow[i].abs().max().item<double>();
    EXPECT_TRUE(fs::test::closeToRef(fast[i], slow[i], 1e-4 * scale + 1e-12, 1e-4)) << what;
  }
}

// Weights that want a gradient (training) keep the autograd path: every parameter of a prepared
// model still receives one outside inference mode.
TEST_P(FastInference, WeightsThatWantAGradientGetOne) {
  Classifier net = prepared(GetParam());
  const auto& in = findVariant(GetParam())->config.input;
  const at::Tensor x = at::randn({2, 3, in.height, in.width});
  net->forward(x, {}).logits.sum().backward();
  int64_t reached = 0, total = 0;
  for (const auto& item : net->named_parameters(true)) {
    ++total;
    if (item.value().grad().defined()) ++reached;
  }
  // A prepared model's BatchNorm-followed convolutions run on folded copies in eval mode, which
  // get no gradient on either path; compare with the autograd path's count.
  for (auto& p : net->parameters()) p.mutable_grad() = at::Tensor();
  int64_t slowReached = 0;
  {
    FastPathOff off;
    net->forward(x, {}).logits.sum().backward();
    for (const auto& p : net->parameters()) slowReached += p.grad().defined();
  }
  EXPECT_EQ(reached, slowReached) << "of " << total;
  EXPECT_GT(reached, 0);
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

// Weights loaded into a prepared model (its linear weights re-stored for the matmuls) land where
// they belong: the result equals a fresh model that loaded the same state.
TEST_P(FastInference, LoadingIntoAPreparedModelKeepsEveryValue) {
  Classifier net = prepared(GetParam());
  const ModelConfig& config = findVariant(GetParam())->config;
  Classifier source = buildModel(config, 11), fresh = buildModel(config, 5);
  TensorDict dict;
  for (const auto& item : source->named_parameters(true)) dict.tensors.emplace_back(item.key(), item.value().detach());
  for (const auto& item : source->named_buffers(true)) dict.tensors.emplace_back(item.key(), item.value().detach());
  loadState(*net, dict, "state");
  loadState(*fresh, dict, "state");
  net->invalidateInferenceCache();
  net->prepareForInference();
  fresh->eval();
  const auto freshParams = fresh->named_parameters(true);
  for (const auto& item : net->named_parameters(true))
    EXPECT_TRUE(item.value().equal(freshParams[item.key()])) << item.key();
  const auto& in = config.input;
  const at::Tensor x = at::randn({1, 3, in.height, in.width});
  c10::InferenceMode guard;
  const at::Tensor a = net->forward(x, {}).logits, b = fresh->forward(x, {}).logits;
  EXPECT_TRUE(fs::test::closeToRef(a, b, 1e-4 * b.abs().max().item<double>(), 1e-4));
}

INSTANTIATE_TEST_SUITE_P(Families, FastInference,
                         ::testing::Values("convmlp_fmnist", "puremlp_fmnist", "resnet_fmnist", "mixer_fmnist",
                                           "resmlp_fmnist", "resnet18", "vit_tiny", "deit_tiny_distilled",
                                           "convnext_tiny", "swin_tiny"));

// Blocked activations (fast_inference.h, "Blocked activations"): oneDNN's nChw8c (nChw16c on
// AVX-512) as a 5-D tensor.
TEST(BlockedLayout, IsNChwBcAndConvertsBothWays) {
  const int64_t k = channelBlock(), c = 2 * k;
  ASSERT_TRUE(k == 8 || k == 16);
  const at::Tensor x = at::randn({2, c, 5, 7});
  const at::Tensor b = toBlocked(x);
  ASSERT_EQ(b.sizes(), (at::IntArrayRef{2, 2, 5, 7, k}));
  ASSERT_TRUE(b.is_contiguous());
  const float* p = b.data_ptr<float>();
  const auto xa = x.accessor<float, 4>();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t h = 0; h < 5; ++h)
        for (int64_t w = 0; w < 7; ++w)
          ASSERT_EQ(p[(((n * 2 + ch / k) * 5 + h) * 7 + w) * k + ch % k], xa[n][ch][h][w]);
  EXPECT_TRUE(fromBlocked(b).equal(x));
  EXPECT_TRUE(fromBlocked(b).is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(toBlocked(x.contiguous(at::MemoryFormat::ChannelsLast)).equal(b));
  EXPECT_TRUE(fromBlocked(maxPool2d(b, 3, 2, 1, false)).equal(at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1})));
  EXPECT_THROW(toBlocked(at::randn({1, k + 4, 3, 3})), c10::Error);
}

struct LayoutChoice {
  explicit LayoutChoice(ConvLayout layout) { setConvLayout(layout); }
  ~LayoutChoice() { setConvLayout(ConvLayout::Measured); }
};

bool ranBlockedKernels() {
  for (const auto& u : kernelUses())
    if (u.impl.find("[blocked]") != std::string::npos) return true;
  return false;
}

// The families that keep their convolutions' activations blocked give the channels-last path's
// logits, taps, and gradients of the input and of every tap, at batch 2, running blocked kernels.
class BlockedActivations : public ::testing::TestWithParam<std::string> {};

TEST_P(BlockedActivations, MatchChannelsLastInBothDirections) {
  Classifier net = prepared(GetParam());
  for (auto& p : net->parameters()) p.requires_grad_(false);
  const auto& in = findVariant(GetParam())->config.input;
  const at::Tensor x0 = at::randn({2, 3, in.height, in.width});
  const auto taps = allTaps(*net);
  struct Run {
    ForwardResult inference;
    std::vector<at::Tensor> gradients;
    bool blocked = false;
  };
  const auto run = [&](ConvLayout layout) {
    LayoutChoice choice(layout);
    Run r;
    resetKernelUses();
    {
      c10::InferenceMode guard;
      r.inference = net->forward(x0, taps);
    }
    r.gradients = inputAndTapGradients(*net, x0, taps);
    r.blocked = ranBlockedKernels();
    return r;
  };
  const Run blocked = run(ConvLayout::Blocked), plain = run(ConvLayout::ChannelsLast);
  EXPECT_TRUE(blocked.blocked);
  EXPECT_FALSE(plain.blocked);
  const auto close = [](const at::Tensor& a, const at::Tensor& b) {
    return fs::test::closeToRef(a, b, 1e-4 * b.abs().max().item<double>() + 1e-12, 1e-4);
  };
  EXPECT_TRUE(close(blocked.inference.logits, plain.inference.logits));
  for (const auto& name : taps) {
    const at::Tensor& t = blocked.inference.taps.at(name);
    EXPECT_EQ(t.dim(), 4) << name;
    EXPECT_TRUE(close(t, plain.inference.taps.at(name))) << name;
  }
  ASSERT_EQ(blocked.gradients.size(), plain.gradients.size());
  for (size_t i = 0; i < plain.gradients.size(); ++i) {
    const std::string what = i == 0 ? "input" : taps[i - 1];
    ASSERT_EQ(blocked.gradients[i].defined(), plain.gradients[i].defined()) << what;
    if (plain.gradients[i].defined()) EXPECT_TRUE(close(blocked.gradients[i], plain.gradients[i])) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, BlockedActivations,
                         ::testing::Values("resnet_fmnist", "resnet18", "convmlp_s", "puremlp_s"));

// A channel MLP on [N,H,W,C] tokens (ConvMLP's stages) in a gradient pass with frozen weights runs
// fc1 and fc2 as packed 1x1 convolutions (MlpImpl::pack): output, the input's and the
// residual's gradients equal the autograd path's (at::linear, GELU) with the matmul-stored weights;
// weights that want a gradient keep the autograd path and get one.
// Without a gradient the stem's max pooling runs as oneDNN's inference pooling (no int64 indices):
// the values of at::max_pool2d in the input's layout, for channels-last, NCHW and blocked inputs,
// odd and even sizes, with and without padding; a gradient pass keeps ATen's.
TEST(MaxPoolInference, EqualsAtenInEveryLayoutAndRunsOnOneDnn) {
  const int64_t k = channelBlock();
  for (const auto& [h, w, kernel, stride, pad] : std::vector<std::array<int64_t, 5>>{
           {56, 56, 3, 2, 1}, {7, 9, 3, 2, 1}, {8, 8, 2, 2, 0}, {5, 6, 3, 1, 1}, {3, 3, 3, 2, 1}}) {
    const at::Tensor x = at::randn({3, 2 * k, h, w});
    const at::Tensor want = at::max_pool2d(x, {kernel, kernel}, {stride, stride}, {pad, pad});
    c10::InferenceMode inference;
    resetKernelUses();
    const at::Tensor cl = maxPool2d(x.contiguous(at::MemoryFormat::ChannelsLast), kernel, stride, pad, true);
    const at::Tensor plain = maxPool2d(x, kernel, stride, pad, true);
    const at::Tensor blocked = maxPool2d(toBlocked(x), kernel, stride, pad, true);
    EXPECT_TRUE(cl.equal(want) && cl.is_contiguous(at::MemoryFormat::ChannelsLast)) << h << "x" << w;
    EXPECT_TRUE(plain.equal(want) && plain.is_contiguous()) << h << "x" << w;
    ASSERT_TRUE(isBlocked(blocked) && blocked.is_contiguous());
    EXPECT_TRUE(fromBlocked(blocked).equal(want)) << h << "x" << w;
    int64_t pooled = 0;
    for (const auto& u : kernelUses()) {
      EXPECT_EQ(u.impl.rfind("ref", 0), std::string::npos) << u.impl;
      pooled += u.kind == "pooling" ? u.calls : 0;
    }
    EXPECT_EQ(pooled, 3) << h << "x" << w;
  }
  // Not after an unpacked layer, and not with a gradient.
  const at::Tensor x = at::randn({2, k, 8, 8});
  resetKernelUses();
  {
    c10::InferenceMode inference;
    EXPECT_TRUE(maxPool2d(x, 3, 2, 1, false).equal(at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1})));
  }
  const at::Tensor xg = x.clone().requires_grad_(true);
  maxPool2d(xg, 3, 2, 1, true).sum().backward();
  EXPECT_TRUE(xg.grad().defined());
  EXPECT_TRUE(kernelUses().empty());
}

TEST(PointwiseMlp, MatchesTheAutogradPathAndRunsAsConvolutions) {
  torch::manual_seed(2);
  Mlp mlp(24, 56, 24);
  mlp->pack(true, false);  // stores the weights for the matmuls, then packs the 1x1 convolutions
  for (auto& p : mlp->parameters()) p.requires_grad_(false);
  const at::Tensor x0 = at::randn({2, 5, 7, 24}), r0 = at::randn({2, 5, 7, 24}), w = at::randn({2, 5, 7, 24});
  const auto run = [&](std::vector<at::Tensor>& grads) {
    const at::Tensor x = x0.clone().requires_grad_(true), r = r0.clone().requires_grad_(true);
    const at::Tensor y = mlp->forward(x, r * 1.0);
    grads = torch::autograd::grad({(y * w).sum()}, {x, r});
    return y.detach();
  };
  std::vector<at::Tensor> fastGrads, slowGrads;
  resetKernelUses();
  const at::Tensor fast = run(fastGrads);
  int64_t convolutions = 0;
  for (const auto& u : kernelUses()) convolutions += u.kind == "convolution" ? u.calls : 0;
  EXPECT_EQ(convolutions, 2);  // fc1 and fc2
  at::Tensor slow;
  {
    FastPathOff off;
    resetKernelUses();
    slow = run(slowGrads);
    EXPECT_TRUE(kernelUses().empty());
  }
  const double scale = slow.abs().max().item<double>();
  EXPECT_TRUE(fs::test::closeToRef(fast, slow, 1e-5 * scale, 1e-5));
  for (size_t i = 0; i < 2; ++i)
    EXPECT_TRUE(fs::test::closeToRef(fastGrads[i], slowGrads[i], 1e-5 * slowGrads[i].abs().max().item<double>(), 1e-5))
        << i;

  for (auto& p : mlp->parameters()) p.requires_grad_(true);
  resetKernelUses();
  const at::Tensor x = x0.clone().requires_grad_(true);
  mlp->forward(x).sum().backward();
  EXPECT_TRUE(kernelUses().empty());
  EXPECT_TRUE(mlp->fc1->weight.grad().defined());
  EXPECT_TRUE(mlp->fc2->bias.grad().defined());
}

// storeForMatmul re-stores a parameter in place: same tensor, same values, rows padded, and both
// the autograd path and the fused matmul give the plain layout's results.
TEST(StoreForMatmul, KeepsValuesGradientsAndTheParameterItself) {
  torch::manual_seed(1);
  torch::nn::Linear plain(48, 80), stored(48, 80);
  {
    torch::NoGradGuard noGrad;
    stored->weight.copy_(plain->weight), stored->bias.copy_(plain->bias);
  }
  const void* impl = stored->weight.unsafeGetTensorImpl();
  storeForMatmul(stored->weight);
  ASSERT_TRUE(storedForMatmul(stored->weight));
  EXPECT_FALSE(storedForMatmul(plain->weight));
  EXPECT_EQ(stored->weight.unsafeGetTensorImpl(), impl);
  EXPECT_EQ(stored->named_parameters()["weight"].unsafeGetTensorImpl(), impl);
  EXPECT_EQ(stored->weight.sizes(), plain->weight.sizes());
  EXPECT_EQ(stored->weight.stride(0), 1);
  EXPECT_GT(stored->weight.stride(1), 80);
  EXPECT_EQ(stored->weight.stride(1) % 16, 0);
  EXPECT_TRUE(stored->weight.requires_grad());
  EXPECT_TRUE(stored->weight.equal(plain->weight));
  const void* data = stored->weight.data_ptr();
  storeForMatmul(stored->weight);  // already stored: nothing happens
  EXPECT_EQ(stored->weight.data_ptr(), data);

  const at::Tensor x = at::randn({7, 48});
  at::Tensor a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
  at::Tensor ya = linear(plain, a), yb = linear(stored, b);
  EXPECT_TRUE(fs::test::closeToRef(yb, ya, 1e-5, 1e-5));
  ya.square().sum().backward(), yb.square().sum().backward();
  EXPECT_TRUE(fs::test::closeToRef(b.grad(), a.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(fs::test::closeToRef(stored->weight.grad(), plain->weight.grad(), 1e-5, 1e-5));

  PackedLinear packed;
  packed.pack(stored->weight, stored->bias);
  ASSERT_TRUE(packed.ready());
  c10::InferenceMode guard;
  const at::Tensor residual = at::randn({7, 80});
  EXPECT_TRUE(fs::test::closeToRef(packed.run(x), linear(plain, x), 1e-5, 1e-5));
  EXPECT_TRUE(fs::test::closeToRef(packed.run(x, MatmulOp::Gelu), at::gelu(linear(plain, x)), 1e-5, 1e-5));
  EXPECT_TRUE(fs::test::closeToRef(packed.run(x, MatmulOp::Add, residual.clone()), linear(plain, x) + residual, 1e-5,
                                   1e-5));
}

// Small linear layers on AVX-512 run on brgemm from a blocked copy of the weight (kernel_policy.h,
// blockedMatmulWeights), larger ones and other CPUs from the parameter itself; both give at::linear's
// results, the parameter stays as it was, and a re-pack picks up new weights.
TEST(BlockedMatmulWeights, SmallLayersRunOnBrgemmLargeOnesOnTheParameter) {
  torch::manual_seed(3);
  const bool env = std::getenv("FEATURESCOPE_MATMUL_WEIGHTS") != nullptr;
  for (const int64_t in : {64, 520}) {
    const int64_t out = in == 64 ? 256 : 520;  // 16,384 and 270,400 values: either side of the limit
    torch::nn::Linear fc(in, out);
    storeForMatmul(fc->weight);
    const at::Tensor before = fc->weight.detach().clone();
    const void* data = fc->weight.data_ptr();
    PackedLinear packed;
    packed.pack(fc->weight, fc->bias);
    const at::Tensor x = at::randn({37, in}), residual = at::randn({37, out});
    c10::InferenceMode guard;
    resetKernelUses();
    const at::Tensor ref = at::linear(x, fc->weight, fc->bias);
    EXPECT_TRUE(fs::test::closeToRef(packed.run(x), ref, 1e-5, 1e-5)) << in;
    EXPECT_TRUE(fs::test::closeToRef(packed.run(x, MatmulOp::Gelu), at::gelu(ref), 1e-5, 1e-5)) << in;
    EXPECT_TRUE(fs::test::closeToRef(packed.run(x, MatmulOp::Add, residual.clone()), ref + residual, 1e-5, 1e-5));
    int64_t brgemm = 0, other = 0;
    for (const auto& use : kernelUses())
      if (use.kind == "matmul") (use.impl.rfind("brg:", 0) == 0 ? brgemm : other) += use.calls;
    EXPECT_EQ(brgemm + other, 3);
    if (!env && matmulBackend() == MatmulBackend::OneDnn)
      EXPECT_EQ(brgemm, onednnHasAvx512() && in * out <= kBlockedWeightMaxValues ? 3 : 0) << in;
    EXPECT_EQ(fc->weight.data_ptr(), data);
    EXPECT_TRUE(fc->weight.equal(before));
    fc->weight.mul_(2);
    packed.pack(fc->weight, fc->bias);
    EXPECT_TRUE(fs::test::closeToRef(packed.run(x), at::linear(x, fc->weight, fc->bias), 1e-5, 1e-5)) << in;
  }
}

}  // namespace
}  // namespace fs::model
