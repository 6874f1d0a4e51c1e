// SaliencyService: the map is the method's displayed 2-D map (map2d) computed directly, with the
// method's display convention; the curves rank that same map; cancel and bad classes.
#include "service_test_support.h"

#include "analysis/faithfulness.h"
#include "analysis/image_io.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "analysis/saliency/attention_rollout.h"
#include "analysis/saliency/saliency_method.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <set>

namespace {

using fs::service::SaliencyParams;
using fs::service::Session;

TEST(SaliencyService, EveryMethodReturnsTheDirectlyComputedDisplayedMap) {
  Session s;
  fs::test::openDemo(s, "convmlp_fmnist");
  fs::analysis::LoadedModel m = fs::analysis::loadModel("convmlp_fmnist", "", 0);
  const at::Tensor x =
      fs::analysis::preprocess(fs::analysis::loadImageRgb(fs::test::samplePath("fmnist_0000_ankle-boot.png")),
                               m.config.input)
          .input;
  for (const std::string& name : fs::service::SaliencyService::methodNames()) {
    SaliencyParams p;
    p.method = name;
    p.samples = 3, p.steps = 6, p.window = 28, p.stride = 28;
    if (fs::analysis::needsAttentionUnits(name)) {  // ViT/DeiT only: ConvMLP is refused
      EXPECT_THROW(s.saliency().compute(0, p), fs::model::InputError) << name;
      continue;
    }
    const auto r = s.saliency().compute(0, p);
    auto method = fs::analysis::makeSaliencyMethod(name);
    fs::analysis::SaliencyOptions o;
    static_cast<fs::analysis::MethodParameters&>(o) = p;
    const auto direct = method->compute(m, x, o);
    const cv::Mat expected = fs::analysis::saliencyMapToMat(direct.map2d);
    ASSERT_EQ(r.map.size(), expected.size()) << name;
    EXPECT_EQ(cv::norm(r.map, expected, cv::NORM_INF), 0.0) << name;
    EXPECT_EQ(r.target, direct.target) << name;
    const auto d = fs::analysis::displaySettings(method->convention());
    EXPECT_EQ(r.display.sign, d.sign) << name;
    EXPECT_EQ(r.display.colormap, d.colormap) << name;
    EXPECT_EQ(r.display.clipPercentile, d.clipPercentile) << name;
  }
}

TEST(SaliencyService, CurvesRankTheDisplayedMap) {
  Session s;
  fs::test::openDemo(s, "resnet_fmnist");
  SaliencyParams p;
  p.method = "gradient";
  p.curves = true;
  p.curveSteps = 10;
  const auto r = s.saliency().compute(0, p);
  ASSERT_TRUE(r.hasCurves);
  fs::analysis::LoadedModel m = fs::analysis::loadModel("resnet_fmnist", "", 0);
  const at::Tensor x =
      fs::analysis::preprocess(fs::analysis::loadImageRgb(fs::test::samplePath("fmnist_0000_ankle-boot.png")),
                               m.config.input)
          .input;
  const at::Tensor map = at::from_blob(const_cast<float*>(r.map.ptr<float>()), {r.map.rows, r.map.cols}, at::kFloat).clone();
  fs::analysis::CurveOptions co;
  co.steps = 10;
  const auto del = fs::analysis::deletionCurve(m, x, map, r.target, co);
  ASSERT_EQ(del.probs.size(), r.deletion.probs.size());
  for (size_t i = 0; i < del.probs.size(); ++i) EXPECT_NEAR(del.probs[i], r.deletion.probs[i], 1e-6) << i;
  EXPECT_NEAR(del.auc, r.deletion.auc, 1e-9);
}

TEST(SaliencyService, CancelledAndBadClassesAreReported) {
  Session s;
  fs::test::openDemo(s, "resnet_fmnist");
  SaliencyParams p;
  p.method = "smoothgrad";
  const std::atomic<bool> cancel{true};
  EXPECT_TRUE(s.saliency().compute(0, p, {}, &cancel).cancelled);
  p.method = "gradcam";
  p.target = 10;  // 10 classes: 0-9
  EXPECT_THROW(s.saliency().compute(0, p), fs::model::InputError);
  p.target = -1;
  p.method = "no_such_method";
  EXPECT_THROW(s.saliency().compute(0, p), fs::model::InputError);
}

// Every parameter a method reads has one row in the parameter table (its range, default and
// label for the CLI and the GUI's form), and every row is read by some method.
TEST(SaliencyService, TheParameterTableCoversEveryMethodsParameters) {
  std::set<std::string> read;
  for (const std::string& name : fs::service::SaliencyService::methodNames())
  {
    const auto method = fs::analysis::makeSaliencyMethod(name);
    for (const std::string& p : method->parameters()) {
      EXPECT_NO_THROW(fs::analysis::parameterSpec(p)) << name << " reads " << p;
      EXPECT_FALSE(fs::analysis::parameterSpec(p).own) << name << ": " << p << " is another method's own";
      read.insert(p);
    }
    for (const auto& spec : method->ownParameters()) {
      EXPECT_TRUE(read.insert(spec.name).second) << name << " declares " << spec.name << " a second time";
      EXPECT_TRUE(fs::analysis::parameterSpec(spec.name).own) << spec.name;
      EXPECT_GE(spec.defaultValue, spec.minimum) << spec.name;
      EXPECT_LE(spec.defaultValue, spec.maximum) << spec.name;
    }
  }
  for (const auto& spec : fs::analysis::parameterSpecs()) EXPECT_TRUE(read.count(spec.name)) << spec.name;
  EXPECT_THROW(fs::analysis::parameterSpec("no_such_parameter"), fs::model::InputError);
}

}  // namespace
