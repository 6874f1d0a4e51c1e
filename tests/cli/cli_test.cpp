// End-to-end tests of the featurescope-cli binary: outputs, exit codes (0 ok, 2 usage, 3 bad
// input) and that bad input never kills the process with a signal.
#include "cli_test_support.h"
#include "model/checkpoint.h"
#include "model/errors.h"
#include "model/npy.h"
#include "model/registry.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {
namespace cli_test {
using fs::test::CliRun;
using fs::test::slurp;
CliRun cli(const std::string& args) { return fs::test::runCli(args); }
namespace stdfs = std::filesystem;



std::string tmpDir() {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/cli";
  stdfs::create_directories(d);
  return d;
}


std::string ref(const std::string& p) { return std::string(FS_REFERENCE_DIR) + "/" + p; }

TEST(Cli, ModelsListsEveryRegisteredId) {
  CliRun r = cli("models --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  const auto& variants = fs::model::registeredVariants();  // every family's ids, in registration order
  ASSERT_EQ(j.size(), variants.size());
  for (size_t i = 0; i < variants.size(); ++i) EXPECT_EQ(j[i]["id"], variants[i].config.id);
  EXPECT_EQ(j[0]["id"], "convmlp_s");
  EXPECT_GE(j.size(), 40u);  // 25 before ViT, DeiT, Swin and ConvNeXt
}

TEST(Cli, InfoJsonHasTheDocumentedFields) {
  CliRun r = cli("info convmlp_s --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["params"], 9022920);
  EXPECT_NEAR(j["macs"].get<double>() / 1e9, 2.385, 0.024);
  EXPECT_EQ(j["input"]["size"], nlohmann::json({224, 224}));
  EXPECT_EQ(j["input"]["interpolation"], "bicubic");
  EXPECT_EQ(j["taps"][0]["name"], "tokenizer");
  EXPECT_EQ(j["taps"][0]["height"], 56);
  EXPECT_EQ(j["family"], "convmlp");
}

TEST(Cli, PredictAndFeaturesMatchTheReference) {
  const std::string cfg = ref("convmlp_tiny/config.json"), w = ref("convmlp_tiny/weights.pth");
  const std::string logits = tmpDir() + "/logits.npy", tap = tmpDir() + "/tap.npy", png = tmpDir() + "/tap.png";
  CliRun r = cli("predict " + cfg + " --weights " + w + " --input-npy " + ref("convmlp_tiny/input.npy") +
              " --top 3 --json --logits-npy " + logits);
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["top"][0]["index"], 6);  // config.json target_class
  EXPECT_EQ(j["top"].size(), 3u);
  EXPECT_TRUE(j.contains("elapsed_ms"));
  const at::Tensor refLogits = fs::model::readNpy(ref("convmlp_tiny/logits.npy"));
  EXPECT_TRUE(at::allclose(fs::model::readNpy(logits), refLogits, 1e-4, 1e-4));

  r = cli("features " + cfg + " --weights " + w + " --input-npy " + ref("convmlp_tiny/input.npy") +
          " --tap stages.1.blocks.1 --npy " + tap + " --png " + png + " --channels 8");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(at::allclose(fs::model::readNpy(tap), fs::model::readNpy(ref("convmlp_tiny/taps/stages.1.blocks.1.npy")),
                           1e-4, 1e-4));
  EXPECT_EQ(slurp(png).substr(1, 3), "PNG");
}

TEST(Cli, PredictOnASampleImage) {
  CliRun r = cli("predict resnet18 --image " + std::string(FS_SOURCE_DIR) + "/resources/samples/chelsea.png --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["top"].size(), 5u);
}

TEST(Cli, ConvertRoundTripIsBitIdentical) {
  const std::string out = tmpDir() + "/converted.safetensors";
  CliRun r = cli("convert " + ref("resmlp_tiny/weights_fb_naming.pth") + " " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto a = fs::model::readCheckpoint(ref("resmlp_tiny/weights_fb_naming.pth"));
  const auto b = fs::model::readCheckpoint(out);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    const at::Tensor* other = b.find(name);
    ASSERT_NE(other, nullptr) << name;
    EXPECT_TRUE(t.equal(*other)) << name;
  }
}

TEST(Cli, UsageErrorsExitWith2) {
  for (const char* args : {"", "frobnicate", "predict resnet18 --image a.png --bogus 1", "info",
                           "predict resnet18 --image a.png --top x", "features resnet18 --image a.png"}) {
    CliRun r = cli(args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.err;
    EXPECT_FALSE(r.err.empty()) << args;
  }
}

TEST(Cli, HelpOnEverySubcommand) {
  for (const char* c : {"models", "info", "predict", "features", "convert", "bench", "demo"}) {
    CliRun r = cli(std::string(c) + " --help");
    EXPECT_EQ(r.code, 0) << c;
    EXPECT_NE(r.out.find("usage:"), std::string::npos) << c;
  }
}

// The app's demo in the terminal: trained Fashion-MNIST models on the bundled sample (confident,
// correct), then the full-size models on a photo, labelled as untrained.
TEST(Cli, DemoIsTheAppsDemoAndLabelsUntrainedModels) {
  const std::string out = tmpDir() + "/demo";
  CliRun r = cli("demo --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("fmnist_0000_ankle-boot.png"), std::string::npos) << r.out;
  for (const char* id : {"convmlp_fmnist", "resnet_fmnist", "mixer_fmnist", "convmlp_s", "resnet50", "mixer_b16"})
    EXPECT_NE(r.out.find(std::string("\n") + id + "  ("), std::string::npos) << id << "\n" << r.out;
  // Each trained model's first line of predictions is the right class.
  const size_t trained = r.out.find("convmlp_fmnist  ("), untrained = r.out.find("UNTRAINED");
  ASSERT_NE(untrained, std::string::npos) << r.out;
  EXPECT_LT(trained, untrained);
  EXPECT_EQ(r.out.find("come later"), std::string::npos);
  size_t boots = 0;
  for (size_t p = r.out.find("Ankle boot"); p != std::string::npos && p < untrained; p = r.out.find("Ankle boot", p + 1)) ++boots;
  EXPECT_GE(boots, 3u) << r.out;
  EXPECT_TRUE(std::filesystem::exists(out + "/convmlp_fmnist_stages.2.png"));
  EXPECT_TRUE(std::filesystem::exists(out + "/mixer_b16_blocks.9.png"));
}

TEST(Cli, BadInputExitsWith3AndNamesTheFile) {
  const std::string d = tmpDir();
  std::ofstream(d + "/corrupt.png", std::ios::binary) << "\x89PNG\r\n\x1a\n garbage";
  std::ofstream(d + "/notes.jpg") << "this is text";
  const std::string pth = slurp(ref("convmlp_tiny/weights.pth"));
  std::ofstream(d + "/truncated.pth", std::ios::binary) << pth.substr(0, pth.size() / 2);
  std::ofstream(d + "/bad.json") << R"({"family":"convmlp","dims":"x"})";
  const std::string cases[][2] = {
      {"predict resnet18 --image " + d + "/corrupt.png", "corrupt.png"},
      {"predict resnet18 --image " + d + "/notes.jpg", "notes.jpg"},
      {"predict resnet18 --image " + d + "/missing.png", "missing.png"},
      {"predict " + ref("convmlp_tiny/config.json") + " --weights " + d + "/truncated.pth --input-npy " +
           ref("convmlp_tiny/input.npy"), "truncated.pth"},
      {"predict " + ref("convmlp_tiny/config.json") + " --weights " + ref("mixer_tiny/weights.pth") +
           " --input-npy " + ref("convmlp_tiny/input.npy"), "weights.pth"},
      {"predict " + ref("convmlp_tiny/config.json") + " --weights " + ref("convmlp_tiny/legacy_format.pth") +
           " --input-npy " + ref("convmlp_tiny/input.npy"), "legacy_format.pth"},
      {"info " + d + "/bad.json", "bad.json"},
      {"predict mixer_b16 --input-npy " + ref("convmlp_tiny/input.npy"), "input.npy"},
      {"features " + ref("mixer_tiny/config.json") + " --input-npy " + ref("mixer_tiny/input.npy") +
           " --tap nope --npy " + d + "/x.npy", "blocks.0"},
      {"info resnet9000", "resnet50"},
      {"convert " + d + "/truncated.pth " + d + "/out.safetensors", "truncated.pth"},
  };
  for (const auto& c : cases) {
    CliRun r = cli(c[0]);
    EXPECT_FALSE(r.signaled) << c[0];
    EXPECT_EQ(r.code, 3) << c[0] << ": " << r.err;
    EXPECT_NE(r.err.find(c[1]), std::string::npos) << c[0] << ": " << r.err;
  }
  EXPECT_FALSE(stdfs::exists(d + "/out.safetensors"));
  EXPECT_FALSE(stdfs::exists(d + "/x.npy"));
}

TEST(Cli, VersionNamesTheLibraries) {
  CliRun r = cli("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("LibTorch 1.13"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("OpenCV 4."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Qt 6."), std::string::npos) << r.out;
}

}  // namespace cli_test
}  // namespace
