// ViT and DeiT (model/vit.h): parity with timm's fixtures vit_tiny and deit_tiny (logits, every
// tap, every block's attention probabilities, Grad-CAM, input gradient; safetensors and .pth;
// autograd and the prepared inference path), with python3-torchvision's vit_b_16 through its own
// key names; the prefix tokens; the CAM tap; configs in JSON.
#include "family_fixture.h"
#include "model/errors.h"
#include "model/vit.h"
#include "torchvision_reference.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cstdlib>
#include <filesystem>

namespace fs::model {
namespace {
using fs::test::closeToRef;

class VitReference : public ::testing::TestWithParam<fs::test::FixtureParam> {};

TEST_P(VitReference, LogitsTapsAndAttention) { fs::test::expectFixtureForwardParity(GetParam()); }
TEST_P(VitReference, GradCamAtEveryTapAndInputGradient) { fs::test::expectFixtureGradientParity(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Fixtures, VitReference,
                         ::testing::Values(std::make_tuple("vit_tiny", "weights.safetensors", false),
                                           std::make_tuple("vit_tiny", "weights.pth", true),
                                           std::make_tuple("deit_tiny", "weights.pth", false),
                                           std::make_tuple("deit_tiny", "weights.safetensors", true)),
                         fs::test::fixtureParamName);

// The prefix tokens after the final norm are what the heads read: head(cls) for ViT, the mean of
// head(cls) and head_dist(dist) for distilled DeiT. The patch-token map has no prefix rows.
TEST(VitPrefixTokens, AreWhatTheHeadsRead) {
  for (const std::string name : {"vit_tiny", "deit_tiny"}) {
    auto f = fs::test::loadFamilyFixture(name, "weights.safetensors", false);
    torch::NoGradGuard noGrad;
    const ForwardResult r = f.net->forward(f.input, {"norm", "blocks.1"});
    const auto names = f.net->prefixTokens();
    ASSERT_EQ(names.size(), name == "deit_tiny" ? 2u : 1u);
    EXPECT_EQ(names[0], "cls");
    ASSERT_EQ(r.prefixTokens.size(), 2u);
    const at::Tensor p = r.prefixTokens.at("norm");
    ASSERT_EQ(p.sizes(), (std::vector<int64_t>{1, int64_t(names.size()), 32}));
    auto params = f.net->named_parameters();
    at::Tensor logits = at::linear(p.select(1, 0), params["head.weight"], params["head.bias"]);
    if (names.size() == 2)
      logits = (logits + at::linear(p.select(1, 1), params["head_dist.weight"], params["head_dist.bias"])) / 2;
    EXPECT_TRUE(closeToRef(logits, f.ref("logits.npy"))) << name;
    EXPECT_EQ(r.taps.at("norm").sizes(), (std::vector<int64_t>{1, 32, 8, 8}));
  }
}

// A CAM at the last block is exactly zero (only the prefix tokens reach the head, the fixtures
// hold those zeros); the default CAM tap, the last block's attention input, is not.
TEST(VitCamTap, LastBlockAttentionInputCarriesTheGradient) {
  auto f = fs::test::loadFamilyFixture("vit_tiny", "weights.safetensors", false);
  const std::string cam = f.net->camTap();
  EXPECT_EQ(cam, "blocks.2.norm1");
  bool listed = false;
  for (const auto& t : f.net->taps()) listed = listed || t.name == cam;
  EXPECT_TRUE(listed);
  const ForwardResult r = f.net->forward(f.input, {cam, "blocks.2"});
  const auto grads = torch::autograd::grad({r.logits[0][6]}, {r.taps.at(cam), r.taps.at("blocks.2")});
  const auto gradCam = [&](int i, const std::string& tap) {
    return (grads[i].mean({2, 3}, true) * r.taps.at(tap)).sum(1);
  };
  EXPECT_GT(gradCam(0, cam).abs().max().item<double>(), 1e-3);
  EXPECT_EQ(gradCam(1, "blocks.2").abs().max().item<double>(), 0.0);
  // Attention units are named after the blocks and follow the taps' order.
  EXPECT_EQ(f.net->attentionUnits(), (std::vector<std::string>{"blocks.0.attn", "blocks.1.attn", "blocks.2.attn"}));
}

// The attention probabilities are graph tensors (gradient-weighted rollout needs dlogit/dA), and
// asking for them changes nothing else (the fixture's logits, no taps).
TEST(VitAttention, ProbabilitiesAreGraphTensors) {
  auto f = fs::test::loadFamilyFixture("deit_tiny", "weights.safetensors", false);
  const ForwardResult r = f.net->forward(f.input, {"blocks.0.attn", "blocks.2.attn"});
  EXPECT_TRUE(closeToRef(r.logits, f.ref("logits.npy")));
  ASSERT_EQ(r.attention.size(), 2u);
  EXPECT_TRUE(r.taps.empty());
  const auto grads =
      torch::autograd::grad({r.logits[0][7]}, {r.attention.at("blocks.0.attn"), r.attention.at("blocks.2.attn")});
  for (const auto& g : grads) {
    ASSERT_EQ(g.sizes(), (std::vector<int64_t>{1, 2, 66, 66}));
    EXPECT_GT(g.abs().max().item<double>(), 1e-6);
  }
  // In the last block only the prefix rows (queries cls, dist) reach the heads.
  EXPECT_EQ(grads[1].narrow(2, 2, 64).abs().max().item<double>(), 0.0);
}

// torchvision's vit_b_16 state_dict (class_token, conv_proj, encoder.layers.encoder_layer_<i>
// with in_proj_weight, ...) loads into vit_base and gives torchvision's logits and taps.
TEST(VitTorchvision, VitB16ParityThroughItsOwnKeyNames) { fs::test::expectTorchvisionParity("vit_b_16", "vit_base"); }

// Google's JAX ViT weights (.npz, a zip of .npy arrays) are refused with a pointer to the hub's
// safetensors, not read as a broken PyTorch zip.
TEST(VitCheckpoint, NumpyArchiveIsRefusedWithAdvice) {
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/ViT-B_16.npz";
  const std::string cmd = std::string(FS_PYTHON) + " -c \"import numpy as np; np.savez('" + path +
                          "', **{'Transformer/encoder_norm/scale': np.ones(3, np.float32)})\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  try {
    readCheckpoint(path);
    FAIL() << "an .npz archive was read";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("safetensors"), std::string::npos) << msg;
  }
}

TEST(VitConfig, JsonRoundTripAndOtherSizes) {
  for (const std::string id : {"vit_small", "deit_base_distilled"}) {
    const ModelConfig& c = findVariant(id)->config;
    const ModelConfig back = parseModelConfig(modelConfigToJson(c), id);
    EXPECT_EQ(back.family, c.family);
    EXPECT_EQ(back.distilled, c.distilled);
    EXPECT_EQ(back.numHeads, c.numHeads);
    EXPECT_EQ(estimateParameters(back), findVariant(id)->expectedParams);
  }
  const ModelConfig c = parseModelConfig(
      R"({"family":"deit","img_size":96,"patch_size":16,"embed_dim":64,"depth":2,"num_heads":4,"mlp_ratio":3,
          "distilled":true,"num_classes":7})",
      "small.json");
  Classifier net = buildModel(c, 2);
  EXPECT_EQ(net->parameterCount(), estimateParameters(c));
  torch::NoGradGuard noGrad;
  const ForwardResult r = net->forward(at::randn({2, 3, 96, 96}), {"blocks.1", "blocks.1.attn"});
  EXPECT_EQ(r.logits.sizes(), (std::vector<int64_t>{2, 7}));
  EXPECT_EQ(r.taps.at("blocks.1").sizes(), (std::vector<int64_t>{2, 64, 6, 6}));
  EXPECT_EQ(r.attention.at("blocks.1.attn").sizes(), (std::vector<int64_t>{2, 4, 38, 38}));
  EXPECT_TRUE(closeToRef(r.attention.at("blocks.1.attn").sum(-1), at::ones({2, 4, 38})));  // rows sum to 1
}

TEST(VitConfig, UnsupportedLayoutsAreRefusedByName) {
  const std::string base = R"({"family":"vit","img_size":64,"patch_size":16,"depth":1,"num_heads":2)";
  const std::pair<const char*, const char*> bad[] = {
      {R"(,"embed_dim":33})", "num_heads"},
      {R"(,"embed_dim":32,"class_token":false})", "class_token"},
      {R"(,"embed_dim":32,"global_pool":"avg"})", "global_pool"},
      {R"(,"embed_dim":32,"no_embed_class":true})", "no_embed_class"},
      {R"(,"embed_dim":32,"num_prefix_tokens":2})", "num_prefix_tokens"},
      {R"(,"embed_dim":32,"input":{"size":[96]}})", "img_size"},
  };
  for (const auto& [tail, word] : bad) {
    try {
      parseModelConfig(base + tail, "bad.json");
      ADD_FAILURE() << tail;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace fs::model
