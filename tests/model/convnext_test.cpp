// ConvNeXt (model/convnext.h): parity with timm's fixture convnext_tiny (logits, every tap,
// Grad-CAM, input gradient; safetensors and .pth; autograd and the prepared inference path), with
// python3-torchvision's convnext_tiny through its own key names, the original release's key
// names, and configs in JSON.
#include "family_fixture.h"
#include "model/errors.h"
#include "torchvision_reference.h"

#include <torch/csrc/autograd/grad_mode.h>

namespace fs::model {
namespace {
using fs::test::closeToRef;

class ConvNeXtReference : public ::testing::TestWithParam<fs::test::FixtureParam> {};

TEST_P(ConvNeXtReference, LogitsAndEveryTap) { fs::test::expectFixtureForwardParity(GetParam()); }
TEST_P(ConvNeXtReference, GradCamAtEveryTapAndInputGradient) { fs::test::expectFixtureGradientParity(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Fixtures, ConvNeXtReference,
                         ::testing::Values(std::make_tuple("convnext_tiny", "weights.safetensors", false),
                                           std::make_tuple("convnext_tiny", "weights.pth", true)),
                         fs::test::fixtureParamName);

TEST(ConvNeXtTorchvision, ConvNeXtTinyParityThroughItsOwnKeyNames) {
  fs::test::expectTorchvisionParity("convnext_tiny", "convnext_tiny");
}

// The original release's names (downsample_layers, stages.<s>.<b>, dwconv, pwconv1/2, norm, head)
// map onto the fixture's modules: the renamed file gives the fixture's logits.
// timm name -> the original release's (test-side inverse of the loader's mapping, MODELS.md).
std::string originalName(std::string n) {
  const auto swap = [&n](const std::string& from, const std::string& to) {
    const size_t at = n.find(from);
    if (at != std::string::npos) n.replace(at, from.size(), to);
  };
  if (n.rfind("stem.", 0) == 0) return "downsample_layers.0." + n.substr(5);
  if (n.rfind("head.norm.", 0) == 0) return "norm." + n.substr(10);
  if (n.rfind("head.fc.", 0) == 0) return "head." + n.substr(8);
  if (n.find(".downsample.") != std::string::npos) {
    swap(".downsample.", ".");
    return "downsample_layers." + n.substr(7);
  }
  swap(".blocks.", "."), swap("conv_dw", "dwconv"), swap("mlp.fc1", "pwconv1"), swap("mlp.fc2", "pwconv2");
  return n;
}

// The original release's names in {'model': ...} map onto the fixture's modules.
TEST(ConvNeXtCheckpoint, OriginalReleaseNamesLoad) {
  const TensorDict timm = readCheckpoint(fs::test::refDir("convnext_tiny") + "/weights.safetensors");
  TensorDict original;
  for (const auto& [name, tensor] : timm.tensors) original.tensors.emplace_back("model." + originalName(name), tensor);
  ASSERT_TRUE(original.find("model.downsample_layers.1.1.weight"));
  ASSERT_TRUE(original.find("model.stages.0.0.pwconv1.weight"));
  ASSERT_TRUE(original.find("model.norm.weight"));
  fs::test::expectRenamedWeightsLoad("convnext_tiny", original);
}

TEST(ConvNeXtConfig, JsonRoundTripAndOtherSizes) {
  for (const std::string id : {"convnext_small", "convnext_base"}) {
    const ModelConfig& c = findVariant(id)->config;
    const ModelConfig back = parseModelConfig(modelConfigToJson(c), id);
    EXPECT_EQ(back.depths, c.depths);
    EXPECT_EQ(back.dims, c.dims);
    EXPECT_EQ(estimateParameters(back), findVariant(id)->expectedParams);
  }
  const ModelConfig c = parseModelConfig(
      R"({"family":"convnext","depths":[1,2],"dims":[16,24],"ls_init_value":null,"num_classes":5,
          "input":{"size":[40,48]}})",
      "small.json");
  Classifier net = buildModel(c, 2);
  EXPECT_EQ(net->parameterCount(), estimateParameters(c));
  EXPECT_EQ(net->named_parameters().find("stages.0.blocks.0.gamma"), nullptr);
  torch::NoGradGuard noGrad;
  const ForwardResult r = net->forward(at::randn({1, 3, 40, 48}), {"stages.1"});
  EXPECT_EQ(r.taps.at("stages.1").sizes(), (std::vector<int64_t>{1, 24, 5, 6}));
  EXPECT_EQ(r.logits.sizes(), (std::vector<int64_t>{1, 5}));
  for (const char* bad : {R"({"family":"convnext","depths":[1,1],"dims":[8]})",
                          R"({"family":"convnext","depths":[1],"dims":[8],"kernel_size":4})",
                          R"({"family":"convnext","depths":[1],"dims":[8],"head_norm_first":true})"})
    EXPECT_THROW(parseModelConfig(bad, "bad.json"), InputError) << bad;
}

}  // namespace
}  // namespace fs::model
