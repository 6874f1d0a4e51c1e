// Every registered saliency method on the ViT, DeiT, Swin and ConvNeXt reference fixtures: a
// finite map of the documented shape with no per-family code in the methods (the taps contract
// carries the layout), the CAM methods at the model's camTap() (ViT/DeiT: blocks.<last>.norm1),
// the attention methods on ViT/DeiT only; and the exactly-zero CAM at the last ViT block with the
// caveat that says why.
#include "analysis/inference.h"
#include "analysis/saliency/attention_rollout.h"
#include "analysis/saliency/saliency_method.h"
#include "model/errors.h"
#include "tests/analysis/saliency_test_support.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace fa = fs::analysis;

namespace {

const char* kNewFamilies[] = {"vit_tiny", "deit_tiny", "swin_tiny", "convnext_tiny"};

}  // namespace

TEST(NewFamiliesSaliency, DefaultCamTapIsTheLastBlocksAttentionInputForViTAndDeiT) {
  for (const std::string fixture : {"vit_tiny", "deit_tiny"}) {
    fa::LoadedModel m = fs::test::fixtureModel(fixture);
    const int depth = fs::test::fixtureConfig(fixture)["depth"].get<int>();
    EXPECT_EQ(m.net->camTap(), "blocks." + std::to_string(depth - 1) + ".norm1") << fixture;
    EXPECT_NO_THROW(fa::findTap(m, m.net->camTap())) << fixture;
    EXPECT_EQ(m.net->attentionUnits().size(), size_t(depth)) << fixture;
  }
  for (const std::string fixture : {"swin_tiny", "convnext_tiny"}) {
    fa::LoadedModel m = fs::test::fixtureModel(fixture);
    EXPECT_NO_THROW(fa::findTap(m, m.net->camTap())) << fixture;
    EXPECT_TRUE(m.net->attentionUnits().empty()) << fixture;
    EXPECT_TRUE(m.net->prefixTokens().empty()) << fixture;
  }
}

TEST(NewFamiliesSaliency, EveryMethodGivesAFiniteMapOfTheDocumentedShape) {
  fa::SaliencyOptions o;
  o.samples = 3, o.steps = 3, o.window = 32, o.stride = 32, o.batchSize = 8;
  fa::setParameterValue(o, "masks", 40);
  for (const std::string fixture : kNewFamilies) {
    fa::LoadedModel m = fs::test::fixtureModel(fixture);
    const at::Tensor x = fs::test::fixtureInput(fixture);
    const at::Tensor camTap = fa::extractTap(m, x, m.net->camTap());
    const auto grid = m.net->taps().front();  // patch_embed / stem: the patch grid
    const bool attention = !m.net->attentionUnits().empty();
    for (const auto& name : fa::saliencyMethodNames()) {
      auto method = fa::makeSaliencyMethod(name);
      if (fa::needsAttentionUnits(name) && !attention) {
        EXPECT_THROW(method->compute(m, x, o), fs::model::InputError) << fixture << " " << name;
        continue;
      }
      const fa::SaliencyResult r = method->compute(m, x, o);
      ASSERT_TRUE(r.map.defined()) << fixture << " " << name;
      if (method->usesTap()) {
        EXPECT_EQ(r.tap, m.net->camTap()) << fixture << " " << name;
        EXPECT_EQ(r.map.sizes().vec(), (std::vector<int64_t>{camTap.size(2), camTap.size(3)})) << fixture << " " << name;
      } else if (fa::needsAttentionUnits(name)) {  // the class token's row at the patch grid
        EXPECT_EQ(r.map.sizes().vec(), (std::vector<int64_t>{grid.height, grid.width})) << fixture << " " << name;
        // Non-negative by construction, shown like a CAM (ReLU, no clip, turbo); map2d is the map.
        EXPECT_GE(r.map.min().item<double>(), 0.0) << fixture << " " << name;
        const fa::MapConvention c = method->convention();
        EXPECT_EQ(c.sign, fa::SignMode::Relu) << name;
        EXPECT_EQ(c.clipPercentile, 100.0) << name;
        EXPECT_EQ(c.colormap, fa::Colormap::Turbo) << name;
        EXPECT_TRUE(at::equal(r.map2d, r.map)) << fixture << " " << name;
      } else {
        EXPECT_TRUE(r.map.sizes() == x.sizes() || r.map.sizes() == (at::IntArrayRef{x.size(2), x.size(3)}))
            << fixture << " " << name << " " << r.map.sizes();
      }
      EXPECT_EQ(r.map2d.dim(), 2) << fixture << " " << name;
      EXPECT_TRUE(at::isfinite(r.map).all().item<bool>()) << fixture << " " << name;
      EXPECT_GT(r.map.abs().max().item<double>(), 0.0) << fixture << " " << name << ": the map is not empty";
      EXPECT_TRUE(r.caveat.find("exactly zero") == std::string::npos) << fixture << " " << name << ": " << r.caveat;
      EXPECT_EQ(r.target, fs::test::fixtureConfig(fixture)["target_class"].get<int>()) << fixture << " " << name;
    }
  }
}

// Only the prefix tokens reach the head after the last block: a gradient CAM there is exactly
// zero, as the fixtures' raw Grad-CAM files show, and the result says why (the CLI prints it as
// "caveat  ..."); the default tap's map is not zero.
TEST(NewFamiliesSaliency, CamAtTheLastViTBlockIsExactlyZeroWithItsCaveat) {
  for (const std::string fixture : {"vit_tiny", "deit_tiny"}) {
    fa::LoadedModel m = fs::test::fixtureModel(fixture);
    const at::Tensor x = fs::test::fixtureInput(fixture);
    const int depth = fs::test::fixtureConfig(fixture)["depth"].get<int>();
    const std::string last = "blocks." + std::to_string(depth - 1);
    for (const std::string tap : {last, std::string("norm")}) {
      const at::Tensor ref = fs::model::readNpy(fs::test::refDir(fixture) + "/taps/" + tap + ".gradcam.npy");
      ASSERT_TRUE(at::all(ref == 0).item<bool>()) << fixture << " " << tap << ": the fixture holds zeros";
      for (const std::string method : {"gradcam", "hirescam", "layercam", "xgradcam", "gradcampp"}) {
        fa::SaliencyOptions o;
        o.tap = tap;
        const fa::SaliencyResult r = fa::makeSaliencyMethod(method)->compute(m, x, o);
        EXPECT_TRUE(at::all(r.map == 0).item<bool>()) << fixture << " " << tap << " " << method;
        const std::string prefix = fixture == "deit_tiny" ? "cls, dist" : "cls";
        EXPECT_EQ(r.caveat, "the map at tap " + tap + " is exactly zero: after the last block's attention only the prefix tokens (" +
                                prefix + ") reach the head, so no gradient reaches a patch token here; the default CAM tap " +
                                last + ".norm1 (the last block's attention input) or an earlier block shows the patches")
            << fixture << " " << method;
      }
    }
    const fa::SaliencyResult atDefault = fa::makeSaliencyMethod("gradcam")->compute(m, x, {});
    EXPECT_EQ(atDefault.tap, last + ".norm1");
    EXPECT_GT(atDefault.map.abs().max().item<double>(), 0.0) << fixture;
    EXPECT_TRUE(atDefault.caveat.empty()) << atDefault.caveat;
  }
}
