// AttentionService on the vit_tiny reference model (timm-made; its attention is checked against
// timm's by the model tests): the probabilities the model's own forward hands back on the same
// preprocessed image, rows that are distributions, the query maps and the patch under a pixel.
#include "service_test_support.h"

#include "analysis/image_io.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>

namespace {

const std::string kFixture = std::string(FS_SOURCE_DIR) + "/tests/data/reference/vit_tiny/";

TEST(AttentionService, ProbabilitiesOfTheModelsForwardAndTheirQueryMaps) {
  fs::service::Session s;
  const auto info = s.slots().load(0, kFixture + "config.json", kFixture + "weights.safetensors");
  ASSERT_EQ(info.attentionUnits.size(), 3u);
  ASSERT_EQ(info.prefixTokens, (std::vector<std::string>{"cls"}));
  fs::service::ImageRequest r;
  r.path = fs::test::samplePath("coffee.png");
  s.images().open(r);
  const auto a = s.attention().compute(0, "blocks.2.attn");
  EXPECT_EQ(a.heads, 2);
  EXPECT_EQ(a.tokens, 65);
  EXPECT_EQ(a.prefix, 1);
  EXPECT_EQ(a.gridH, 8);
  EXPECT_EQ(a.gridW, 8);
  // The same numbers as a forward of the model itself on the same preprocessed image.
  fs::analysis::LoadedModel m = fs::analysis::loadModel(kFixture + "config.json", kFixture + "weights.safetensors", 0);
  const at::Tensor x =
      fs::analysis::preprocess(fs::analysis::loadImageRgb(fs::test::samplePath("coffee.png")), m.config.input).input;
  at::Tensor expected;
  {
    c10::InferenceMode guard;
    expected = m.net->forward(x, {"blocks.2.attn"}).attention.at("blocks.2.attn")[0].contiguous();
  }
  const at::Tensor got = at::from_blob(const_cast<float*>(a.probs.data()), {2, 65, 65}, at::kFloat);
  EXPECT_TRUE(at::allclose(got, expected, 1e-6, 1e-7));
  EXPECT_TRUE(at::allclose(got.sum(-1), at::ones({2, 65}), 1e-5, 1e-5));  // softmax over keys
  // The class token's map: its row without the prefix column, per head and averaged.
  const cv::Mat h1 = fs::service::attentionMap(a, 1, 0), mean = fs::service::attentionMap(a, -1, 0);
  ASSERT_EQ(h1.size(), cv::Size(8, 8));
  for (int i = 0; i < 64; ++i) {
    EXPECT_FLOAT_EQ(h1.at<float>(i / 8, i % 8), expected[1][0][1 + i].item<float>());
    EXPECT_NEAR(mean.at<float>(i / 8, i % 8), 0.5 * (expected[0][0][1 + i] + expected[1][0][1 + i]).item<double>(), 1e-7);
  }
  // Model-input pixels to patch tokens (64x64 input, 8-pixel patches).
  EXPECT_EQ(fs::service::patchToken(a, 0, 0), 1);
  EXPECT_EQ(fs::service::patchToken(a, 63.9, 0), 8);
  EXPECT_EQ(fs::service::patchToken(a, 20, 35), 1 + 4 * 8 + 2);
  EXPECT_THROW(fs::service::attentionMap(a, 2, 0), fs::model::InputError);
  EXPECT_THROW(s.attention().compute(0, "blocks.9.attn"), fs::model::InputError);
}

TEST(AttentionService, ModelsWithoutAttentionSaySo) {
  fs::service::Session s;
  fs::test::openDemo(s, "resnet_fmnist");
  try {
    s.attention().compute(0, "blocks.0.attn");
    FAIL() << "a ResNet has no attention";
  } catch (const fs::model::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("resnet_fmnist has no attention units"), std::string::npos) << e.what();
  }
}

}  // namespace
