// featurescope-cli evaluate --figure and scorecard-figure: PNG, PDF and SVG written with a manifest
// that records each model's weights SHA-256 (checked against Python's hashlib), the method
// parameters and the seed; a non-scorecard input refused naming the file.
#include "cli_test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>

namespace {
namespace scorecard_figure_cli_test {
using fs::test::CliRun;
using fs::test::slurp;
namespace stdfs = std::filesystem;

std::string workDir() {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/scorecard_figure_cli_" + std::to_string(getpid());
  stdfs::create_directories(d);
  return d;
}

std::string pythonSha256(const std::string& path) {
  const std::string out = workDir() + "/sha.txt";
  const std::string cmd = std::string(FS_PYTHON) + " -c \"import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],'rb')"
                          ".read()).hexdigest(),end='')\" " + path + " > " + out;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return slurp(out);
}

TEST(ScorecardFigureCli, FigureInThreeFormatsWithAManifest) {
  const std::string dir = workDir(), images = dir + "/images";
  stdfs::create_directories(images);
  for (int i = 0; i < 3; ++i) fs::test::writeBmp(images + "/im" + std::to_string(i) + ".bmp", 32, 32, i + 1);
  const CliRun r = fs::test::runCli("evaluate resnet_fmnist mixer_fmnist --images " + images +
                                    " --methods gradcam,integrated_gradients --steps 6 --metrics gini,entropy"
                                    " --seed 4 --threads 1 --out " + dir + "/s.json --figure " + dir + "/fig.png");
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(stdfs::exists(dir + "/fig.png"));
  EXPECT_EQ(slurp(dir + "/fig.png").substr(1, 3), "PNG");
  const auto m = nlohmann::json::parse(slurp(dir + "/fig.manifest.json"));
  ASSERT_EQ(m["scorecards"].size(), 2u);
  for (const auto& s : m["scorecards"]) {
    const std::string weights = s["model"]["weights"].get<std::string>();
    EXPECT_EQ(s["model"]["weights_sha256"], pythonSha256(weights)) << weights;
    EXPECT_EQ(s["method_parameters"]["steps"], 6);
    EXPECT_EQ(s["sanity_seed"], 4);
    EXPECT_EQ(s["scorecard_sha256"], pythonSha256(s["scorecard"].get<std::string>()));
  }
  EXPECT_EQ(m["figure_sha256"], pythonSha256(dir + "/fig.png"));
  for (const char* ext : {".pdf", ".svg"}) {
    const CliRun f = fs::test::runCli("scorecard-figure " + dir + "/s.resnet_fmnist.json " + dir +
                                      "/s.mixer_fmnist.json --out " + dir + "/fig" + ext);
    ASSERT_EQ(f.code, 0) << f.err;
    const std::string text = slurp(dir + "/fig" + ext);
    EXPECT_NE(text.find(ext == std::string(".pdf") ? "%PDF" : "<svg"), std::string::npos) << ext;
    if (ext != std::string(".svg")) continue;
    // All vector: the CI cells and the 2 x 2 x 2 Kendall's tau squares are shapes, and the three
    // colour bars (gini, entropy and the shared tau bar) linear gradients.
    const auto count = [&](const std::string& tag) {
      size_t n = 0;
      for (size_t at = text.find(tag); at != std::string::npos; at = text.find(tag, at + 1)) ++n;
      return n;
    };
    EXPECT_EQ(count("<image"), 0u);
    EXPECT_EQ(count("<linearGradient"), 3u);
  }
  const CliRun bad = fs::test::runCli("scorecard-figure " + dir + "/fig.manifest.json --out " + dir + "/bad.png");
  EXPECT_EQ(bad.code, 3);
  EXPECT_NE(bad.err.find("fig.manifest.json: not an evaluate scorecard"), std::string::npos) << bad.err;
  EXPECT_EQ(fs::test::runCli("evaluate resnet_fmnist --images " + images + " --figure " + dir + "/x.png").code, 2);
}

// An unknown figure format is refused before any image is scored: exit 3 naming the file, and no
// scorecard written (the whole run would otherwise come first).
TEST(ScorecardFigureCli, UnknownFigureFormatRefusedBeforeTheRun) {
  const std::string dir = workDir() + "/format", images = dir + "/images";
  stdfs::create_directories(images);
  fs::test::writeBmp(images + "/im0.bmp", 32, 32, 1);
  for (const std::string jobs : {"1", "2"}) {
    const CliRun r = fs::test::runCli("evaluate resnet_fmnist --images " + images + " --metrics gini --jobs " + jobs +
                                      " --threads 1 --out " + dir + "/s.json --figure " + dir + "/fig.xyz");
    EXPECT_EQ(r.code, 3) << r.err;
    EXPECT_NE(r.err.find("fig.xyz: unknown figure format"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("evaluate [1/1]"), std::string::npos) << r.err;
    EXPECT_FALSE(stdfs::exists(dir + "/s.json")) << jobs;
  }
}

}  // namespace scorecard_figure_cli_test
}  // namespace
