#pragma once
// Parity with the timm 1.0.29 fixtures of the ViT, DeiT, Swin and ConvNeXt families
// (tests/data/reference): logits, every tap, every block's attention probabilities where the
// fixture has them, with autograd and in InferenceMode (on the prepared fast path when prepared),
// all taps at once and one at a time; Grad-CAM at every tap and the input gradient.
#include "model/checkpoint.h"
#include "model/npy.h"
#include "model/registry.h"
#include "model/safetensors.h"
#include "test_support.h"

#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <tuple>

namespace fs::test {

struct FamilyFixture {
  nlohmann::json config;
  fs::model::Classifier net;
  at::Tensor input;
  std::vector<std::string> taps, attention;  // attention: fixture names, blocks.<i>
  at::Tensor ref(const std::string& file) const { return fs::model::readNpy(dir + "/" + file); }
  std::string dir;
};

inline FamilyFixture loadFamilyFixture(const std::string& name, const std::string& weights, bool prepared) {
  namespace fm = fs::model;
  FamilyFixture f;
  f.dir = refDir(name);
  std::ifstream in(f.dir + "/config.json");
  f.config = nlohmann::json::parse(in);
  f.net = fm::buildModel(fm::loadModelConfigFile(f.dir + "/config.json"), 1);
  fm::loadState(*f.net, fm::readCheckpoint(f.dir + "/" + weights), weights);
  if (prepared) f.net->prepareForInference();
  f.input = fm::readNpy(f.dir + "/input.npy");
  for (auto& [tap, shape] : f.config["taps"].items()) f.taps.push_back(tap);
  if (f.config.contains("attn"))
    for (auto& [unit, shape] : f.config["attn"].items()) f.attention.push_back(unit);
  return f;
}

using FixtureParam = std::tuple<std::string, std::string, bool>;  // fixture, weights file, prepared

inline std::string fixtureParamName(const ::testing::TestParamInfo<FixtureParam>& info) {
  std::string s =
      std::get<0>(info.param) + "_" + std::get<1>(info.param) + (std::get<2>(info.param) ? "_prepared" : "");
  for (char& c : s)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

inline void expectFixtureForwardParity(const FixtureParam& param) {
  const auto& [name, weights, prepared] = param;
  FamilyFixture f = loadFamilyFixture(name, weights, prepared);
  EXPECT_EQ(f.net->parameterCount(), f.config["params"].get<int64_t>());
  std::vector<std::string> request = f.taps;
  for (const auto& unit : f.attention) request.push_back(unit + ".attn");  // the attention unit of block i
  for (bool inference : {false, true}) {
    std::optional<c10::InferenceMode> guard;
    if (inference) guard.emplace();
    const fs::model::ForwardResult r = f.net->forward(f.input, request);
    EXPECT_TRUE(closeToRef(r.logits, f.ref("logits.npy"))) << "inference=" << inference;
    ASSERT_EQ(r.taps.size(), f.taps.size());
    for (const auto& tap : f.taps)
      EXPECT_TRUE(closeToRef(r.taps.at(tap), f.ref("taps/" + tap + ".npy"))) << tap << " inference=" << inference;
    ASSERT_EQ(r.attention.size(), f.attention.size());
    for (const auto& unit : f.attention)
      EXPECT_TRUE(closeToRef(r.attention.at(unit + ".attn"), f.ref("attn/" + unit + ".npy"))) << unit;
    for (const auto& tap : f.taps) {  // one tap at a time: the same values
      const fs::model::ForwardResult one = f.net->forward(f.input, {tap});
      ASSERT_EQ(one.taps.size(), 1u) << tap;
      EXPECT_TRUE(closeToRef(one.taps.at(tap), f.ref("taps/" + tap + ".npy"))) << tap << " alone";
      EXPECT_TRUE(closeToRef(one.logits, f.ref("logits.npy"))) << tap << " alone";
    }
  }
}

// Grad-CAM = sum_c mean_hw(dlogit/dA_c) * A_c, raw: taps are graph tensors in NCHW.
inline void expectFixtureGradientParity(const FixtureParam& param) {
  const auto& [name, weights, prepared] = param;
  FamilyFixture f = loadFamilyFixture(name, weights, prepared);
  at::Tensor x = f.input.clone().requires_grad_(true);
  const fs::model::ForwardResult r = f.net->forward(x, f.taps);
  const int target = f.config["target_class"].get<int>();
  std::vector<at::Tensor> inputs{x};
  for (const auto& tap : f.taps) inputs.push_back(r.taps.at(tap));
  const auto grads = torch::autograd::grad({r.logits[0][target]}, inputs);
  EXPECT_TRUE(closeToRef(grads[0], f.ref("input_gradient.npy")));
  for (size_t i = 0; i < f.taps.size(); ++i) {
    const at::Tensor cam = (grads[i + 1].mean({2, 3}, true) * r.taps.at(f.taps[i])).sum(1)[0];
    EXPECT_TRUE(closeToRef(cam, f.ref("taps/" + f.taps[i] + ".gradcam.npy"))) << f.taps[i];
  }
}

// The fixture's weights under another layout (`renamed`), written as safetensors and read back
// through readCheckpoint into a fresh model, give the fixture's logits.
inline void expectRenamedWeightsLoad(const std::string& fixture, const fs::model::TensorDict& renamed) {
  namespace fm = fs::model;
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/" + fixture + "_renamed.safetensors";
  fm::writeSafetensors(path, renamed);
  const FamilyFixture f = loadFamilyFixture(fixture, "weights.safetensors", false);
  fm::Classifier net = fm::buildModel(fm::loadModelConfigFile(f.dir + "/config.json"), 4);
  fm::loadState(*net, fm::readCheckpoint(path), path);
  torch::NoGradGuard noGrad;
  EXPECT_TRUE(closeToRef(net->forward(f.input, {}).logits, f.ref("logits.npy")));
}

}  // namespace fs::test
