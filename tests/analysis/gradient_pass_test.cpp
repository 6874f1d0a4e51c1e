// One batched gradient pass shared by the methods that read it (analysis/saliency/gradient_pass.h):
// each method's map from the pass equals its own compute() on that input, for the CAM family at
// the demo models' CAM taps (conv stages and token blocks) and for the input-gradient methods; one
// cache entry per input batch serves every method; and a scorecard's max-sensitivity, which takes
// its re-explanations from the pass, equals the metric computed with compute() on each perturbed
// input.
#include "analysis/evaluation/robustness.h"
#include "analysis/fashion_mnist.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/saliency/displayed_map.h"
#include "analysis/saliency/gradient_pass.h"
#include "analysis/saliency/saliency_base.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/scorecard.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {
namespace fa = fs::analysis;

const std::vector<std::string> kPassMethods{"gradcam", "layercam", "gradcampp", "xgradcam",
                                            "hirescam", "gradient",  "gradxinput"};

// Three inputs near a Fashion-MNIST test image, as max-sensitivity draws them.
at::Tensor perturbedInputs(const fa::LoadedModel& m, int64_t index) {
  const fa::ImageDataset data = fa::loadFashionMnist(fa::defaultFashionMnistDir(), false);
  const at::Tensor x = fa::fashionMnistBatch(data.images.narrow(0, index, 1), m.config.input);
  at::Generator gen = at::detail::createCPUGenerator(7);
  std::vector<at::Tensor> ys;
  for (int s = 0; s < 3; ++s) ys.push_back(x + at::empty_like(x).uniform_(-0.02, 0.02, gen));
  return at::cat(ys);
}

class GradientPassMaps : public ::testing::TestWithParam<std::string> {};

