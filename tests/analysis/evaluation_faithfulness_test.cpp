// Step two of the evaluation lab: RISE's substrates, ROAD (imputation against scipy's sparse
// solver on the paper's system, tests/python/evaluation_reference.py), infidelity and
// max-sensitivity, on a linear classifier whose exact per-pixel contributions are known.
#include "analysis/evaluation/faithfulness_metrics.h"
#include "analysis/evaluation/metric.h"
#include "analysis/evaluation/robustness.h"
#include "analysis/faithfulness.h"
#include "evaluation_test_support.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

namespace {
namespace fa = fs::analysis;
namespace fm = fs::model;

// logit0 = sum over channels and pixels of w * x, logit1 = 0.
class PixelLinearImpl : public fm::ClassifierImpl {
 public:
  explicit PixelLinearImpl(at::Tensor w) : w_(std::move(w)) {}
  std::vector<fm::TapInfo> taps() const override { return {}; }
  std::vector<std::string> stages() const override { return {}; }
  fm::ForwardResult forward(const at::Tensor& x, const std::vector<std::string>&) override {
    const at::Tensor l0 = (x * w_).sum({1, 2, 3});
    return {at::stack({l0, at::zeros_like(l0)}, 1), {}};
  }

 private:
  at::Tensor w_;
};

constexpr int64_t kSize = 12;

struct Toy {
  at::Tensor w;  // [kSize,kSize]
  fa::LoadedModel model;
  at::Tensor x;  // [1,3,kSize,kSize]
};

Toy makeToy(uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  Toy t;
  t.w = (at::rand({kSize, kSize}, gen) - 0.3) * 0.4;
  t.model.net = std::make_shared<PixelLinearImpl>(t.w.view({1, 1, kSize, kSize}));
  t.model.config.input.height = t.model.config.input.width = kSize;
  t.x = at::rand({1, 3, kSize, kSize}, gen) * 2.0 - 0.5;
  return t;
}

TEST(Substrates, BlackIsPixelZeroAndRiseDefaultsDifferPerCurve) {
  Toy t = makeToy(1);
  const fm::InputSpec& spec = t.model.config.input;
  const at::Tensor black = fa::makeBaseline(t.x, fa::Baseline::Black, &spec);
  for (int c = 0; c < 3; ++c)
    EXPECT_NEAR(black[0][c][3][4].item<double>(), -spec.mean[size_t(c)] / spec.std[size_t(c)], 1e-6);
  EXPECT_THROW(fa::makeBaseline(t.x, fa::Baseline::Black), fm::InputError);
  EXPECT_EQ(fa::parseBaseline("black"), fa::Baseline::Black);
  EXPECT_STREQ(fa::baselineName(fa::Baseline::Zero), "zero");
  const fa::CurveOptions rise{4, std::nullopt, 0};
  EXPECT_EQ(fa::curveSubstrate(rise, false), fa::Baseline::Black);
  EXPECT_EQ(fa::curveSubstrate(rise, true), fa::Baseline::Blur);
  EXPECT_EQ(fa::substrateName(rise), "rise");
  // Deletion ends on the black image, insertion starts from the blurred one.
  const auto prob = [&](const at::Tensor& img) {
    const double l = (img * t.w).sum().item<double>();
    return 1.0 / (1.0 + std::exp(-l));
  };
  const at::Tensor map = at::rand({kSize, kSize});
  EXPECT_NEAR(fa::deletionCurve(t.model, t.x, map, 0, rise).probs.back(), prob(black), 1e-6);
  EXPECT_NEAR(fa::insertionCurve(t.model, t.x, map, 0, rise).probs.front(),
              prob(fa::makeBaseline(t.x, fa::Baseline::Blur)), 1e-6);
  const fa::CurveOptions mean{4, fa::Baseline::Zero, 0};
  EXPECT_NEAR(fa::deletionCurve(t.model, t.x, map, 0, mean).probs.back(), 0.5, 1e-9);
}

TEST(Substrates, ExactLinearContributionScoresBestOnDeletion) {
  for (uint64_t seed : {2, 3, 4}) {
    Toy t = makeToy(seed);
    const at::Tensor black = fa::makeBaseline(t.x, fa::Baseline::Black, &t.model.config.input);
    const at::Tensor exact = (t.w * (t.x - black)[0]).sum(0);  // each pixel's effect on the logit
    at::Generator gen = at::detail::createCPUGenerator(seed + 10);
    const double best = fa::deletionCurve(t.model, t.x, exact, 0).auc;
    for (const at::Tensor& other : {t.w, at::rand({kSize, kSize}, gen), -exact, t.x[0].sum(0), exact.abs()})
      EXPECT_LT(best, fa::deletionCurve(t.model, t.x, other, 0).auc + 1e-12) << seed;
    EXPECT_LT(best, fa::deletionCurve(t.model, t.x, at::rand({kSize, kSize}, gen), 0).auc - 0.01) << seed;
  }
}

TEST(Road, LinearImputationMatchesScipysSparseSolveAndAddsTheNoise) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  const at::Tensor img = at::rand({3, 11, 9}, gen).to(at::kDouble);
  const at::Tensor removed = at::rand({11, 9}, gen) < 0.45;
  removed[0][0] = true, removed[10][8] = true;  // corners: fewer neighbours
  const at::Tensor exact = fa::noisyLinearImputation(img, removed, 0.0, 0);
  const std::string dir = fs_test::evaluationScratch();
  fs_test::pythonReference("impute", {img, removed.to(at::kFloat)}, {dir + "/imputed.npy"});
  const at::Tensor ref = fm::readNpy(dir + "/imputed.npy").to(at::kDouble);
  EXPECT_LT((exact - ref).abs().max().item<double>(), 1e-5);
  EXPECT_TRUE(at::equal(exact.masked_select(~removed), img.masked_select(~removed)));
  // The noise: N(0, 0.01^2) on the imputed pixels only, reproducible from the seed.
  const at::Tensor noisy = fa::noisyLinearImputation(img.unsqueeze(0), removed, 0.01, 7)[0];
  const at::Tensor diff = (noisy - exact).masked_select(removed.expand({3, 11, 9}));
  EXPECT_NEAR(diff.std().item<double>(), 0.01, 0.002);
  EXPECT_TRUE(at::equal(noisy, fa::noisyLinearImputation(img.unsqueeze(0), removed, 0.01, 7)[0]));
  EXPECT_THROW(fa::noisyLinearImputation(img, at::ones({11, 9}, at::kBool), 0.0, 0), fm::InputError);
  // Imputation of a linear ramp is exact inside (the weighted mean of a linear function).
  const at::Tensor ramp = at::arange(9, at::kDouble).view({1, 1, 9}).expand({1, 9, 9}).contiguous();
  at::Tensor hole = at::zeros({9, 9}, at::kBool);
  hole.narrow(0, 3, 3).narrow(1, 3, 3).fill_(true);
  EXPECT_LT((fa::noisyLinearImputation(ramp, hole, 0.0, 0) - ramp).abs().max().item<double>(), 1e-9);
}

