// copyModel gives a second thread a model of its own: the same logits to the bit, gradients too,
// and a state that changing one does not change in the other. CallingThreadThreads changes the
// intra-op threads of the calling thread only.
#include "analysis/model_loader.h"
#include "model/threads.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <string>
#include <thread>

namespace fs::analysis {
namespace {

at::Tensor logitsOf(LoadedModel& m, const at::Tensor& x) {
  c10::InferenceMode inference;
  return m.net->forward(x, {}).logits;
}

at::Tensor inputGradient(LoadedModel& m, const at::Tensor& x, int target) {
  torch::AutoGradMode on(true);
  const at::Tensor in = x.clone().requires_grad_(true);
  const at::Tensor logits = m.net->forward(in, {}).logits;
  return torch::autograd::grad({logits.select(1, target).sum()}, {in})[0];
}

class ModelCopy : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelCopy, GivesTheSameLogitsAndGradientsAndOwnsItsState) {
  LoadedModel original = loadModel(GetParam(), "", 0);
  LoadedModel copy = copyModel(original);
  EXPECT_EQ(copy.config.id, original.config.id);
  EXPECT_EQ(copy.weightsPath, original.weightsPath);
  EXPECT_EQ(copy.seed, original.seed);
  EXPECT_EQ(copy.labels, original.labels);
  EXPECT_NE(copy.net.get(), original.net.get());
  const auto& spec = original.config.input;
  const at::Tensor x = at::randn({3, 3, spec.height, spec.width}, at::TensorOptions().dtype(at::kFloat));
  EXPECT_TRUE(logitsOf(copy, x).equal(logitsOf(original, x)));
  EXPECT_TRUE(inputGradient(copy, x, 2).equal(inputGradient(original, x, 2)));
  for (const auto& p : copy.net->parameters()) EXPECT_FALSE(p.requires_grad());
  EXPECT_FALSE(copy.net->is_training());

  // Its own tensors: zeroing the copy's leaves the original's logits as they were.
  const at::Tensor before = logitsOf(original, x);
  {
    torch::NoGradGuard noGrad;
    for (auto& p : copy.net->parameters()) p.zero_();
  }
  copy.net->invalidateInferenceCache();
  copy.net->prepareForInference();
  EXPECT_TRUE(logitsOf(original, x).equal(before));
  EXPECT_FALSE(logitsOf(copy, x).equal(before));
}

// A family with BatchNorm (running statistics are buffers) and one without.
INSTANTIATE_TEST_SUITE_P(Families, ModelCopy, ::testing::Values("resnet_fmnist", "mixer_fmnist", "convmlp_fmnist"));

TEST(CallingThreadThreads, ChangesTheCallingThreadOnlyAndRestoresIt) {
  at::set_num_threads(2);
  int inside = 0, after = 0, otherDuring = 0;
  std::thread worker([&] {
    {
      fs::model::CallingThreadThreads one(1);
      inside = at::get_num_threads();
      std::thread other([&] { otherDuring = at::get_num_threads(); });
      other.join();
      // ATen's parallel loops on this thread run on one thread now.
      at::parallel_for(0, 1000, 1, [&](int64_t, int64_t) { EXPECT_EQ(at::get_thread_num(), 0); });
    }
    after = at::get_num_threads();
  });
  worker.join();
  EXPECT_EQ(inside, 1);
  EXPECT_EQ(after, 2);
  EXPECT_EQ(otherDuring, 2) << "a new thread takes the process's setting, not the worker's";
  EXPECT_EQ(at::get_num_threads(), 2);
}

}  // namespace
}  // namespace fs::analysis