TEST_P(GradientPassMaps, EqualEachMethodsOwnComputeOnEachInput) {
  fa::LoadedModel m = fa::loadModel(GetParam(), "", 0);
  const at::Tensor ys = perturbedInputs(m, 3);
  const int target = 2;
  fa::GradientPassCache cache(fa::resolveTap(m, ""), /*inputGradient=*/true);
  const fa::GradientPass& pass = cache.get(m, ys, target);
  ASSERT_EQ(pass.inputGradients.sizes(), ys.sizes());
  ASSERT_EQ(pass.activations.size(0), 3);
  for (const std::string& name : kPassMethods) {
    const auto method = fa::makeSaliencyMethod(name);
    ASSERT_NE(method->passUse(), fa::PassUse::None) << name;
    fa::SaliencyOptions o;
    o.target = target;
    for (int64_t s = 0; s < ys.size(0); ++s) {
      const at::Tensor own = method->compute(m, ys.narrow(0, s, 1), o).map2d.to(at::kDouble);
      const at::Tensor shared = method->mapFromPass(pass, s).to(at::kDouble);
      ASSERT_EQ(own.sizes(), shared.sizes()) << name;
      const double scale = own.abs().max().item<double>();
      ASSERT_GT(scale, 0.0) << name;
      // A batch of 3 may run other kernel blockings than a batch of 1: float rounding apart (at most
      // 7e-7 of the map here; the maps of two different samples differ by 3e-3 or more).
      EXPECT_LE((own - shared).abs().max().item<double>(), 1e-5 * scale) << name << " sample " << s;
    }
  }
  // The same inputs and target again: the same pass, not a second one.
  EXPECT_EQ(&cache.get(m, ys.clone(), target), &pass);
  EXPECT_EQ(cache.size(), 1u);
  cache.get(m, ys, target == 0 ? 1 : 0);  // another target: another pass
  cache.get(m, ys + 0.001, target);       // other inputs: another pass
  EXPECT_EQ(cache.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(DemoModels, GradientPassMaps,
                         ::testing::Values("resnet_fmnist", "mixer_fmnist", "convmlp_fmnist"));

TEST(GradientPass, RefusesWhatItCannotServe) {
  fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  const at::Tensor ys = perturbedInputs(m, 0);
  const std::string tap = fa::resolveTap(m, "");
  EXPECT_THROW(fa::gradientPass(m, ys, 10, tap, true), fs::model::InputError);     // no class 10
  EXPECT_THROW(fa::gradientPass(m, ys[0], 1, tap, true), fs::model::InputError);   // not [S,3,H,W]
  EXPECT_THROW(fa::gradientPass(m, ys, 1, "", false), fs::model::InputError);      // nothing asked for
  EXPECT_THROW(fa::gradientPass(m, ys, 1, "no_such_tap", false), fs::model::InputError);
  const fa::GradientPass tapOnly = fa::gradientPass(m, ys, 1, tap, false);
  EXPECT_FALSE(tapOnly.inputGradients.defined());
  EXPECT_THROW(fa::makeSaliencyMethod("gradient")->mapFromPass(tapOnly, 0), fs::model::InputError);
  EXPECT_THROW(fa::makeSaliencyMethod("gradcam")->mapFromPass(tapOnly, 3), fs::model::InputError);
  EXPECT_EQ(fa::makeSaliencyMethod("integrated_gradients")->passUse(), fa::PassUse::None);
  EXPECT_THROW(fa::makeSaliencyMethod("occlusion")->mapFromPass(tapOnly, 0), fs::model::InputError);
}

// A scorecard's max-sensitivity of Grad-CAM, LayerCAM and the input gradient against the metric
// with every perturbed input explained by compute() on its own (robustness.h, the per-input form).
TEST(GradientPass, ScorecardMaxSensitivityEqualsPerInputExplanations) {
  fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  const std::string dir = testing::TempDir() + "fs_gradient_pass_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  fa::ScorecardOptions o;
  o.dataset = "fashion-mnist", o.limit = 2, o.seed = 5;
  o.methods = {"gradcam", "layercam", "gradient"};
  o.metrics = {"max_sensitivity"};
  o.outPath = dir + "/card.json";
  fa::runScorecard(m, o);
  std::ifstream in(o.outPath);
  const nlohmann::json card = nlohmann::json::parse(in);
  const fa::ImageDataset data = fa::loadFashionMnist(fa::defaultFashionMnistDir(), false);
  int compared = 0;
  for (int64_t i = 0; i < 2; ++i) {
    const at::Tensor x = fa::fashionMnistBatch(data.images.narrow(0, i, 1), m.config.input);
    const int target = fa::predict(m, x, 1).top.front().index;
    char name[32];
    std::snprintf(name, sizeof name, "test-%05lld", static_cast<long long>(i));
    const nlohmann::json& entry = card["images"][name];
    ASSERT_EQ(entry["target"].get<int>(), target);
    for (const std::string& methodName : o.methods) {
      const auto method = fa::makeSaliencyMethod(methodName);
      fa::SaliencyOptions so;
      so.target = target;
      const fa::SignMode sign = method->convention().sign;
      const at::Tensor map = fa::displayedMap(method->compute(m, x, so).map2d, sign);
      const auto perInput = [&](const at::Tensor& ys) {
        std::vector<at::Tensor> maps;
        for (int64_t s = 0; s < ys.size(0); ++s)
          maps.push_back(fa::displayedMap(method->compute(m, ys.narrow(0, s, 1), so).map2d, sign));
        return at::stack(maps);
      };
      fa::SensitivityOptions so2;
      so2.seed = o.seed + uint64_t(i);
      const double expected = fa::maxSensitivity(perInput, x, map, so2);
      const double got = entry["methods"][methodName]["max_sensitivity"].get<double>();
      EXPECT_GT(expected, 0.0) << methodName;
      EXPECT_NEAR(got, expected, 1e-3 * expected) << methodName << " image " << i;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 6);
  std::filesystem::remove_all(dir);
}

}  // namespace
