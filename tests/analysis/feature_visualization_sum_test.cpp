// Activation maximisation's weighted-sum objective (Olah et al. 2017, "objectives can be
// combined"): the value equals the weighted sum of the terms read directly from the model's
// forward on fixed images, --terms parsing and its errors, a one-term sum optimises exactly as the
// single objective, a negative weight drives the channel down, and the thread count is restored.
// Channels optimised together (VisOptions::channels) give each channel's single run.
#include "analysis/features/feature_visualization.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace {
namespace fa = fs::analysis;

TEST(VisSumObjective, ParsesTermsAndRefusesBadOnes) {
  const auto terms = fa::parseVisTerms("stages.2:12*1.0,neuron:stages.1:40*-0.5,logit:3,channel:layer4.0:0*2e-1");
  struct Want {
    fa::VisObjective kind;
    const char* tap;
    int channel;
    double weight;
  };
  const Want want[] = {{fa::VisObjective::Channel, "stages.2", 12, 1.0},
                       {fa::VisObjective::Neuron, "stages.1", 40, -0.5},
                       {fa::VisObjective::Logit, "", 3, 1.0},
                       {fa::VisObjective::Channel, "layer4.0", 0, 0.2}};
  ASSERT_EQ(terms.size(), 4u);
  for (size_t i = 0; i < terms.size(); ++i) {
    EXPECT_EQ(terms[i].kind, want[i].kind) << i;
    EXPECT_EQ(terms[i].tap, want[i].tap) << i;
    EXPECT_EQ(terms[i].channel, want[i].channel) << i;
    EXPECT_DOUBLE_EQ(terms[i].weight, want[i].weight) << i;
  }
  const std::pair<const char*, const char*> bad[] = {
      {"", "empty term"},
      {"layer4:1,,layer4:2", "empty term"},
      {"layer4", "expected TAP:C"},
      {"layer4:x*1", "'x' is not a channel"},
      {"layer4:-3", "'-3' is not a channel"},
      {"layer4:3*", "weight '' is not a finite number"},
      {"layer4:3*two", "weight 'two' is not a finite number"},
      {"layer4:3*inf", "weight 'inf' is not a finite number"},
      {"pixel:layer4:3", "expected TAP:C"},
      {"neuron::3", "the tap name is empty"},
      {"logit:2:3", "expected TAP:C"},
  };
  for (const auto& [text, reason] : bad) {
    try {
      fa::parseVisTerms(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const fs::model::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << text << ": " << e.what();
    }
  }
}

TEST(VisSumObjective, EqualsTheWeightedSumOfTheTermsOnFixedImages) {
  fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  const at::Tensor images = at::rand({3, 3, 112, 112}, at::detail::createCPUGenerator(7));
  fa::VisOptions o;
  o.objective = fa::VisObjective::Sum;
  o.terms = fa::parseVisTerms("layer4:12*1.5,neuron:layer3:40*-0.5,logit:3*0.25,layer2:5");
  c10::InferenceMode guard;
  const at::Tensor sum = fa::visObjective(m, images, o);
  // Directly from the model's forward: normalise, read the taps and the logits.
  const auto& spec = m.config.input;
  const at::Tensor mean = at::tensor({spec.mean[0], spec.mean[1], spec.mean[2]}).view({1, 3, 1, 1});
  const at::Tensor std = at::tensor({spec.std[0], spec.std[1], spec.std[2]}).view({1, 3, 1, 1});
  const auto r = m.net->forward((images - mean) / std, {"layer4", "layer3", "layer2"});
  const at::Tensor layer3 = r.taps.at("layer3");  // [3, 64, 7, 7]: the centre is (3, 3)
  const at::Tensor expected = 1.5 * r.taps.at("layer4").select(1, 12).mean(at::IntArrayRef{1, 2}) -
                              0.5 * layer3.select(1, 40).select(1, 3).select(1, 3) +
                              0.25 * r.logits.select(1, 3) + r.taps.at("layer2").select(1, 5).mean(at::IntArrayRef{1, 2});
  ASSERT_EQ(sum.sizes(), (at::IntArrayRef{3}));
  EXPECT_LE((sum - expected).abs().max().item<double>(), 1e-5) << sum << expected;
  EXPECT_GT(expected.abs().max().item<double>(), 0.01);
  // Bad terms against the model: the unknown tap listed, the channel and class ranges.
  o.terms = fa::parseVisTerms("layer9:1");
  EXPECT_THROW(fa::visObjective(m, images, o), fs::model::InputError);
  o.terms = fa::parseVisTerms("layer4:1,neuron:layer3:64");
  try {
    fa::visObjective(m, images, o);
    ADD_FAILURE() << "channel 64 of layer3 accepted";
  } catch (const fs::model::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("channel 64 out of range [0, 63] at layer3"), std::string::npos) << e.what();
  }
  o.terms = fa::parseVisTerms("logit:10");
  EXPECT_THROW(fa::visObjective(m, images, o), fs::model::InputError);
  o.terms.clear();
  EXPECT_THROW(fa::visObjective(m, images, o), fs::model::InputError);
}

