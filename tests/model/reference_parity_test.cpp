// Parity of the C++ architectures with the reference Python implementations
// (tests/data/reference): logits, every tap, Grad-CAM at every tap and the input gradient; logits
// and taps also through the inference-only path (prepared: folded BatchNorm, packed matmuls) for
// every family, all taps at once and one tap at a time.
#include "model/checkpoint.h"
#include "model/errors.h"
#include "model/kernel_policy.h"
#include "model/npy.h"
#include "model/registry.h"
#include "test_support.h"

#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/autograd.h>

#include <fstream>
#include <optional>

namespace fs::model {
namespace {
using fs::test::closeToRef;
using fs::test::refDir;

struct Fixture {
  nlohmann::json config;
  Classifier net;
  at::Tensor input;
  std::vector<std::string> taps;
};

Fixture loadFixture(const std::string& name, const std::string& weights, bool fold) {
  Fixture f;
  std::ifstream in(refDir(name) + "/config.json");
  f.config = nlohmann::json::parse(in);
  f.net = buildModel(loadModelConfigFile(refDir(name) + "/config.json"), 1);
  loadState(*f.net, readCheckpoint(refDir(name) + "/" + weights), weights);
  if (fold) f.net->prepareForInference();
  f.input = readNpy(refDir(name) + "/input.npy");
  for (auto& [tap, shape] : f.config["taps"].items()) f.taps.push_back(tap);
  return f;
}

class ReferenceParity : public ::testing::TestWithParam<std::tuple<std::string, std::string, bool>> {};

TEST_P(ReferenceParity, LogitsAndEveryTap) {
  const auto& [name, weights, fold] = GetParam();
  Fixture f = loadFixture(name, weights, fold);
  EXPECT_EQ(f.net->parameterCount(), f.config["params"].get<int64_t>());
  // With autograd, and in InferenceMode (the prepacked oneDNN path when folded).
  for (bool inference : {false, true}) {
    std::optional<c10::InferenceMode> guard;
    if (inference) guard.emplace();
    resetKernelUses();
    const ForwardResult r = f.net->forward(f.input, f.taps);
    // A prepared model in InferenceMode runs its convolutions / matmuls on the fast path; an
    // unprepared one never does. With autograd, a prepared model's BatchNorm-folded convolutions
    // (frozen copies) take the packed forward too (PackedConv::runDifferentiable), so that case
    // depends on the family and is not asserted; its values are, below.
    if (inference || !fold) EXPECT_EQ(!kernelUses().empty(), inference && fold) << "inference=" << inference;
    EXPECT_TRUE(closeToRef(r.logits, readNpy(refDir(name) + "/logits.npy"))) << "inference=" << inference;
    ASSERT_EQ(r.taps.size(), f.taps.size());
    for (const auto& tap : f.taps) {
      EXPECT_TRUE(closeToRef(r.taps.at(tap), readNpy(refDir(name) + "/taps/" + tap + ".npy")))
          << tap << " inference=" << inference;
    }
    // One tap at a time, batch 1 (what the feature view and the CAM methods ask for): the same values.
    for (const auto& tap : f.taps) {
      const ForwardResult one = f.net->forward(f.input, {tap});
      ASSERT_EQ(one.taps.size(), 1u) << tap;
      EXPECT_TRUE(closeToRef(one.taps.at(tap), readNpy(refDir(name) + "/taps/" + tap + ".npy")))
          << tap << " alone, inference=" << inference;
      EXPECT_TRUE(closeToRef(one.logits, readNpy(refDir(name) + "/logits.npy"))) << tap << " alone";
    }
  }
}

// Grad-CAM = sum_c mean_hw(dlogit/dA_c) * A_c, raw: proves taps are graph tensors in NCHW.
TEST_P(ReferenceParity, GradCamAtEveryTapAndInputGradient) {
  const auto& [name, weights, fold] = GetParam();
  Fixture f = loadFixture(name, weights, fold);
  at::Tensor x = f.input.clone().requires_grad_(true);
  const ForwardResult r = f.net->forward(x, f.taps);
  const int target = f.config["target_class"].get<int>();
  std::vector<at::Tensor> inputs{x};
  for (const auto& tap : f.taps) inputs.push_back(r.taps.at(tap));
  const auto grads = torch::autograd::grad({r.logits[0][target]}, inputs);
  EXPECT_TRUE(closeToRef(grads[0], readNpy(refDir(name) + "/input_gradient.npy")));
  for (size_t i = 0; i < f.taps.size(); ++i) {
    const at::Tensor weightsC = grads[i + 1].mean({2, 3}, true);
    const at::Tensor cam = (weightsC * r.taps.at(f.taps[i])).sum(1)[0];
    EXPECT_TRUE(closeToRef(cam, readNpy(refDir(name) + "/taps/" + f.taps[i] + ".gradcam.npy"))) << f.taps[i];
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ReferenceParity,
    ::testing::Values(std::make_tuple("convmlp_tiny", "weights.safetensors", false),
                      std::make_tuple("convmlp_tiny", "weights.pth", false),
                      std::make_tuple("convmlp_tiny", "weights.pth", true),
                      std::make_tuple("convmlp_tiny", "wrapped_model.pth", true),
                      std::make_tuple("convmlp_tiny", "wrapped_state_dict_module_prefix.pth", true),
                      std::make_tuple("mixer_tiny", "weights.safetensors", false),
                      std::make_tuple("mixer_tiny", "weights.pth", false),
                      std::make_tuple("mixer_tiny", "weights.safetensors", true),
                      std::make_tuple("resmlp_tiny", "weights.safetensors", false),
                      std::make_tuple("resmlp_tiny", "weights.pth", false),
                      std::make_tuple("resmlp_tiny", "weights.safetensors", true),
                      std::make_tuple("resmlp_tiny", "weights_fb_naming.pth", false)),
    [](const auto& info) {
      std::string s = std::get<0>(info.param) + "_" + std::get<1>(info.param) + (std::get<2>(info.param) ? "_folded" : "");
      for (char& c : s)
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      return s;
    });

// Half-precision files load as float32; logits stay close (the weights were rounded).
TEST(ReferenceParityHalf, F16AndBf16Load) {
  for (const std::string file : {"weights_f16.safetensors", "weights_bf16.safetensors"}) {
    Fixture f = loadFixture("convmlp_tiny", file, true);
    const at::Tensor ref = readNpy(refDir("convmlp_tiny") + "/logits.npy");
    const at::Tensor logits = f.net->forward(f.input, {}).logits;
    EXPECT_TRUE(closeToRef(logits, ref, 0.05, 0.05)) << file;
    EXPECT_EQ(logits.argmax(1).item<int64_t>(), ref.argmax(1).item<int64_t>()) << file;
  }
}

TEST(ReferenceParityLegacy, LegacyPickleRefusedWithAdvice) {
  try {
    readCheckpoint(refDir("convmlp_tiny") + "/legacy_format.pth");
    FAIL() << "legacy file was accepted";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("legacy_format.pth"), std::string::npos) << msg;
    EXPECT_NE(msg.find("safetensors"), std::string::npos) << msg;
  }
}

// A checkpoint of another architecture is refused by name and leaves the model untouched.
TEST(ReferenceParityStrict, WrongArchitectureNeverLoadsPartially) {
  Classifier net = buildModel(loadModelConfigFile(refDir("convmlp_tiny") + "/config.json"), 1);
  const at::Tensor before = net->named_parameters()["head.weight"].clone();
  try {
    loadState(*net, readCheckpoint(refDir("mixer_tiny") + "/weights.safetensors"), "mixer.safetensors");
    FAIL() << "mixer weights loaded into ConvMLP";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.block.0.weight"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(net->named_parameters()["head.weight"].equal(before));
}

}  // namespace
}  // namespace fs::model