TEST(Road, MorfAndLerfRankTheExactMapAboveItsInverse) {
  Toy t = makeToy(6);
  const at::Tensor exact = (t.w * t.x[0]).sum(0);
  const fa::RoadCurve morf = fa::roadCurve(t.model, t.x, exact, 0, true);
  const fa::RoadCurve inverse = fa::roadCurve(t.model, t.x, -exact, 0, true);
  ASSERT_EQ(morf.probs.size(), 9u);
  EXPECT_LT(morf.score, inverse.score);
  EXPECT_GT(fa::roadCurve(t.model, t.x, exact, 0, false).score, fa::roadCurve(t.model, t.x, -exact, 0, false).score);
  fa::MetricInput in;
  in.model = &t.model, in.input = t.x, in.map2d = exact, in.target = 0;
  EXPECT_DOUBLE_EQ(fa::makeMetric("road_morf")->compute(in), morf.score);
  EXPECT_FALSE(fa::makeMetric("road_morf")->higherIsBetter());
}

TEST(Robustness, InfidelityIsZeroForTheLinearModelsGradient) {
  Toy t = makeToy(7);
  EXPECT_NEAR(fa::infidelity(t.model, t.x, t.w, 0), 0.0, 1e-8);  // df = 3 * I^T w exactly; beta = 3
  at::Generator gen = at::detail::createCPUGenerator(8);
  EXPECT_GT(fa::infidelity(t.model, t.x, at::rand({kSize, kSize}, gen), 0), 1e-3);
  fa::InfidelityOptions o;
  o.batchSize = 5;
  EXPECT_NEAR(fa::infidelity(t.model, t.x, t.w.flip(0), 0, o), fa::infidelity(t.model, t.x, t.w.flip(0), 0), 1e-9);
}

