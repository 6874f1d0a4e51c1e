// Faithfulness metrics on a toy classifier whose target probability is known in closed form
// (sigmoid of a linear function of the pixels), map agreement, and the randomisation sanity
// check on a reference fixture.
#include "analysis/faithfulness.h"
#include "analysis/model_loader.h"
#include "model/errors.h"
#include "model/npy.h"
#include "tests/model/test_support.h"
#include "tests/analysis/saliency_test_support.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <filesystem>
#include <fstream>

namespace {
namespace fa = fs::analysis;
namespace fm = fs::model;

using fs::test::refDir;

// Two classes: logit0 = sum(w * x) - offset, logit1 = 0, so p0 = sigmoid(sum(w * x) - offset).
class LinearToyImpl : public fm::ClassifierImpl {
 public:
  LinearToyImpl(at::Tensor w, double offset) : w_(std::move(w)), offset_(offset) {}
  std::vector<fm::TapInfo> taps() const override { return {}; }
  std::vector<std::string> stages() const override { return {}; }
  fm::ForwardResult forward(const at::Tensor& x, const std::vector<std::string>&) override {
    const at::Tensor l0 = (x * w_).sum({1, 2, 3}) - offset_;
    return {at::stack({l0, at::zeros_like(l0)}, 1), {}};
  }

