// The saliency subcommand end to end: outputs (NPY, PNG, JSON), exit codes (2 usage, 3 bad input)
// and the error messages that list the valid choices.
#include "cli_test_support.h"
#include "model/npy.h"
#include "tests/model/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {
namespace saliency_cli_test {
using fs::test::CliRun;
using fs::test::slurp;
CliRun cli(const std::string& args) { return fs::test::runCli(args); }
namespace stdfs = std::filesystem;



std::string tmpDir() {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/saliency_cli_" + std::to_string(getpid());
  stdfs::create_directories(d);
  return d;
}


std::string refPath(const std::string& p) { return fs::test::refDir("") + p; }

// "MODEL --weights W --input-npy X" for a reference fixture.
std::string fixtureArgs(const std::string& f) {
  return refPath(f + "/config.json") + " --weights " + refPath(f + "/weights.safetensors") + " --input-npy " + refPath(f + "/input.npy");
}

// Width and height from a PNG's IHDR, after checking the signature; {0,0} if it is not a PNG.
std::pair<int, int> pngSize(const std::string& path) {
  const std::string b = slurp(path);
  if (b.size() < 24 || b.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || b.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto be32 = [&](size_t o) {
    return (uint8_t(b[o]) << 24) | (uint8_t(b[o + 1]) << 16) | (uint8_t(b[o + 2]) << 8) | uint8_t(b[o + 3]);
  };
  return {int(be32(16)), int(be32(20))};
}

TEST(SaliencyCli, GradCamJsonNpyAndPng) {
  const std::string npy = tmpDir() + "/cam.npy", png = tmpDir() + "/cam.png";
  CliRun r = cli("saliency " + fixtureArgs("convmlp_tiny") + " --method gradcam --npy " + npy + " --png " + png + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "gradcam");
  EXPECT_EQ(j["target"]["index"], 6);
  EXPECT_EQ(j["target"]["label"], "class 6");
  EXPECT_EQ(j["tap"], "stages.2");
  EXPECT_EQ(j["shape"], nlohmann::json({2, 2}));
  EXPECT_EQ(j["display"]["sign"], "relu");
  EXPECT_EQ(j["display"]["range"].size(), 2u);
  const at::Tensor map = fs::model::readNpy(npy);
  EXPECT_TRUE(fs::test::closeToRef(map, fs::model::readNpy(refPath("convmlp_tiny/taps/stages.2.gradcam.npy"))));
  EXPECT_NEAR(j["min"].get<double>(), map.min().item<double>(), 1e-6);
  // The denormalised 64 x 64 input, widened to the 160 px minimum for the labelled colour bar.
  EXPECT_EQ(pngSize(png), std::make_pair(160, 64 + 32));
}

TEST(SaliencyCli, OverlayOnTheOriginalImageWithTextSummary) {
  const std::string png = tmpDir() + "/overlay.png", image = std::string(FS_SOURCE_DIR) + "/resources/samples/chelsea.png";
  CliRun r = cli("saliency " + refPath("mixer_tiny/config.json") + " --image " + image +
                 " --method layercam --tap blocks.0 --target 'CLASS 3' --colormap turbo --alpha 0.7 --png " + png);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("target  3 (class 3)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tap     blocks.0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("map     [4,4]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("turbo"), std::string::npos) << r.out;
  EXPECT_EQ(pngSize(png), std::make_pair(451, 300 + 32));
}

// Grad-CAM++ and XGrad-CAM assume post-ReLU activations: on Mixer's signed residual stream the
// CLI says so (text and JSON); on ConvMLP's last stage, also signed, too; Grad-CAM never does.
TEST(SaliencyCli, NegativeActivationCaveatForGradCamPlusPlusAndXGradCam) {
  for (const std::string method : {"gradcampp", "xgradcam"}) {
    const CliRun text = cli("saliency " + fixtureArgs("mixer_tiny") + " --method " + method);
    ASSERT_EQ(text.code, 0) << text.err;
    EXPECT_NE(text.out.find("caveat  "), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("assumes non-negative activations"), std::string::npos) << text.out;
    const CliRun json = cli("saliency " + fixtureArgs("mixer_tiny") + " --method " + method + " --json");
    ASSERT_EQ(json.code, 0) << json.err;
    EXPECT_TRUE(nlohmann::json::parse(json.out)["caveat"].is_string()) << json.out;
  }
  const CliRun plain = cli("saliency " + fixtureArgs("mixer_tiny") + " --method gradcam --json");
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_TRUE(nlohmann::json::parse(plain.out)["caveat"].is_null());
}

TEST(SaliencyCli, InputAttributionShapesAndProgress) {
  const std::string grad = tmpDir() + "/grad.npy", occ = tmpDir() + "/occ.npy";
  const std::string raw = tmpDir() + "/grad_raw.npy";
  CliRun r = cli("saliency " + fixtureArgs("resmlp_tiny") + " --method gradient --npy " + grad + " --raw-npy " + raw);
  ASSERT_EQ(r.code, 0) << r.err;
  // --npy: the displayed map, max over colour channels of |g| (Simonyan et al. 2014); --raw-npy: g.
  const at::Tensor g = fs::model::readNpy(raw);
  ASSERT_EQ(g.sizes(), (at::IntArrayRef{1, 3, 64, 64}));
  EXPECT_TRUE(at::equal(fs::model::readNpy(grad), std::get<0>(g.abs().max(1))[0]));
  r = cli("saliency " + fixtureArgs("resmlp_tiny") + " --method occlusion --window 16 --stride 8 --batch 4 --npy " + occ);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(fs::model::readNpy(occ).sizes(), (at::IntArrayRef{64, 64}));
  EXPECT_NE(r.err.find("occlusion: 100%"), std::string::npos) << r.err;
  r = cli("saliency " + fixtureArgs("resmlp_tiny") + " --method integrated_gradients --steps 4 --baseline blur --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["shape"], nlohmann::json({64, 64}));
  EXPECT_EQ(nlohmann::json::parse(r.out)["raw_shape"], nlohmann::json({1, 3, 64, 64}));
}

TEST(SaliencyCli, UnknownMethodListsTheMethods) {
  CliRun r = cli("saliency " + fixtureArgs("convmlp_tiny") + " --method gradcam3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("gradcam, gradcampp, xgradcam"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("integrated_gradients, occlusion"), std::string::npos) << r.err;
  EXPECT_EQ(cli("saliency " + fixtureArgs("convmlp_tiny")).code, 2) << "--method is required";
  EXPECT_EQ(cli("saliency " + fixtureArgs("convmlp_tiny") + " --method gradient --tap stages.1").code, 2);
  EXPECT_EQ(cli("saliency " + fixtureArgs("convmlp_tiny") + " --method gradcam --colormap rainbow").code, 2);
  EXPECT_EQ(cli("saliency " + fixtureArgs("convmlp_tiny") + " --method integrated_gradients --baseline noise").code, 2);
}

TEST(SaliencyCli, UnknownClassIsAnInputErrorWithNearMatches) {
  CliRun r = cli("saliency " + fixtureArgs("convmlp_tiny") + " --method gradcam --target 'klass 3'");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("near matches: class 3"), std::string::npos) << r.err;
  r = cli("saliency " + fixtureArgs("convmlp_tiny") + " --method gradcam --target 10");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("out of range"), std::string::npos) << r.err;
}

TEST(SaliencyCli, UnknownTapListsTheTaps) {
  CliRun r = cli("saliency " + fixtureArgs("convmlp_tiny") + " --method scorecam --tap stages.9");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("tokenizer, conv_stages.conv_blocks.0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stages.2"), std::string::npos) << r.err;
}

TEST(SaliencyCli, HelpDescribesTheOptions) {
  CliRun r = cli("saliency --help");
  EXPECT_EQ(r.code, 0);
  for (const char* opt : {"--method", "--baseline", "--window", "--colormap", "--sign", "--clip", "--alpha"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
}

}  // namespace saliency_cli_test
}  // namespace