TEST(Robustness, InfidelityKeepsTheModelsHalfForTheImagesOtherMaps) {
  Toy t = makeToy(10);
  at::Generator gen = at::detail::createCPUGenerator(11);
  const at::Tensor a = t.w.flip(0), b = at::rand({kSize, kSize}, gen);
  fa::MetricMemo memo;
  fa::MetricInput in;
  in.model = &t.model, in.input = t.x, in.target = 0, in.seed = 4, in.memo = &memo;
  const auto metric = fa::makeMetric("infidelity");
  fa::InfidelityOptions o;
  o.seed = 4;
  for (const at::Tensor& map : {a, b, a}) {  // the memo's values are exactly the fresh ones
    in.map2d = map;
    EXPECT_EQ(metric->compute(in), fa::infidelity(t.model, t.x, map, 0, o));
  }
  EXPECT_EQ(memo.size(), 1u);  // one model half for the image's three maps
  in.seed = 5, in.map2d = b;   // another seed draws other perturbations: another entry
  o.seed = 5;
  EXPECT_EQ(metric->compute(in), fa::infidelity(t.model, t.x, b, 0, o));
  EXPECT_EQ(memo.size(), 2u);
  EXPECT_THROW(fa::infidelity(fa::InfidelityProbe{}, a), fm::InputError);
}

TEST(Robustness, MaxSensitivityIsZeroForAConstantMethod) {
  Toy t = makeToy(9);
  // `explain` maps every input of a batch [S,3,H,W]; `each` makes one from a map per input.
  const auto each = [](const std::function<at::Tensor(const at::Tensor&)>& f) {
    return [f](const at::Tensor& ys) {
      std::vector<at::Tensor> maps;
      for (int64_t s = 0; s < ys.size(0); ++s) maps.push_back(f(ys.narrow(0, s, 1)));
      return at::stack(maps);
    };
  };
  const at::Tensor constant = at::full({kSize, kSize}, 0.3);
  EXPECT_EQ(fa::maxSensitivity(each([&](const at::Tensor&) { return constant; }), t.x, constant), 0.0);
  // The gradient of a linear model does not depend on the input either.
  EXPECT_EQ(fa::maxSensitivity(each([&](const at::Tensor&) { return t.w; }), t.x, t.w), 0.0);
  // Gradient x input does, by about r / |x| relative to the map.
  const auto gxi = [&](const at::Tensor& x) { return (t.w * x[0]).sum(0); };
  const double s = fa::maxSensitivity(each(gxi), t.x, gxi(t.x));
  EXPECT_GT(s, 0.0);
  EXPECT_LT(s, 0.2);
  fa::SensitivityOptions wide;
  wide.radius = 0.5;
  EXPECT_GT(fa::maxSensitivity(each(gxi), t.x, gxi(t.x), wide), s);
  // The samples are the draws of one generator in order: sample k of a run with more samples is
  // sample k of a run with fewer, and the estimate is their maximum.
  at::Tensor seen;
  const auto record = [&](const at::Tensor& ys) {
    seen = ys.clone();
    return each(gxi)(ys);
  };
  fa::SensitivityOptions three;
  three.samples = 3;
  fa::maxSensitivity(record, t.x, gxi(t.x), three);
  const at::Tensor first3 = seen;
  fa::maxSensitivity(record, t.x, gxi(t.x));
  ASSERT_EQ(seen.size(0), 10);
  EXPECT_TRUE(at::equal(seen.narrow(0, 0, 3), first3));
  EXPECT_LE((seen - t.x.to(at::kFloat)).abs().max().item<double>(), fa::SensitivityOptions{}.radius);
  // A function that returns the wrong number of maps is refused.
  EXPECT_THROW(fa::maxSensitivity([&](const at::Tensor&) { return constant.unsqueeze(0); }, t.x, constant),
               fm::InputError);
  fa::MetricInput in;
  in.input = t.x, in.map2d = constant;
  EXPECT_THROW(fa::makeMetric("max_sensitivity")->compute(in), fm::InputError);
  in.explain = each([&](const at::Tensor&) { return constant; });
  EXPECT_EQ(fa::makeMetric("max_sensitivity")->compute(in), 0.0);
}

}  // namespace