 private:
  at::Tensor w_;
  double offset_;
};

constexpr int64_t kSize = 16;

// Positive pixel weights [kSize,kSize] whose sum is 4: p0 goes from sigmoid(-2) (all pixels at the
// zero baseline) to sigmoid(2) (all ones).
at::Tensor toyWeights() {
  at::Generator gen = at::detail::createCPUGenerator(5);
  at::Tensor w = at::rand({kSize, kSize}, gen) + 0.05;
  return w / w.sum() * (4.0 / 3.0);
}

fa::LoadedModel toyModel(const at::Tensor& w2d) {
  fa::LoadedModel m;
  m.net = std::make_shared<LinearToyImpl>(w2d.view({1, 1, kSize, kSize}), 2.0);
  return m;
}

at::Tensor ones() { return at::ones({1, 3, kSize, kSize}); }

TEST(Faithfulness, TrapezoidAucOfAConstantIsTheConstant) {
  EXPECT_DOUBLE_EQ(fa::trapezoidAuc({0.3, 0.3, 0.3, 0.3}), 0.3);
  EXPECT_DOUBLE_EQ(fa::trapezoidAuc({0.0, 1.0}), 0.5);
  EXPECT_DOUBLE_EQ(fa::trapezoidAuc({0.7}), 0.7);
  fa::LoadedModel flat = toyModel(at::zeros({kSize, kSize}));
  const fa::Curve c = fa::deletionCurve(flat, ones(), at::rand({kSize, kSize}), 0, {8, fa::Baseline::Zero, 3});
  ASSERT_EQ(c.probs.size(), 9u);
  EXPECT_NEAR(c.auc, 1.0 / (1.0 + std::exp(2.0)), 1e-12);
  EXPECT_DOUBLE_EQ(c.fractions.back(), 1.0);
}

TEST(Faithfulness, CurvesFollowTheClosedForm) {
  const at::Tensor w = toyWeights();
  fa::LoadedModel m = toyModel(w);
  const fa::CurveOptions o{4, fa::Baseline::Zero, 2};
  const fa::Curve del = fa::deletionCurve(m, ones(), w, 0, o), ins = fa::insertionCurve(m, ones(), w, 0, o);
  const auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  EXPECT_NEAR(del.probs.front(), sigmoid(2.0), 1e-6);
  EXPECT_NEAR(del.probs.back(), sigmoid(-2.0), 1e-6);
  EXPECT_NEAR(ins.probs.front(), sigmoid(-2.0), 1e-6);
  EXPECT_NEAR(ins.probs.back(), sigmoid(2.0), 1e-6);
  // After one chunk (a quarter of the pixels, the heaviest), 3 * their weight is gone.
  const at::Tensor sorted = std::get<0>(w.reshape({-1}).sort(0, true));
  const double removed = 3.0 * sorted.narrow(0, 0, kSize * kSize / 4).sum().item<double>();
  EXPECT_NEAR(del.probs[1], sigmoid(2.0 - removed), 1e-5);
  EXPECT_NEAR(ins.probs[1], sigmoid(-2.0 + removed), 1e-5);
}

TEST(Faithfulness, PerfectMapBeatsARandomMap) {
  const at::Tensor w = toyWeights();
  fa::LoadedModel m = toyModel(w);
  at::Generator gen = at::detail::createCPUGenerator(11);
  const at::Tensor random = at::rand({kSize, kSize}, gen);
  for (fa::Baseline b : {fa::Baseline::Zero, fa::Baseline::Blur}) {
    const at::Tensor x = b == fa::Baseline::Zero ? ones() : at::rand({1, 3, kSize, kSize}, gen) * 2.0;
    const at::Tensor perfect = (w * (x - fa::makeBaseline(x, b))[0].sum(0));  // exact per-pixel effect
    const fa::CurveOptions o{16, b, 5};
    EXPECT_LT(fa::deletionCurve(m, x, perfect, 0, o).auc, fa::deletionCurve(m, x, random, 0, o).auc - 0.02);
    EXPECT_GT(fa::insertionCurve(m, x, perfect, 0, o).auc, fa::insertionCurve(m, x, random, 0, o).auc + 0.02);
  }
  // A coarse map (tap resolution) is upsampled to the input size.
  const at::Tensor coarse = at::avg_pool2d(w.view({1, 1, kSize, kSize}), {4, 4});
  EXPECT_LT(fa::deletionCurve(m, ones(), coarse, 0).auc, fa::deletionCurve(m, ones(), -coarse, 0).auc);
  EXPECT_THROW(fa::deletionCurve(m, ones(), w, 2), fm::InputError);
  EXPECT_THROW(fa::deletionCurve(m, ones(), at::zeros({2, 3, 4}), 0), fm::InputError);
}

TEST(Faithfulness, BlurBaselineKeepsConstantsAndSmoothsNoise) {
  const at::Tensor c = at::full({1, 3, 20, 20}, 0.7f);
  EXPECT_TRUE(at::allclose(fa::makeBaseline(c, fa::Baseline::Blur), c, 1e-6, 1e-6));
  const at::Tensor noise = at::randn({1, 3, 20, 20});
  EXPECT_LT(fa::makeBaseline(noise, fa::Baseline::Blur).std().item<double>(), 0.5 * noise.std().item<double>());
  EXPECT_EQ(fa::makeBaseline(noise, fa::Baseline::Zero).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(fa::parseBaseline("blur"), fa::Baseline::Blur);
  EXPECT_EQ(fa::parseBaseline("mean"), fa::Baseline::Zero);
  EXPECT_THROW(fa::parseBaseline("grey"), fm::InputError);
}

TEST(Faithfulness, AverageDropAndIncreaseInConfidence) {
  const at::Tensor w = toyWeights();
  fa::LoadedModel m = toyModel(w);
  const fa::ConfidenceChange full = fa::confidenceChange(m, ones(), at::ones({kSize, kSize}), 0);
  EXPECT_NEAR(full.drop, 0.0, 1e-9);
  EXPECT_FALSE(full.increase);
  const fa::ConfidenceChange partial = fa::confidenceChange(m, ones(), w, 0);
  const double y = 1.0 / (1.0 + std::exp(-2.0));
  const double o = 1.0 / (1.0 + std::exp(-(3.0 * (w * w / w.max()).sum().item<double>() - 2.0)));
  EXPECT_NEAR(partial.original, y, 1e-6);
  EXPECT_NEAR(partial.masked, o, 1e-5);
  EXPECT_NEAR(partial.drop, (y - o) / y, 1e-5);
  // Class 1's probability rises when class 0's evidence is masked away.
  EXPECT_TRUE(fa::confidenceChange(m, ones(), w, 1).increase);
  EXPECT_DOUBLE_EQ(fa::confidenceChange(m, ones(), w, 1).drop, 0.0);
}

TEST(MapAgreement, IdenticalReversedAndResizedMaps) {
  const at::Tensor a = at::arange(64, at::kFloat).view({8, 8});
  EXPECT_NEAR(fa::spearman(a, a), 1.0, 1e-12);
  EXPECT_NEAR(fa::spearman(a, -a), -1.0, 1e-12);
  EXPECT_NEAR(fa::topIou(a, a, 0.1), 1.0, 1e-12);
  EXPECT_NEAR(fa::topIou(a, -a, 0.1), 0.0, 1e-12);
  EXPECT_NEAR(fa::topIou(a, a.flip(1), 0.25), 1.0, 1e-12);  // top 16 = the two bottom rows either way
  const fa::MapAgreement r = fa::compareMaps(a.view({1, 1, 8, 8}), a.expand({1, 3, 8, 8}) * 0.5);
  EXPECT_NEAR(r.spearman, 1.0, 1e-12);
  EXPECT_NEAR(r.topIou, 1.0, 1e-12);
  const at::Tensor up = at::upsample_bilinear2d(a.view({1, 1, 8, 8}), at::IntArrayRef({32, 32}), false);
  EXPECT_GT(fa::spearman(a, up), 0.99);
  EXPECT_EQ(fa::spearman(a, at::zeros({8, 8})), 0.0);
  const at::Tensor ties = at::tensor({1.f, 1.f, 2.f, 3.f}), other = at::tensor({1.f, 2.f, 3.f, 4.f});
  EXPECT_NEAR(fa::spearman(ties.view({2, 2}), other.view({2, 2})), 0.9486832980505138, 1e-12);  // scipy
}

// Raw input gradient of the target logit, summed over colour channels.
at::Tensor inputGradient(fa::LoadedModel& m, const at::Tensor& input, int target) {
  torch::AutoGradMode enable(true);
  const at::Tensor x = input.detach().clone().requires_grad_(true);
  const at::Tensor logit = m.net->forward(x, {}).logits[0][target];
  return torch::autograd::grad({logit}, {x})[0].sum(1)[0];
}

using fs::test::logitsOf;

TEST(SanityCheck, RandomisationOrderIsHeadFirst) {
  const fa::LoadedModel conv = fa::loadModel(refDir("convmlp_tiny/config.json"), "", 0);
  EXPECT_EQ(fa::randomisationOrder(conv), (std::vector<std::string>{"head", "norm", "stages.2", "stages.1",
                                                                     "stages.0", "conv_stages", "tokenizer"}));
  const fa::LoadedModel mixer = fa::loadModel(refDir("mixer_tiny/config.json"), "", 0);
  EXPECT_EQ(fa::randomisationOrder(mixer), (std::vector<std::string>{"head", "norm", "blocks.1", "blocks.0", "stem"}));
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data/faithfulness";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/resnet_tiny.json")
      << R"({"family":"resnet","block":"basic","layers":[1,1,1,1],"num_classes":10,"input":{"size":[64,64]}})";
  const fa::LoadedModel resnet = fa::loadModel(dir + "/resnet_tiny.json", "", 0);
  EXPECT_EQ(fa::randomisationOrder(resnet), (std::vector<std::string>{"fc", "layer4", "layer3", "layer2", "layer1",
                                                                       "bn1", "conv1"}));
}

TEST(SanityCheck, CascadingRandomisationDecorrelatesAndRestoresTheWeights) {
  fa::LoadedModel m = fa::loadModel(refDir("convmlp_tiny/config.json"), refDir("convmlp_tiny/weights.safetensors"), 0);
  const at::Tensor x = fm::readNpy(refDir("convmlp_tiny/input.npy"));
  const at::Tensor before = logitsOf(m, x);
  int calls = 0;
  std::vector<double> seen;
  const fa::SanityResult r = fa::parameterRandomisation(
      m, [&](fa::LoadedModel& mm) { ++calls; return inputGradient(mm, x, 6); }, 3,
      [&](double f) { seen.push_back(f); });
  ASSERT_EQ(r.steps.size(), 7u);
  EXPECT_EQ(calls, 8);
  EXPECT_EQ(r.steps.front().layer, "head");
  EXPECT_LT(std::abs(r.steps.back().spearman), 0.5) << "fully randomised map still correlates";
  EXPECT_DOUBLE_EQ(seen.back(), 1.0);
  EXPECT_TRUE(at::equal(logitsOf(m, x), before)) << "weights not restored";
  EXPECT_TRUE(at::allclose(before, fm::readNpy(refDir("convmlp_tiny/logits.npy")), 1e-4, 1e-4));
  std::atomic<bool> cancel{true};
  EXPECT_TRUE(fa::parameterRandomisation(m, [&](fa::LoadedModel& mm) { return inputGradient(mm, x, 6); }, 3, {},
                                         &cancel).cancelled);
  EXPECT_TRUE(at::equal(logitsOf(m, x), before));
}

}  // namespace
