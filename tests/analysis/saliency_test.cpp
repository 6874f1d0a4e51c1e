// Saliency parity: Grad-CAM at every tap and the input gradient against the reference fixtures (tests/data/reference), and
// Grad-CAM against pytorch-style Grad-CAM computed at test time on torchvision's resnet18.
#include "analysis/saliency/saliency_method.h"
#include "saliency_test_support.h"

#include <unistd.h>

#include <cstdlib>

namespace fs::analysis {
namespace {

using fs::test::closeToRef;
using fs::test::refDir;

class SaliencyReference : public ::testing::TestWithParam<std::string> {};

TEST_P(SaliencyReference, GradCamAtEveryTap) {
  const std::string fixture = GetParam();
  const auto config = fs::test::fixtureConfig(fixture);
  LoadedModel m = fs::test::fixtureModel(fixture);
  const at::Tensor x = fs::test::fixtureInput(fixture);
  auto gradcam = makeSaliencyMethod("gradcam");
  ASSERT_FALSE(config["taps"].empty());
  for (const auto& [tap, shape] : config["taps"].items()) {
    SaliencyOptions o;
    o.tap = tap;
    const SaliencyResult r = gradcam->compute(m, x, o);
    EXPECT_EQ(r.target, config["target_class"].get<int>()) << tap;
    EXPECT_EQ(r.tap, tap);
    const at::Tensor ref = fs::model::readNpy(refDir(fixture) + "/taps/" + tap + ".gradcam.npy");
    EXPECT_TRUE(closeToRef(r.map, ref)) << fixture << " " << tap;
  }
}

TEST_P(SaliencyReference, InputGradient) {
  const std::string fixture = GetParam();
  LoadedModel m = fs::test::fixtureModel(fixture);
  SaliencyOptions o;
  o.target = fs::test::fixtureConfig(fixture)["target_class"].get<int>();
  const SaliencyResult r = makeSaliencyMethod("gradient")->compute(m, fs::test::fixtureInput(fixture), o);
  EXPECT_TRUE(r.inputAttribution);
  EXPECT_TRUE(closeToRef(r.map, fs::model::readNpy(refDir(fixture) + "/input_gradient.npy"))) << fixture;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SaliencyReference, ::testing::Values("convmlp_tiny", "mixer_tiny", "resmlp_tiny"));

// Runs tests/python/gradcam_torchvision.py; a failure there fails the test (never a skip).
std::string generateTorchvisionGradCam() {
  const std::string dir = fs::test::saliencyDataDir() + "/torchvision_gradcam_" + std::to_string(::getpid());
  const std::string cmd = std::string(FS_PYTHON) + " " + FS_SOURCE_DIR + "/tests/python/gradcam_torchvision.py " + dir + " 128";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("Python reference failed: " + cmd);
  return dir;
}

// Grad-CAM, Grad-CAM++, XGrad-CAM and LayerCAM against their formulas computed in numpy from
// torchvision's resnet18 activations and gradients (tests/python/gradcam_torchvision.py).
TEST(SaliencyTorchvision, CamFormulasMatchPythonOnResnet18) {
  const std::string dir = generateTorchvisionGradCam();
  LoadedModel m = loadModel("resnet18", dir + "/weights.pth", 0);
  const at::Tensor x = fs::model::readNpy(dir + "/input.npy");
  const int expectedTarget = static_cast<int>(fs::model::readNpy(dir + "/logits.npy")[0].argmax().item<int64_t>());
  for (const std::string method : {"gradcam", "gradcampp", "xgradcam", "layercam"})
    for (const std::string tap : {"layer4", "layer3"}) {
      SaliencyOptions o;
      o.tap = tap;
      const SaliencyResult r = makeSaliencyMethod(method)->compute(m, x, o);
      EXPECT_EQ(r.target, expectedTarget);
      const at::Tensor ref = fs::model::readNpy(dir + "/" + method + "_" + tap + ".npy");
      // A deep random network amplifies float rounding: tolerance relative to the map's scale.
      EXPECT_TRUE(closeToRef(r.map, ref, 1e-4 * ref.abs().max().item<double>(), 1e-3)) << method << " " << tap;
      EXPECT_GT(ref.abs().max().item<double>(), 0.0) << method << " " << tap;
      EXPECT_EQ(r.caveat, "") << method << " " << tap;  // ResNet stage outputs are post-ReLU
    }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fs::analysis
