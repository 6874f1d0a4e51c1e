// Activation maximisation (Olah et al. 2017): the Fourier parametrisation with colour decorrelation
// against numpy (tests/python/vis_reference.py, written from Lucid's code), identical images for
// identical seeds, and the optimisation raising the objective above its start and above the
// channel's best of 200 Fashion-MNIST test images.
#include "analysis/features/feature_visualization.h"
#include "analysis/fashion_mnist.h"
#include "model/errors.h"
#include "model/npy.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace {
namespace fa = fs::analysis;

TEST(FeatureVisualization, FourierImageMatchesNumpy) {
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data/vis-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  for (int grey : {0, 1})
    for (int size : {24, 31}) {
      const at::Tensor spectrum = at::randn({grey ? 1 : 3, size, size / 2 + 1, 2}, at::detail::createCPUGenerator(size));
      fs::model::writeNpy(dir + "/s.npy", spectrum);
      const std::string cmd = std::string(FS_PYTHON) + " " + FS_SOURCE_DIR + "/tests/python/vis_reference.py " + dir +
                              "/s.npy " + std::to_string(size) + " " + std::to_string(grey) + " " + dir + "/ref.npy";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
      const at::Tensor ref = fs::model::readNpy(dir + "/ref.npy");
      const at::Tensor ours = fa::fourierImage(spectrum, size, grey == 1);
      ASSERT_EQ(ours.sizes(), ref.sizes());
      EXPECT_LE((ours - ref).abs().max().item<double>(), 1e-5) << "size " << size << " grey " << grey;
      EXPECT_GT(ours.std().item<double>(), 0.01);
    }
  std::filesystem::remove_all(dir);
}

TEST(FeatureVisualization, SeededRunsAreIdenticalAndRaiseTheObjective) {
  fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  fa::VisOptions o;
  o.tap = "layer4", o.channel = 0, o.steps = 48, o.greyscale = true, o.seed = 5;
  const fa::VisResult a = fa::visualizeFeature(m, o);
  const fa::VisResult b = fa::visualizeFeature(m, o);
  EXPECT_TRUE(at::equal(a.image, b.image));
  EXPECT_EQ(a.activation, b.activation);
  o.seed = 6;
  EXPECT_FALSE(at::equal(a.image, fa::visualizeFeature(m, o).image));
  EXPECT_EQ(a.image.sizes(), (at::IntArrayRef{3, 112, 112}));
  EXPECT_GE(a.image.min().item<float>(), 0.f);
  EXPECT_LE(a.image.max().item<float>(), 1.f);
  EXPECT_TRUE(at::equal(a.image[0], a.image[2]));  // greyscale
  EXPECT_GT(a.activation, a.initial);
  // Above the channel's best mean activation over 200 test images.
  const auto data = fa::loadFashionMnist(fa::defaultFashionMnistDir(), false);
  c10::InferenceMode guard;
  const at::Tensor x = fa::fashionMnistBatch(data.images.narrow(0, 0, 200), m.config.input);
  const double best = m.net->forward(x, {"layer4"}).taps.at("layer4").select(1, 0).mean(at::IntArrayRef{1, 2}).max().item<double>();
  EXPECT_GT(a.activation, best);
}

TEST(FeatureVisualization, GramDiversityOfKnownBatchesAndDiverseSamples) {
  const at::Tensor one = at::randn({1, 4, 3, 3}, at::detail::createCPUGenerator(1));
  EXPECT_NEAR(fa::gramDiversity(one.expand({3, 4, 3, 3})).item<double>(), 2.0, 1e-6);  // B - 1
  at::Tensor apart = at::zeros({2, 2, 1, 1});  // Gram matrices diag(1,0) and diag(0,1): orthogonal
  apart[0][0][0][0] = 1.f, apart[1][1][0][0] = 1.f;
  EXPECT_NEAR(fa::gramDiversity(apart).item<double>(), 0.0, 1e-12);
  fa::LoadedModel m = fa::loadModel("convmlp_fmnist", "", 0);
  fa::VisOptions o;
  o.tap = "stages.1", o.channel = 2, o.steps = 24, o.greyscale = true, o.samples = 3, o.size = 64;
  o.diversityWeight = 100.0;
  const fa::VisResult together = fa::visualizeFeature(m, o);
  o.diversityWeight = 0.0;
  const fa::VisResult alone = fa::visualizeFeature(m, o);
  ASSERT_EQ(together.images.sizes(), (at::IntArrayRef{3, 3, 64, 64}));
  ASSERT_EQ(together.activations.size(), 3u);
  c10::InferenceMode guard;
  auto diversityAt = [&](const fa::VisResult& r) {
    const auto& spec = m.config.input;
    const at::Tensor x = (r.images - spec.mean[0]) / spec.std[0];
    return fa::gramDiversity(m.net->forward(x, {o.tap}).taps.at(o.tap)).item<double>();
  };
  EXPECT_LT(diversityAt(together), diversityAt(alone));
}

TEST(FeatureVisualization, LogitObjectiveAndBadRequests) {
  fa::LoadedModel m = fa::loadModel("mixer_fmnist", "", 0);
  fa::VisOptions o;
  o.objective = fa::VisObjective::Logit, o.channel = 3, o.steps = 8;
  const fa::VisResult r = fa::visualizeFeature(m, o);
  EXPECT_GT(r.activation, r.initial);
  o.channel = 10;
  EXPECT_THROW(fa::visualizeFeature(m, o), fs::model::InputError);
  o.objective = fa::VisObjective::Channel, o.tap = "blocks.9", o.channel = 0;
  EXPECT_THROW(fa::visualizeFeature(m, o), fs::model::InputError);
  EXPECT_THROW(fa::parseVisObjective("diversity"), fs::model::InputError);
}

}  // namespace
