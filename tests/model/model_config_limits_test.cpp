// Resource limits of JSON model configs at their exact boundaries: every dimension (including
// num_classes and the MLP hidden widths the ratios imply) <= 65,536 and <= 2e9 parameters, checked
// from the config alone, before anything is built.
#include "model/errors.h"
#include "model/model_config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace fs::model {
namespace {

constexpr int64_t kMaxParams = 2'000'000'000;

std::string refusal(const std::string& json) {
  try {
    parseModelConfig(json, "limits.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

void expectRefused(const std::string& json, const std::string& needle) {
  const std::string message = refusal(json);
  ASSERT_FALSE(message.empty()) << "accepted: " << json;
  EXPECT_EQ(message.rfind("limits.json: ", 0), 0u) << message;
  EXPECT_NE(message.find(needle), std::string::npos) << message;
}

std::string convMlp(int dim, double ratio, int blocks = 0, int classes = 10) {
  return R"({"family":"convmlp","blocks":[)" + std::to_string(blocks) + R"(],"dims":[)" + std::to_string(dim) +
         R"(],"mlp_ratios":[)" + std::to_string(ratio) + R"(],"channels":8,"n_conv_blocks":0,"num_classes":)" +
         std::to_string(classes) + "}";
}

std::string mixer(int blocks, int dim, const std::string& ratios = "[1,4]") {
  return R"({"family":"mlp_mixer","img_size":16,"patch_size":16,"num_blocks":)" + std::to_string(blocks) +
         R"(,"embed_dim":)" + std::to_string(dim) + R"(,"mlp_ratio":)" + ratios + R"(,"num_classes":10})";
}

TEST(ModelConfigLimits, DimensionsUpTo65536AreAcceptedAndNotBeyond) {
  EXPECT_EQ(parseModelConfig(convMlp(65536, 1.0), "limits.json").dims.at(0), 65536);
  expectRefused(convMlp(65537, 1.0), "'dims' = 65537 is outside [2, 65536]");

  EXPECT_EQ(parseModelConfig(convMlp(16, 2.0, 1, 65536), "limits.json").numClasses, 65536);
  expectRefused(convMlp(16, 2.0, 1, 65537), "'num_classes' = 65537 is outside [1, 65536]");

  expectRefused(mixer(1, 65537), "'embed_dim' = 65537");
  expectRefused(R"({"family":"resnet","layers":[1],"width":4097})", "'width' = 4097");
  expectRefused(R"({"family":"convmlp","blocks":[1],"dims":[16],"mlp_ratios":[2],"channels":8,
                    "input":{"size":[65537]}})", "'size' = 65537");
}

TEST(ModelConfigLimits, MlpHiddenWidthsObeyTheDimensionLimit) {
  EXPECT_NO_THROW(parseModelConfig(convMlp(1024, 64.0, 1), "limits.json"));  // hidden 65,536
  expectRefused(convMlp(1025, 64.0, 1), "hidden width of 65600");
  expectRefused(convMlp(2, 0.25, 1), "hidden width of 0");
  // Mixer token MLP: few tokens keep the parameter count small, the hidden width is still absurd.
  expectRefused(mixer(1, 4096, "[64,4]"), "hidden width of 262144");
  expectRefused(R"({"family":"resmlp","img_size":16,"patch_size":16,"num_blocks":1,"embed_dim":2048,
                    "mlp_ratio":64})", "hidden width of 131072");
}

TEST(ModelConfigLimits, ParameterLimitIsTwoBillionFromTheConfigAlone) {
  // 8 * 4096^2 parameters per block: 14 blocks stay just below the limit, 15 exceed it.
  const ModelConfig below = parseModelConfig(mixer(14, 4096), "limits.json");
  EXPECT_GT(estimateParameters(below), 1'800'000'000);
  EXPECT_LE(estimateParameters(below), kMaxParams);

  const auto start = std::chrono::steady_clock::now();
  expectRefused(mixer(15, 4096), "parameters (limit 2,000,000,000)");
  // 65536^2 tokens: the token-mixing layer alone has more than 2^64 weights; the count saturates
  // instead of wrapping around, so the config is refused the same way.
  expectRefused(R"({"family":"resmlp","img_size":65536,"patch_size":1,"num_blocks":1,"embed_dim":1})",
                "parameters (limit 2,000,000,000)");
  expectRefused(R"({"family":"resnet","block":"bottleneck","layers":[1000,1000,1000,1000],"width":4096})",
                "parameters (limit 2,000,000,000)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));  // nothing was built
}

}  // namespace
}  // namespace fs::model
