// Independent computations for the sanity checks of the evaluation lab:
// - one point of the independent model-parameter randomisation (Adebayo et al. 2018, sec. 3.1):
//   the gradient map of resnet_fmnist with only one unit re-initialised equals the map torch
//   computes on the same saved model with that unit's tensors replaced by the fresh model's
//   (tests/python/independent_randomisation_reference.py, its own ResNet forward);
// - the label permutation of train --permute-labels (sec. 3.2) equals a plain-Python Mersenne
//   Twister + Fisher-Yates (tests/python/label_permutation_reference.py), and is seeded.
#include "analysis/evaluation/sanity.h"
#include "analysis/fashion_mnist.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/trainer.h"
#include "model/npy.h"
#include "model/registry.h"
#include "model/safetensors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace {
namespace fa = fs::analysis;

std::string tempDir(const std::string& name) {
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data/" + name + "_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  return dir;
}

// The first line the Python reference prints; a failure there fails the test.
std::string runPython(const std::string& script, const std::string& args) {
  const std::string cmd = std::string(FS_PYTHON) + " " + FS_SOURCE_DIR + "/tests/python/" + script + " " + args;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  char buf[512] = {};
  const std::string out = std::fgets(buf, sizeof buf, pipe) ? buf : "";
  if (::pclose(pipe) != 0 || out.empty()) throw std::runtime_error("Python reference failed: " + cmd);
  return out;
}

TEST(IndependentRandomisation, OnePointEqualsTorchReinitialisingTheSameUnit) {
  fa::LoadedModel model = fa::loadModel("resnet_fmnist", "", 0);
  ASSERT_FALSE(model.weightsPath.empty()) << "the bundled resnet_fmnist weights are missing";
  const fa::ImageDataset test = fa::loadFashionMnist(fa::defaultFashionMnistDir(), false);
  const at::Tensor x = fa::fashionMnistBatch(test.images.narrow(0, 3, 1), model.config.input);
  fa::SaliencyOptions o;
  o.target = fa::predict(model, x, 1).top.front().index;
  const auto method = fa::makeSaliencyMethod("gradient");
  const auto map = [&](fa::LoadedModel& m) { return fa::mapToSize(method->compute(m, x, o).map2d, x.size(2), x.size(3)); };
  constexpr uint64_t kSeed = 5;
  const fa::RandomisationResult r = fa::modelRandomisation(model, map, fa::RandomisationMode::Independent, kSeed);

  const std::string dir = tempDir("independent_randomisation");
  fs::model::TensorDict fresh;
  const fs::model::Classifier freshNet = fs::model::buildModel(model.config, fa::freshModelSeed(model, kSeed));
  for (const auto& p : freshNet->named_parameters()) fresh.tensors.emplace_back(p.key(), p.value().detach().contiguous());
  for (const auto& b : freshNet->named_buffers()) fresh.tensors.emplace_back(b.key(), b.value().detach().contiguous());
  fs::model::writeSafetensors(dir + "/fresh.safetensors", fresh);
  fs::model::writeNpy(dir + "/input.npy", x);
  int checked = 0;
  for (const fa::RandomisationStep& step : r.steps) {
    if (step.unit != "layer3" && step.unit != "bn1") continue;
    fs::model::writeNpy(dir + "/map.npy", step.map.to(at::kFloat));
    std::istringstream out(runPython("independent_randomisation_reference.py",
                                     model.weightsPath + " " + dir + "/fresh.safetensors " + step.unit + " " + dir +
                                         "/input.npy " + dir + "/map.npy"));
    int target = -1, replaced = 0;
    double diff = 1, scale = 0;
    out >> target >> diff >> scale >> replaced;
    EXPECT_EQ(target, o.target) << step.unit;
    // The float tensors replaced: bn1's weight, bias, running mean and variance; layer3's two convs,
    // the downsampling conv and their three BatchNorms' four each.
    EXPECT_EQ(replaced, step.unit == "bn1" ? 4 : 15) << step.unit;
    EXPECT_GT(scale, 0.0) << step.unit;
    EXPECT_LT(diff, 1e-4 * scale) << step.unit << ": C++ and torch maps differ";
    // ...and the point differs from the trained map: the unit was randomised.
    EXPECT_GT(at::abs(step.map - r.original).max().item<double>(), 0.05 * scale) << step.unit;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
  std::filesystem::remove_all(dir);
}

TEST(LabelPermutation, SeededAndEqualToThePythonReference) {
  const std::string dir = tempDir("label_permutation");
  const at::Tensor p = fa::labelPermutation(1000, 7);
  runPython("label_permutation_reference.py", "1000 7 - " + dir + "/p.npy");
  const at::Tensor ref = fs::model::readNpy(dir + "/p.npy");
  ASSERT_EQ(ref.numel(), 1000);
  EXPECT_TRUE(at::equal(p, ref.to(at::kLong).view({-1})));
  EXPECT_TRUE(at::equal(std::get<0>(p.sort()), at::arange(1000, at::kLong)));  // a permutation
  EXPECT_TRUE(at::equal(fa::labelPermutation(1000, 7), p));                    // seeded
  EXPECT_FALSE(at::equal(fa::labelPermutation(1000, 8), p));
  EXPECT_EQ(fa::labelPermutation(0, 1).numel(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
