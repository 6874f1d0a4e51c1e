// Theoretical receptive fields (Araujo et al. 2019): the published values of torchvision's ResNets,
// the walk agreeing with every demo model's taps, clipping, token models becoming global, and the
// field containing every input pixel the centre cell's gradient reaches.
#include "analysis/features/receptive_field.h"
#include "analysis/inference.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace {
namespace fa = fs::analysis;

const char* const kDemoModels[] = {"resnet_fmnist", "convmlp_fmnist", "puremlp_fmnist", "mixer_fmnist", "resmlp_fmnist"};

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
  for (const char* id : kDemoModels) {
    const fa::LoadedModel m = fa::loadModel(id, "", 0);
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
  for (const char* id : kDemoModels) {
    fa::LoadedModel m = fa::loadModel(id, "", 0);
    torch::AutoGradMode enable(true);
    const at::Tensor x = at::randn({1, 3, 112, 112}, at::detail::createCPUGenerator(3)).requires_grad_(true);
    const auto stages = m.net->stages();
    const auto r = m.net->forward(x, stages);
    for (const auto& tap : stages) {
      const at::Tensor a = r.taps.at(tap);
      const int cy = int(a.size(2) / 2), cx = int(a.size(3) / 2);
      const at::Tensor g = torch::autograd::grad({a.select(3, cx).select(2, cy).sum()}, {x}, {}, true)[0];
      const at::Tensor support = g.abs().sum(at::IntArrayRef{0, 1}) > 0;
      const fa::ReceptiveField rf = fa::receptiveField(m, tap);
      const fa::PixelBox b = fa::receptiveBox(rf, cy, cx, 112, 112);
      at::Tensor inside = at::zeros_like(support);
      inside.narrow(0, b.y0, b.height()).narrow(1, b.x0, b.width()).fill_(true);
      EXPECT_EQ((support & ~inside).sum().item<int64_t>(), 0) << id << " " << tap;
      EXPECT_GT(support.sum().item<int64_t>(), 0) << id << " " << tap;
      if (rf.global) {  // token mixing reaches beyond the centre patch
        const fa::PixelBox patch = fa::receptiveBox(fa::receptiveField(m, "stem"), cy, cx, 112, 112);
        EXPECT_GT(support.sum().item<int64_t>(), patch.width() * patch.height()) << id << " " << tap;
      }
    }
  }
}

}  // namespace
