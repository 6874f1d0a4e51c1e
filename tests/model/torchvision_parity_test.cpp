// ResNet parity against Debian's python3-torchvision, generated at test time (random weights,
// randomised BatchNorm statistics): logits and the maxpool / layer taps, folded and unfolded, and
// through the inference-only oneDNN trunk.
#include "model/checkpoint.h"
#include "model/npy.h"
#include "model/registry.h"
#include "test_support.h"

#include <c10/core/InferenceMode.h>

#include <cstdlib>
#include <optional>
#include <filesystem>

namespace fs::model {
namespace {

std::string generate(const std::string& arch) {
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data/torchvision_" + arch;
  const std::string cmd = std::string(FS_PYTHON) + " " + std::string(FS_SOURCE_DIR) + "/tests/python/make_torchvision_resnet.py " +
                          dir + " " + arch;
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("reference generation failed: " + cmd);
  return dir;
}

class TorchvisionParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TorchvisionParity, LogitsAndLayerTaps) {
  const std::string dir = generate(GetParam());
  const at::Tensor input = readNpy(dir + "/input.npy");
  const TensorDict dict = readCheckpoint(dir + "/weights.pth");
  // unfolded, folded, and folded in InferenceMode (the oneDNN trunk on prepacked weights)
  for (int mode : {0, 1, 2}) {
    const bool fold = mode > 0;
    Classifier net = buildModel(findVariant(GetParam())->config, 1);
    loadState(*net, dict, dir + "/weights.pth");
    if (fold) net->prepareForInference();
    const std::vector<std::string> taps{"maxpool", "layer1", "layer2", "layer3", "layer4", "layer1.0", "layer4.1"};
    std::optional<c10::InferenceMode> guard;
    if (mode == 2) guard.emplace();
    const ForwardResult r = net->forward(input, taps);
    const at::Tensor ref = readNpy(dir + "/logits.npy");
    // Deep random networks amplify float rounding: tolerance relative to the logit scale.
    const double scale = ref.abs().max().item<double>();
    EXPECT_TRUE(fs::test::closeToRef(r.logits, ref, 1e-4 * scale, 1e-4)) << "mode=" << mode;
    for (const auto& tap : taps) {
      const at::Tensor t = readNpy(dir + "/taps/" + tap + ".npy");
      EXPECT_TRUE(fs::test::closeToRef(r.taps.at(tap), t, 1e-4 * t.abs().max().item<double>(), 1e-4))
          << tap << " mode=" << mode;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Torchvision, TorchvisionParity, ::testing::Values("resnet18", "resnet50"));

}  // namespace
}  // namespace fs::model
