// Channel statistics, ranking, normalisation modes, histograms, tap gradients (against the
// reference Grad-CAM) and the tap lookup.
#include "analysis/feature_stats.h"
#include "analysis/model_loader.h"
#include "analysis/inference.h"
#include "model/errors.h"
#include "model/npy.h"
#include "tests/model/test_support.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace {
namespace fa = fs::analysis;
using fs::model::InputError;

using fs::test::refDir;

// [1,4,2,2]: channel 0 mixed, 1 all negative, 2 constant positive (dead), 3 large.
at::Tensor sampleTap() {
  return at::tensor({-1.f, 0.f, 1.f, 4.f, -2.f, -3.f, -1.f, -5.f, 2.f, 2.f, 2.f, 2.f, 0.f, 10.f, 0.f, 6.f})
      .view({1, 4, 2, 2});
}

TEST(ChannelStats, MeanMaxMinStdAndDeadChannels) {
  const auto s = fa::channelStats(sampleTap());
  ASSERT_EQ(s.size(), 4u);
  EXPECT_FLOAT_EQ(s[0].mean, 1.f);
  EXPECT_FLOAT_EQ(s[0].max, 4.f);
  EXPECT_FLOAT_EQ(s[0].min, -1.f);
  EXPECT_NEAR(s[0].std, std::sqrt((4 + 1 + 0 + 9) / 4.0), 1e-6);  // population std
  EXPECT_FALSE(s[0].dead);
  // All negative is not dead: on a signed residual stream negative values carry information.
  EXPECT_FALSE(s[1].dead);
  EXPECT_TRUE(s[2].dead);  // spatially constant
  EXPECT_FLOAT_EQ(s[2].std, 0.f);
  EXPECT_FALSE(s[3].dead);
  EXPECT_EQ(s[3].channel, 3);
  EXPECT_EQ(fa::channelStats(sampleTap()[0]).size(), 4u);
  EXPECT_THROW(fa::channelStats(at::zeros({2, 2})), InputError);
}

// Hoyer (2004) eq. 1 written out: (sqrt(n) - sum|x| / sqrt(sum x^2)) / (sqrt(n) - 1).
double hoyerByHand(std::vector<double> x) {
  double l1 = 0, l2 = 0;
  for (double v : x) l1 += std::abs(v), l2 += v * v;
  const double rootN = std::sqrt(double(x.size()));
  return (rootN - l1 / std::sqrt(l2)) / (rootN - 1);
}

TEST(ChannelStats, HoyerSparsenessAndNearZeroAreScaleAware) {
  const auto s = fa::channelStats(sampleTap());
  EXPECT_NEAR(s[0].hoyer, hoyerByHand({-1, 0, 1, 4}), 1e-6);
  EXPECT_NEAR(s[1].hoyer, hoyerByHand({-2, -3, -1, -5}), 1e-6);
  EXPECT_NEAR(s[2].hoyer, 0.0, 1e-6);  // every |value| equal
  EXPECT_NEAR(s[3].hoyer, hoyerByHand({0, 10, 0, 6}), 1e-6);
  // Near zero at the tap's scale (max |a| = 10): |a| <= 0.1.
  EXPECT_FLOAT_EQ(s[0].nearZero, 0.25f);
  EXPECT_FLOAT_EQ(s[1].nearZero, 0.f);
  EXPECT_FLOAT_EQ(s[3].nearZero, 0.5f);
  // A channel silent at the tap's scale is dead; the same channel alone is not (its own scale).
  const at::Tensor quiet = at::tensor({0.01f, -0.02f, 0.f, 0.03f, 0.f, 50.f, -20.f, 5.f}).view({1, 2, 2, 2});
  EXPECT_TRUE(fa::channelStats(quiet)[0].dead);
  EXPECT_FALSE(fa::channelStats(quiet[0][0].unsqueeze(0))[0].dead);
  // The whole-tensor measures: one non-zero value is 1, equal magnitudes 0, invariant to scale and sign.
  EXPECT_NEAR(fa::hoyerSparseness(at::tensor({0.f, 0.f, 5.f, 0.f})), 1.0, 1e-12);
  EXPECT_NEAR(fa::hoyerSparseness(at::tensor({3.f, -3.f, 3.f, -3.f})), 0.0, 1e-12);
  const at::Tensor x = at::randn({64});
  EXPECT_NEAR(fa::hoyerSparseness(-7.5 * x), fa::hoyerSparseness(x), 1e-6);  // float32 products
  EXPECT_EQ(fa::hoyerSparseness(at::zeros({8})), 0.0);
  EXPECT_DOUBLE_EQ(fa::nearZeroFraction(at::tensor({0.f, 0.5f, 1.f, 100.f}), 100.0), 0.75);  // |a| <= 1
}

