// Theoretical receptive fields (Araujo et al. 2019): the published values of torchvision's ResNets,
// the walk agreeing with every demo model's taps, clipping, token models becoming global, and the
// field containing every input pixel the centre cell's gradient reaches.
#include "analysis/features/receptive_field.h"
#include "analysis/inference.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace {
namespace fa = fs::analysis;

// Every family: the demo models, and the timm reference models of Swin and DeiT (JSON config + weights).
fa::LoadedModel loadFamilyModel(const std::string& id) {
  if (id == "swin_tiny" || id == "deit_tiny") {
    const std::string root = std::string(FS_SOURCE_DIR) + "/tests/data/reference/" + id;
    return fa::loadModel(root + "/config.json", root + "/weights.safetensors", 0);
  }
  return fa::loadModel(id, "", 0);
}

std::vector<std::string> familyModels() {
  return {"resnet_fmnist", "convmlp_fmnist", "puremlp_fmnist", "mixer_fmnist", "resmlp_fmnist",
          "vit_fmnist",    "convnext_fmnist", "deit_tiny",     "swin_tiny"};
}

TEST(ReceptiveField, TorchvisionResNetsHaveTheirPublishedFields) {
  // ResNet-18: 435 px, ResNet-50: 427 px at layer4 (conv1 7x7/2, max pool 3x3/2, the 3x3 convs).
  EXPECT_EQ(fa::receptiveField(fa::loadModel("resnet18", "", 0), "layer4").size, 435);
  const fa::LoadedModel r50 = fa::loadModel("resnet50", "", 0);
  EXPECT_EQ(fa::receptiveField(r50, "layer4").size, 427);
  EXPECT_EQ(fa::receptiveField(r50, "maxpool").size, 11);
  EXPECT_EQ(fa::receptiveField(r50, "layer1").size, 35);
  EXPECT_EQ(fa::receptiveField(r50, "layer4").jump, 32);
}

TEST(ReceptiveField, EveryDemoModelsWalkMatchesItsTaps) {
  for (const std::string& id : familyModels()) {
    const fa::LoadedModel m = loadFamilyModel(id);
    const auto fields = fa::receptiveFields(m);
    ASSERT_EQ(fields.size(), m.net->taps().size()) << id;
    for (size_t i = 0; i < fields.size(); ++i) EXPECT_EQ(fields[i].jump, m.net->taps()[i].stride) << id;
  }
  const fa::LoadedModel mixer = fa::loadModel("mixer_fmnist", "", 0);
  const auto stem = fa::receptiveField(mixer, "stem");
  EXPECT_FALSE(stem.global);
  EXPECT_EQ(stem.size, 16);
  EXPECT_DOUBLE_EQ(stem.start, 7.5);
  EXPECT_TRUE(fa::receptiveField(mixer, "blocks.0").global);
  const fa::LoadedModel conv = fa::loadModel("convmlp_fmnist", "", 0);
  const fa::LoadedModel pure = fa::loadModel("puremlp_fmnist", "", 0);
  // The depthwise 3x3 convolution widens each ConvMLP block by 2 cells; Pure-MLP blocks add nothing.
  EXPECT_EQ(fa::receptiveField(conv, "stages.0").size - fa::receptiveField(pure, "stages.0").size, 2 * 8);
  EXPECT_THROW(fa::receptiveField(conv, "nope"), fs::model::InputError);
  // ConvNeXt: patch-8 stem, one 7x7 depthwise per block (+6 cells), 2x2/2 downsampling (+1 cell).
  const fa::LoadedModel cnx = fa::loadModel("convnext_fmnist", "", 0);
  EXPECT_EQ(fa::receptiveField(cnx, "stem").size, 8);
  EXPECT_EQ(fa::receptiveField(cnx, "stages.0").size, 8 + 6 * 8);
  EXPECT_EQ(fa::receptiveField(cnx, "stages.1").size, 8 + 6 * 8 + 8 + 6 * 16);
  // ViT: the patch, then global from the first attention; the last block's attention input too.
  const fa::LoadedModel vit = fa::loadModel("vit_fmnist", "", 0);
  EXPECT_FALSE(fa::receptiveField(vit, "patch_embed").global);
  EXPECT_EQ(fa::receptiveField(vit, "patch_embed").size, 16);
  EXPECT_TRUE(fa::receptiveField(vit, "blocks.0").global);
  EXPECT_TRUE(fa::receptiveField(vit, "blocks.3.norm1").global);
  // Swin (64 px, patch 4, window 4): 16x16 then 8x8 tokens, each block widens by at most 2 * 3 cells.
  const fa::LoadedModel swin = loadFamilyModel("swin_tiny");
  EXPECT_EQ(fa::receptiveField(swin, "layers.0.blocks.0").size, 4 + 6 * 4);
  EXPECT_FALSE(fa::receptiveField(swin, "layers.1").global);
}

TEST(ReceptiveField, BoxesAreCentredAndClipped) {
  fa::ReceptiveField rf{"t", false, 11, 4, 0.0};
  fa::PixelBox b = fa::receptiveBox(rf, 5, 5, 64, 64);
  EXPECT_EQ(b.x0, 15);
  EXPECT_EQ(b.x1, 26);
  EXPECT_EQ(b.width(), 11);
  b = fa::receptiveBox(rf, 0, 0, 64, 64);
  EXPECT_EQ(b.x0, 0);
  EXPECT_EQ(b.x1, 6);
  rf.global = true;
  b = fa::receptiveBox(rf, 1, 1, 40, 30);
  EXPECT_EQ(b.width(), 30);
  EXPECT_EQ(b.height(), 40);
}

// The gradient of one cell (every channel) w.r.t. the input is zero outside the field.
TEST(ReceptiveField, GradientSupportLiesInsideTheField) {
  for (const std::string& id : familyModels()) {
    fa::LoadedModel m = loadFamilyModel(id);
    torch::AutoGradMode enable(true);
    const int side = m.config.input.height;
    const at::Tensor x = at::randn({1, 3, side, side}, at::detail::createCPUGenerator(3)).requires_grad_(true);
    const auto stages = m.net->stages();
    const auto r = m.net->forward(x, stages);
    for (const auto& tap : stages) {
      const at::Tensor a = r.taps.at(tap);
      const int cy = int(a.size(2) / 2), cx = int(a.size(3) / 2);
      const at::Tensor g = torch::autograd::grad({a.select(3, cx).select(2, cy).sum()}, {x}, {}, true)[0];
      const at::Tensor support = g.abs().sum(at::IntArrayRef{0, 1}) > 0;
      const fa::ReceptiveField rf = fa::receptiveField(m, tap);
      const fa::PixelBox b = fa::receptiveBox(rf, cy, cx, side, side);
      at::Tensor inside = at::zeros_like(support);
      inside.narrow(0, b.y0, b.height()).narrow(1, b.x0, b.width()).fill_(true);
      EXPECT_EQ((support & ~inside).sum().item<int64_t>(), 0) << id << " " << tap;
      EXPECT_GT(support.sum().item<int64_t>(), 0) << id << " " << tap;
      if (rf.global) {  // token mixing reaches beyond the centre patch
        const fa::PixelBox patch = fa::receptiveBox(fa::receptiveFields(m).front(), cy, cx, side, side);
        EXPECT_GT(support.sum().item<int64_t>(), patch.width() * patch.height()) << id << " " << tap;
      }
    }
  }
}

}  // namespace
