// featurescope-cli atlas on every bundled demo model: the panel NPYs equal the checkpoint's tensors
// bit for bit, read independently by Python from the safetensors bytes, and MLP-Mixer's tile order
// equals the paper's pairing recomputed with numpy (tests/python/atlas_reference.py).
#include "cli_test_support.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace {
namespace atlas_cli_test {
using fs::test::runCli;

int runPython(const std::string& script, const std::string& args) {
  const std::string cmd = std::string(FS_PYTHON) + " " + FS_PYTHON_DIR + "/" + script + " " + args;
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(AtlasCli, PanelValuesEqualTheCheckpointBitForBitOnEveryDemoModel) {
  const std::string dir = fs::test::cliTmpDir("atlas-" + std::to_string(getpid()));
  for (const std::string id : {"resnet_fmnist", "convmlp_fmnist", "puremlp_fmnist", "mixer_fmnist", "resmlp_fmnist"}) {
    const std::string fig = dir + "/" + id + ".svg";
    const auto r = runCli("atlas " + id + " --out " + fig);
    ASSERT_EQ(r.code, 0) << id << ": " << r.err;
    EXPECT_TRUE(std::filesystem::file_size(fig) > 1000) << fig;
    EXPECT_NE(fs::test::slurp(fig).find("<svg"), std::string::npos);
    const std::string checkpoint = std::string(FS_SOURCE_DIR) + "/resources/models/" + id + ".safetensors";
    EXPECT_EQ(runPython("atlas_reference.py", dir + "/" + id + ".manifest.json " + checkpoint), 0) << id;
  }
  std::filesystem::remove_all(dir);
}

TEST(AtlasCli, BadArgumentsAreRefusedWithTheReason) {
  auto r = runCli("atlas resnet_fmnist");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
  r = runCli("atlas resnet_fmnist --out x.gif");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("x.gif"), std::string::npos) << r.err;
  r = runCli("atlas resnet_fmnist --weights /nonexistent/w.safetensors --out x.png");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("/nonexistent/w.safetensors"), std::string::npos) << r.err;
}

}  // namespace atlas_cli_test
}  // namespace