TEST(ChannelRank, OrdersByEachCriterion) {
  const at::Tensor tap = sampleTap();
  EXPECT_EQ(fa::rankChannels(tap, fa::ChannelRank::First, 2), (std::vector<int>{0, 1}));
  EXPECT_EQ(fa::rankChannels(tap, fa::ChannelRank::Mean, 0), (std::vector<int>{3, 2, 0, 1}));
  EXPECT_EQ(fa::rankChannels(tap, fa::ChannelRank::Max, 3), (std::vector<int>{3, 0, 2}));
  at::Tensor grad = at::zeros_like(tap);
  grad[0][1].fill_(-1.f);  // contribution of channel 1 = +11
  grad[0][0].fill_(0.5f);  // contribution 2
  EXPECT_EQ(fa::rankChannels(tap, fa::ChannelRank::Contribution, 1, grad), (std::vector<int>{1}));
  EXPECT_THROW(fa::rankChannels(tap, fa::ChannelRank::Contribution, 1), InputError);
  EXPECT_EQ(fa::parseChannelRank("contribution"), fa::ChannelRank::Contribution);
  EXPECT_THROW(fa::parseChannelRank("camweight"), InputError);
  EXPECT_THROW(fa::parseChannelRank("median"), InputError);
}

TEST(Normalisation, ChannelTapAndSharedRanges) {
  const at::Tensor a = sampleTap(), b = sampleTap() * 2;
  const std::vector<std::vector<int>> ch{{0, 3}, {0}};
  auto r = fa::normalisationRanges({a, b}, ch, fa::NormMode::Channel);
  EXPECT_DOUBLE_EQ(r[0][0].lo, -1);
  EXPECT_DOUBLE_EQ(r[0][0].hi, 4);
  EXPECT_DOUBLE_EQ(r[0][1].hi, 10);
  r = fa::normalisationRanges({a, b}, ch, fa::NormMode::Tap);
  EXPECT_DOUBLE_EQ(r[0][0].lo, -1);
  EXPECT_DOUBLE_EQ(r[0][0].hi, 10);
  EXPECT_DOUBLE_EQ(r[1][0].hi, 8);
  r = fa::normalisationRanges({a, b}, ch, fa::NormMode::Shared);
  for (const auto& t : r)
    for (const auto& v : t) {
      EXPECT_DOUBLE_EQ(v.lo, -2);
      EXPECT_DOUBLE_EQ(v.hi, 10);
    }
  EXPECT_EQ(fa::parseNormMode("shared"), fa::NormMode::Shared);
  EXPECT_THROW(fa::parseNormMode("global"), InputError);
}

TEST(Histogram, FollowsNumpySemantics) {
  const at::Tensor v = at::tensor({0.0, 0.5, 1.0, 1.5, 2.0, 3.0, -1.0});
  const fa::Histogram h = fa::histogram(v, 4, 0.0, 2.0);
  EXPECT_EQ(h.edges, (std::vector<double>{0.0, 0.5, 1.0, 1.5, 2.0}));
  EXPECT_EQ(h.counts, (std::vector<double>{1, 1, 1, 2}));  // 2.0 in the last bin, 3 and -1 ignored
  const fa::Histogram a = fa::histogram(at::full({5}, 3.0), 2, 0, 0);
  EXPECT_DOUBLE_EQ(a.edges.front(), 2.5);
  EXPECT_EQ(a.counts, (std::vector<double>{0, 5}));
  EXPECT_THROW(fa::histogram(v, 0, 0, 1), InputError);
}

TEST(TapGradient, GradCamFromItMatchesTheReference) {
  fa::LoadedModel m = fa::loadModel(refDir("convmlp_tiny/config.json"), refDir("convmlp_tiny/weights.safetensors"), 0);
  const at::Tensor x = fs::model::readNpy(refDir("convmlp_tiny/input.npy"));
  for (const std::string tap : {"conv_stages", "stages.1"}) {
    const fa::TapGradient g = fa::tapGradient(m, x, tap);
    EXPECT_EQ(g.target, 6);  // config.json target_class (top-1)
    const at::Tensor cam = (g.gradient.mean({2, 3}, true) * g.activation).sum(1)[0];
    const at::Tensor expected = fs::model::readNpy(refDir("convmlp_tiny/taps/" + tap + ".gradcam.npy"));
    EXPECT_TRUE(at::allclose(cam, expected, 1e-4, 1e-4)) << tap;
    const auto top = fa::rankChannels(g.activation, fa::ChannelRank::Contribution, 3, g.gradient);
    EXPECT_EQ(top.size(), 3u);
  }
  EXPECT_THROW(fa::tapGradient(m, x, "nope"), InputError);
  EXPECT_THROW(fa::tapGradient(m, x, "stages.0", 10), InputError);
}

TEST(FindTap, KnownTapsAndTheValidListForUnknownOnes) {
  const fa::LoadedModel conv = fa::loadModel(refDir("convmlp_tiny/config.json"), "", 0);
  EXPECT_EQ(fa::findTap(conv, "stages.2").name, "stages.2");
  EXPECT_EQ(fa::findTap(conv, "conv_stages").channels, 16);
  try {
    fa::findTap(conv, "layer1");
    FAIL() << "no error for an unknown tap";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown tap 'layer1'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("stages.2"), std::string::npos) << e.what();
  }
}

}  // namespace
