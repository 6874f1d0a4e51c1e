// Swin (model/swin.h): parity with timm's fixture swin_tiny (shifted windows in both stages, the
// -100 mask, relative position bias, patch merging: logits, every tap, Grad-CAM, input gradient;
// safetensors and .pth; autograd and the prepared inference path), with python3-torchvision's
// swin_t through its own key names, the original release's layout, and configs in JSON.
#include "family_fixture.h"
#include "model/errors.h"
#include "torchvision_reference.h"

#include <torch/csrc/autograd/grad_mode.h>

namespace fs::model {
namespace {
using fs::test::closeToRef;

class SwinReference : public ::testing::TestWithParam<fs::test::FixtureParam> {};

TEST_P(SwinReference, LogitsAndEveryTap) { fs::test::expectFixtureForwardParity(GetParam()); }
TEST_P(SwinReference, GradCamAtEveryTapAndInputGradient) { fs::test::expectFixtureGradientParity(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Fixtures, SwinReference,
                         ::testing::Values(std::make_tuple("swin_tiny", "weights.safetensors", false),
                                           std::make_tuple("swin_tiny", "weights.pth", true)),
                         fs::test::fixtureParamName);

TEST(SwinTorchvision, SwinTParityThroughItsOwnKeyNames) { fs::test::expectTorchvisionParity("swin_t", "swin_tiny"); }

// The original release (and timm <= 0.6.13): {'model': ...}, each stage's patch merging stored
// with the stage before it, head.weight, and the computed relative_position_index / attn_mask.
TEST(SwinCheckpoint, OriginalReleaseLayoutLoads) {
  const TensorDict timm = readCheckpoint(fs::test::refDir("swin_tiny") + "/weights.safetensors");
  TensorDict original;
  for (const auto& [name, tensor] : timm.tensors) {
    std::string n = name;
    if (n.rfind("layers.1.downsample.", 0) == 0) n = "layers.0." + n.substr(9);
    if (n.rfind("head.fc.", 0) == 0) n = "head." + n.substr(8);
    original.tensors.emplace_back("model." + n, tensor);
    const std::string table = "relative_position_bias_table";
    if (n.size() > table.size() && n.compare(n.size() - table.size(), table.size(), table) == 0)
      original.tensors.emplace_back("model." + n.substr(0, n.size() - table.size()) + "relative_position_index",
                                    at::zeros({16, 16}, at::kLong));
  }
  original.tensors.emplace_back("model.layers.0.blocks.1.attn_mask", at::zeros({16, 16, 16}));
  ASSERT_TRUE(original.find("model.layers.0.downsample.reduction.weight"));
  ASSERT_TRUE(original.find("model.layers.0.blocks.0.attn.relative_position_index"));
  fs::test::expectRenamedWeightsLoad("swin_tiny", original);
}

TEST(SwinConfig, JsonRoundTripAndOtherSizes) {
  for (const std::string id : {"swin_small", "swin_base"}) {
    const ModelConfig& c = findVariant(id)->config;
    const ModelConfig back = parseModelConfig(modelConfigToJson(c), id);
    EXPECT_EQ(back.depths, c.depths);
    EXPECT_EQ(back.stageHeads, c.stageHeads);
    EXPECT_EQ(estimateParameters(back), findVariant(id)->expectedParams);
  }
  // 96/4 = 24, 12, 6, 3 with window 6: the last stage gets a 3x3 window and no shift.
  const ModelConfig c = parseModelConfig(
      R"({"family":"swin","img_size":96,"patch_size":4,"window_size":6,"embed_dim":16,"depths":[2,1,1,2],
          "num_heads":[1,2,2,4],"num_classes":5})",
      "small.json");
  Classifier net = buildModel(c, 2);
  EXPECT_EQ(net->parameterCount(), estimateParameters(c));
  EXPECT_EQ(net->named_parameters()["layers.3.blocks.1.attn.relative_position_bias_table"].size(0), 25);
  torch::NoGradGuard noGrad;
  const ForwardResult r = net->forward(at::randn({2, 3, 96, 96}), {"layers.3", "norm"});
  EXPECT_EQ(r.taps.at("layers.3").sizes(), (std::vector<int64_t>{2, 128, 3, 3}));
  EXPECT_EQ(r.logits.sizes(), (std::vector<int64_t>{2, 5}));
  for (const char* bad :
       {R"({"family":"swin","img_size":100,"embed_dim":16,"depths":[1,1],"num_heads":[1,2]})",
        R"({"family":"swin","img_size":64,"embed_dim":16,"depths":[1,1],"num_heads":[1]})",
        R"({"family":"swin","img_size":64,"embed_dim":16,"depths":[1],"num_heads":[3]})",
        R"({"family":"swin","img_size":64,"embed_dim":16,"depths":[1],"num_heads":[1],"global_pool":"token"})"})
    EXPECT_THROW(parseModelConfig(bad, "bad.json"), InputError) << bad;
}

}  // namespace
}  // namespace fs::model
