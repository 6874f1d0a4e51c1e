// Contract tests over the whole registry (like timm's test_models.py): exact parameter counts,
// MACs within 1% of MODELS.md, tap shapes as declared, deterministic seeded init.
#include "model/errors.h"
#include "model/layers.h"
#include "model/registry.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace fs::model {
namespace {

class RegisteredVariant : public ::testing::TestWithParam<std::string> {};

TEST_P(RegisteredVariant, ParamsMacsAndTaps) {
  const Variant& v = *findVariant(GetParam());
  Classifier net = buildModel(v.config, 0);
  const int64_t params = net->parameterCount();
  EXPECT_EQ(params, estimateParameters(v.config));
  if (v.expectedParams > 0) EXPECT_EQ(params, v.expectedParams);

  std::vector<std::string> names;
  for (const auto& t : net->taps()) names.push_back(t.name);
  torch::NoGradGuard noGrad;
  MacCounter counter;
  const ForwardResult r = net->forward(at::randn({1, 3, v.config.input.height, v.config.input.width}), names);
  EXPECT_EQ(r.logits.sizes(), (std::vector<int64_t>{1, v.config.numClasses}));
  if (v.expectedGMacs > 0) EXPECT_NEAR(counter.total() / 1e9, v.expectedGMacs, 0.01 * v.expectedGMacs);
  ASSERT_EQ(r.taps.size(), names.size());
  for (const auto& t : net->taps()) {
    EXPECT_EQ(r.taps.at(t.name).sizes(), (std::vector<int64_t>{1, t.channels, t.height, t.width})) << t.name;
    // ceil: padded convs; floor: unpadded 2x2 downsampling (ConvNeXt) at sizes it does not divide
    const int h = v.config.input.height;
    EXPECT_TRUE(t.height == (h + t.stride - 1) / t.stride || t.height == h / t.stride) << t.name << " " << t.height;
  }
  for (const auto& s : net->stages()) EXPECT_TRUE(r.taps.count(s)) << s;
  // The CAM methods' default tap is the output of the last block or stage: the last tap, unless its
  // map is 1x1 (a CAM there is a constant): then the last stage with more positions. Models with
  // prefix tokens (ViT, DeiT) use the input of the last block's attention, also a tap.
  if (net->prefixTokens().empty()) {
    const TapInfo last = net->taps().back();  // a copy: taps() returns by value
    if (last.height * last.width > 1) {
      EXPECT_EQ(net->camTap(), last.name);
    } else {
      const auto stages = net->stages();
      ASSERT_GE(stages.size(), 2u);
      EXPECT_EQ(net->camTap(), stages[stages.size() - 2]);
      EXPECT_GT(r.taps.at(net->camTap()).size(2) * r.taps.at(net->camTap()).size(3), 1);
    }
  } else {
    EXPECT_TRUE(r.taps.count(net->camTap())) << net->camTap();
    EXPECT_EQ(net->camTap().substr(net->camTap().size() - 6), ".norm1");
  }
}

std::vector<std::string> allIds() {
  std::vector<std::string> ids;
  for (const auto& v : registeredVariants()) ids.push_back(v.config.id);
  return ids;
}

INSTANTIATE_TEST_SUITE_P(Registry, RegisteredVariant, ::testing::ValuesIn(allIds()),
                         [](const auto& info) { return info.param; });

TEST(Registry, SeededInitIsDeterministic) {
  const ModelConfig c = findVariant("resnet18")->config;
  Classifier a = buildModel(c, 7), b = buildModel(c, 7), other = buildModel(c, 8);
  EXPECT_TRUE(a->named_parameters()["fc.weight"].equal(b->named_parameters()["fc.weight"]));
  EXPECT_FALSE(a->named_parameters()["fc.weight"].equal(other->named_parameters()["fc.weight"]));
}

TEST(Registry, FoldedBatchNormMatchesUnfolded) {
  for (const std::string id : {"resnet50", "convmlp_s"}) {
    Classifier net = buildModel(findVariant(id)->config, 3);
    for (auto& buf : net->named_buffers())
      if (buf.key().find("running_var") != std::string::npos) buf.value().uniform_(0.5, 2.0);
    torch::NoGradGuard noGrad;
    const at::Tensor x = at::randn({1, 3, 224, 224});
    const at::Tensor plain = net->forward(x, {}).logits;
    net->prepareForInference();
    const at::Tensor folded = net->forward(x, {}).logits;
    EXPECT_TRUE(at::allclose(plain, folded, 1e-3, 1e-4)) << id << " " << (plain - folded).abs().max().item<double>();
  }
}

TEST(Registry, UnknownIdListsTheRegisteredOnes) {
  try {
    resolveModelConfig("convmlp_xl");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("convmlp_s"), std::string::npos);
  }
}

TEST(ModelConfigJson, AbsurdConfigsAreRefusedBeforeAllocation) {
  const char* bad[] = {
      R"({"family":"convmlp","blocks":[1],"dims":[70000],"mlp_ratios":[2],"channels":8})",
      R"({"family":"mlp_mixer","img_size":224,"patch_size":16,"num_blocks":1000,"embed_dim":65536})",
      R"({"family":"resnet","block":"bottleneck","layers":[3,4,1000000,3]})",
      R"({"family":"transformer"})",
      R"({"family":"mlp_mixer","img_size":100,"patch_size":16,"num_blocks":2,"embed_dim":32})",
      R"([1,2,3])",
      R"({"family":"convmlp","blocks":[1,1],"dims":[8],"mlp_ratios":[2],"channels":8})",
  };
  for (const char* json : bad) EXPECT_THROW(parseModelConfig(json, "bad.json"), InputError) << json;
}

}  // namespace
}  // namespace fs::model
