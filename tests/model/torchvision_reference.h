#pragma once
// Live references from Debian's python3-torchvision for the ViT, Swin and ConvNeXt families
// (tests/python/make_torchvision_transformer.py, run at test time with random weights): the
// torchvision state_dict loads through readCheckpoint (its key names mapped by the family) and
// the logits and every written tap agree, with autograd and on the prepared inference path.
#include "model/checkpoint.h"
#include "model/npy.h"
#include "model/registry.h"
#include "test_support.h"

#include <c10/core/InferenceMode.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>

namespace fs::test {

inline std::string generateTorchvision(const std::string& arch) {
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data/torchvision_" + arch;
  const std::string cmd = std::string(FS_PYTHON) + " " + FS_SOURCE_DIR +
                          "/tests/python/make_torchvision_transformer.py " + dir + " " + arch;
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("reference generation failed: " + cmd);
  return dir;
}

// torchvision `arch` against the registered variant `id`.
inline void expectTorchvisionParity(const std::string& arch, const std::string& id) {
  namespace fm = fs::model;
  const std::string dir = generateTorchvision(arch);
  const at::Tensor input = fm::readNpy(dir + "/input.npy");
  const fm::TensorDict dict = fm::readCheckpoint(dir + "/weights.pth");
  std::vector<std::string> taps;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/taps"))
    taps.push_back(entry.path().stem().string());
  ASSERT_GT(taps.size(), 5u);
  for (bool prepared : {false, true}) {
    fm::Classifier net = fm::buildModel(fm::findVariant(id)->config, 1);
    fm::loadState(*net, dict, dir + "/weights.pth");
    std::optional<c10::InferenceMode> guard;
    if (prepared) net->prepareForInference(), guard.emplace();
    const fm::ForwardResult r = net->forward(input, taps);
    const at::Tensor ref = fm::readNpy(dir + "/logits.npy");
    // Deep random networks amplify float rounding: tolerance relative to the scale.
    EXPECT_TRUE(closeToRef(r.logits, ref, 1e-4 * ref.abs().max().item<double>(), 1e-4))
        << arch << " prepared=" << prepared;
    for (const auto& tap : taps) {
      const at::Tensor t = fm::readNpy(dir + "/taps/" + tap + ".npy");
      ASSERT_TRUE(r.taps.count(tap)) << tap;
      EXPECT_TRUE(closeToRef(r.taps.at(tap), t, 1e-4 * t.abs().max().item<double>(), 1e-4))
          << arch << " " << tap << " prepared=" << prepared;
    }
  }
}

}  // namespace fs::test