TEST(VisSumObjective, OptimisesLikeTheSingleObjectivesAndRestoresThreads) {
  fa::LoadedModel m = fa::loadModel("convmlp_fmnist", "", 0);
  const int threadsBefore = at::get_num_threads();
  fa::VisOptions single;
  single.tap = "stages.2", single.channel = 7, single.steps = 24, single.greyscale = true, single.seed = 3;
  single.size = 64;
  fa::VisOptions sum = single;
  sum.objective = fa::VisObjective::Sum;
  sum.terms = fa::parseVisTerms("stages.2:7");
  const fa::VisResult a = fa::visualizeFeature(m, single), b = fa::visualizeFeature(m, sum);
  EXPECT_TRUE(at::equal(a.images, b.images));  // a one-term sum of weight 1 is the objective itself
  EXPECT_EQ(at::get_num_threads(), threadsBefore);
  // Weight -1: the sum rises, so the channel's mean falls below its start.
  sum.terms = fa::parseVisTerms("stages.2:7*-1");
  const fa::VisResult down = fa::visualizeFeature(m, sum);
  EXPECT_GT(down.activation, down.initial);
  EXPECT_LT(fa::visObjective(m, down.images, single)[0].item<double>(), -down.initial + 1e-9);
  // Two terms pulling apart: the optimised image raises the weighted sum above its start.
  sum.terms = fa::parseVisTerms("stages.2:7*1.0,stages.2:40*-0.5,logit:2*0.1");
  const fa::VisResult both = fa::visualizeFeature(m, sum);
  EXPECT_GT(both.activation, both.initial + 0.1);
  EXPECT_GT(both.timings.total, 0.0);
  EXPECT_LE(both.timings.forward + both.timings.backward, both.timings.total);
}

TEST(VisChannelBatch, EachImageIsItsSingleChannelRun) {
  fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  fa::VisOptions o;
  // Adam divides each gradient entry by its own running magnitude, so spectrum entries whose gradient
  // is rounding noise (about 1e-9) move by the full learning rate in the sign of that noise, and
  // convolution kernels round differently at batch 3 and batch 1: the images agree on average and
  // reach the same activation, not bit for bit (up to 0.3 in one pixel after 32 steps).
  o.tap = "layer4", o.steps = 32, o.greyscale = true, o.seed = 11, o.size = 112;
  o.channels = {3, 90, 7};
  const fa::VisResult together = fa::visualizeFeature(m, o);
  ASSERT_EQ(together.images.sizes(), (at::IntArrayRef{3, 3, 112, 112}));
  ASSERT_EQ(together.activations.size(), 3u);
  for (size_t i = 0; i < o.channels.size(); ++i) {
    fa::VisOptions one = o;
    one.channels.clear(), one.channel = o.channels[i];
    const fa::VisResult alone = fa::visualizeFeature(m, one);
    const double meanDiff = (together.images[long(i)] - alone.image).abs().mean().item<double>();
    EXPECT_LE(meanDiff, 0.05) << o.channels[i];
    // Another channel's run is far from this one: the comparison can fail.
    const double otherDiff = (together.images[long((i + 1) % 3)] - alone.image).abs().mean().item<double>();
    EXPECT_GT(otherDiff, 2 * meanDiff) << o.channels[i] << " " << otherDiff;
    EXPECT_NEAR(together.activations[i], alone.activation, 0.05 * (1.0 + std::abs(alone.activation)));
    EXPECT_GT(together.activations[i], alone.initial);
  }
  EXPECT_FALSE(at::equal(together.images[0], together.images[1]));
  o.channels = {3, 128};
  EXPECT_THROW(fa::visualizeFeature(m, o), fs::model::InputError);
  o.channels = {3}, o.samples = 2;
  EXPECT_THROW(fa::visualizeFeature(m, o), fs::model::InputError);
}

// A token model fixes its input size: an image of another size is resized to it for the model.
TEST(VisOtherSize, FixedSizeModelsSeeTheImageAtTheirOwnSize) {
  fa::LoadedModel m = fa::loadModel("mixer_fmnist", "", 0);
  fa::VisOptions o;
  o.tap = "blocks.3", o.channel = 1, o.steps = 4, o.greyscale = true, o.size = 64;
  const fa::VisResult r = fa::visualizeFeature(m, o);
  EXPECT_EQ(r.image.sizes(), (at::IntArrayRef{3, 64, 64}));
  EXPECT_TRUE(std::isfinite(r.activation));
}

}  // namespace
