// Effective receptive field (Luo et al. 2016) against torch autograd on torchvision's ResNet-18
// (tests/python/erf_reference.py, same weights and inputs), the 50%/90% radii against numpy, and
// radii of maps whose answer is known.
#include "analysis/features/effective_rf.h"
#include "model/errors.h"
#include "model/npy.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <unistd.h>

namespace {
namespace fa = fs::analysis;

std::string python(const std::string& args) {
  const std::string cmd = std::string(FS_PYTHON) + " " + FS_SOURCE_DIR + "/tests/python/erf_reference.py " + args;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  if (::pclose(pipe) != 0) throw std::runtime_error("Python reference failed: " + cmd);
  return out;
}

TEST(EffectiveReceptiveField, MatchesTorchAutogradAndNumpyRadiiOnResNet18) {
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data/erf-" + std::to_string(getpid());
  python("make " + dir);
  fa::LoadedModel m = fa::loadModel("resnet18", dir + "/weights.pth", 0);
  const at::Tensor x = fs::model::readNpy(dir + "/input.npy");
  fa::ImageSource source;
  source.description = "reference inputs", source.count = x.size(0);
  source.batch = [x](int64_t b, int64_t e, const fs::model::InputSpec&) { return x.narrow(0, b, e - b); };
  int calls = 0;
  const auto maps = fa::effectiveReceptiveFields(m, {"layer1", "layer2", "layer3", "layer4"}, source, 3,
                                                 [&](int64_t, int64_t) { return ++calls > 0; });
  EXPECT_EQ(calls, 2);  // batches of 3 and 1
  ASSERT_EQ(maps.size(), 4u);
  for (const auto& e : maps) {
    const at::Tensor ref = fs::model::readNpy(dir + "/erf_" + e.tap + ".npy");
    ASSERT_EQ(e.map.sizes(), ref.sizes()) << e.tap;
    const double scale = ref.abs().max().item<double>();
    EXPECT_GT(scale, 0) << e.tap;
    EXPECT_LE((e.map - ref).abs().max().item<double>(), 1e-4 * scale) << e.tap;
    EXPECT_EQ(e.images, 4);
    EXPECT_DOUBLE_EQ(e.centreY, double(e.rf.jump) * e.cellY);  // torchvision: start 0
    EXPECT_LT(e.radius50, e.radius90) << e.tap;
    fs::model::writeNpy(dir + "/ours_" + e.tap + ".npy", e.map);
    std::istringstream in(python("radii " + dir + "/ours_" + e.tap + ".npy " + std::to_string(e.centreY) + " " +
                                 std::to_string(e.centreX)));
    double r50 = -1, r90 = -1;
    in >> r50 >> r90;
    EXPECT_NEAR(e.radius50, r50, 1e-9) << e.tap;
    EXPECT_NEAR(e.radius90, r90, 1e-9) << e.tap;
  }
  // Luo et al.'s observation: the effective field grows with depth.
  EXPECT_LT(maps[0].radius90, maps[3].radius90);
  std::filesystem::remove_all(dir);
}

TEST(EffectiveReceptiveField, RadiiOfKnownMaps) {
  at::Tensor delta = at::zeros({9, 9});
  delta[4][4] = 1.0f;
  EXPECT_DOUBLE_EQ(fa::massRadius(delta, 4, 4, 0.5), 0.0);
  EXPECT_DOUBLE_EQ(fa::massRadius(delta, 4, 2, 0.9), 2.0);
  at::Tensor two = at::zeros({9, 9});
  two[4][4] = 1.0f, two[4][7] = 3.0f;  // 25% at the centre, 75% at distance 3
  EXPECT_DOUBLE_EQ(fa::massRadius(two, 4, 4, 0.2), 0.0);
  EXPECT_DOUBLE_EQ(fa::massRadius(two, 4, 4, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(fa::massRadius(at::zeros({4, 4}), 1, 1, 0.5), 0.0);
}

TEST(EffectiveReceptiveField, CancelStopsTheRun) {
  fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  fa::ImageSource source;
  source.description = "noise", source.count = 4;
  source.batch = [](int64_t b, int64_t e, const fs::model::InputSpec& s) { return at::randn({e - b, 3, s.height, s.width}); };
  EXPECT_THROW(fa::effectiveReceptiveFields(m, {"layer1"}, source, 2, [](int64_t, int64_t) { return false; }),
               fs::model::InputError);
}

}  // namespace
