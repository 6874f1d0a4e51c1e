// FeatureService against the analysis layer computed directly on the same preprocessed input:
// prediction, ranked stage and tap maps, statistics.
#include "service_test_support.h"

#include "analysis/feature_stats.h"
#include "analysis/image_io.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <numeric>

namespace {

using fs::model::InputError;
using fs::service::Session;

struct Direct {
  fs::analysis::LoadedModel model;
  at::Tensor input;
};

Direct direct(const std::string& id, const std::string& image = "fmnist_0000_ankle-boot.png") {
  Direct d{fs::analysis::loadModel(id, "", 0), {}};
  d.input = fs::analysis::preprocess(fs::analysis::loadImageRgb(fs::test::samplePath(image)), d.model.config.input).input;
  return d;
}

TEST(FeatureService, PredictionEqualsADirectForward) {
  Session s;
  fs::test::openDemo(s, "convmlp_fmnist");
  const auto p = s.features().predict(0, 5);
  Direct d = direct("convmlp_fmnist");
  at::Tensor probs;
  {
    c10::InferenceMode guard;
    probs = at::softmax(d.model.net->forward(d.input, {}).logits, 1)[0];
  }
  ASSERT_EQ(p.top.size(), 5u);
  const auto sorted = probs.sort(0, /*descending=*/true);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(p.top[size_t(i)].index, std::get<1>(sorted)[i].item<int64_t>());
    EXPECT_NEAR(p.top[size_t(i)].prob, std::get<0>(sorted)[i].item<float>(), 1e-6);
  }
  EXPECT_EQ(p.modelInput.cols, d.model.config.input.width);
}

TEST(FeatureService, StageMapsRankChannelsByTheirMaximum) {
  Session s;
  fs::test::openDemo(s);
  const auto stages = s.features().stageMaps(0, 4, "max");
  Direct d = direct("resnet_fmnist");
  ASSERT_EQ(stages.stages.size(), d.model.net->stages().size());
  for (const auto& t : stages.stages) {
    ASSERT_EQ(t.maps.size(), 4u) << t.tap;
    const at::Tensor act = fs::analysis::extractTap(d.model, d.input, t.tap);  // [1,C,h,w]
    const at::Tensor maxima = act[0].flatten(1).amax(1);
    const auto order = std::get<1>(maxima.sort(0, /*descending=*/true));
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(t.channels[i], order[int64_t(i)].item<int64_t>()) << t.tap << " rank " << i;
      double lo, hi;
      cv::minMaxLoc(t.maps[i], &lo, &hi);
      EXPECT_FLOAT_EQ(float(hi), maxima[t.channels[i]].item<float>());
    }
  }
}

TEST(FeatureService, TapMapsHoldEveryChannelWithStatistics) {
  Session s;
  fs::test::openDemo(s, "mixer_fmnist");
  const std::string tap = s.slots().load(0, "mixer_fmnist", "").taps.back().name;
  fs::service::ImageRequest r;
  r.path = fs::test::samplePath("fmnist_0000_ankle-boot.png");
  s.images().open(r);
  const auto maps = s.features().tapMaps(0, tap, "first");
  ASSERT_EQ(int(maps.maps.size()), maps.totalChannels);
  ASSERT_EQ(int(maps.stats.size()), maps.totalChannels);
  for (int c = 0; c < maps.totalChannels; ++c) {
    EXPECT_EQ(maps.channels[size_t(c)], c);
    EXPECT_NEAR(maps.stats[size_t(c)].mean, cv::mean(maps.maps[size_t(c)])[0], 1e-4);
  }
  try {
    s.features().tapMaps(0, "no.such.tap", "first");
    FAIL() << "an unknown tap";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(tap), std::string::npos) << "lists the valid taps: " << e.what();
  }
}

TEST(FeatureService, HistogramsCountEveryValueOfEveryTap) {
  Session s;
  fs::test::openDemo(s);
  const auto info = s.slots().load(0, "resnet_fmnist", "");
  fs::service::ImageRequest r;
  r.path = fs::test::samplePath("fmnist_0000_ankle-boot.png");
  s.images().open(r);
  const auto stats = s.features().statistics(0, 30);
  ASSERT_EQ(stats.taps.size(), info.taps.size());
  for (size_t i = 0; i < stats.taps.size(); ++i) {
    const auto& t = info.taps[i];
    EXPECT_EQ(stats.taps[i].tap, t.name);
    EXPECT_EQ(stats.taps[i].counts.size(), 30u);
    const double total = std::accumulate(stats.taps[i].counts.begin(), stats.taps[i].counts.end(), 0.0);
    EXPECT_EQ(total, double(t.channels) * t.height * t.width) << t.name;
  }
}

TEST(FeatureService, NoImageIsAnInputError) {
  Session s;
  s.slots().load(0, "resnet_fmnist", "");
  EXPECT_THROW(s.features().predict(0, 5), InputError);
  EXPECT_THROW(s.features().stageMaps(0, 4, "first"), InputError);
}

}  // namespace
