// featurescope-cli erf, exemplars and exemplars-merge end to end: outputs and manifests, index
// reuse, shards merged equal to a single run byte for byte, and bad input refused with the reason.
#include "cli_test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace {
namespace feature_vis_cli_test {
using fs::test::runCli;
using fs::test::slurp;

std::string scratch(const std::string& name) { return fs::test::cliTmpDir(name + "-" + std::to_string(getpid())); }

TEST(ErfCli, ComparisonFigureMapsAndManifest) {
  const std::string dir = scratch("erf");
  const auto r = runCli("erf resnet_fmnist mixer_fmnist --dataset fashion-mnist --limit 4 --out " + dir + "/erf.pdf");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(dir + "/erf.pdf").substr(0, 5), "%PDF-");
  const auto manifest = nlohmann::json::parse(slurp(dir + "/erf.manifest.json"));
  EXPECT_EQ(manifest["image_count"], 4);
  ASSERT_EQ(manifest["models"].size(), 2u);
  for (const auto& m : manifest["models"]) {
    ASSERT_EQ(m["taps"].size(), 4u);  // each model's four stages
    for (const auto& t : m["taps"]) {
      EXPECT_TRUE(std::filesystem::exists(dir + "/" + t["npy"].get<std::string>())) << t.dump();
      EXPECT_LE(t["radius50_px"].get<double>(), t["radius90_px"].get<double>());
    }
  }
  EXPECT_TRUE(manifest["models"][1]["taps"][0]["theoretical_rf"]["global"].get<bool>());
  EXPECT_NE(r.out.find("resnet_fmnist layer4: TRF 195 px"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

TEST(ErfCli, BadArgumentsAreRefusedWithTheReason) {
  auto r = runCli("erf resnet_fmnist --out x.png");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--dataset fashion-mnist or --images"), std::string::npos) << r.err;
  r = runCli("erf resnet_fmnist --images /nonexistent/folder --out x.png");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("/nonexistent/folder"), std::string::npos) << r.err;
  r = runCli("erf resnet_fmnist --dataset fashion-mnist --limit 2 --taps layer9 --out x.png");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("layer9"), std::string::npos) << r.err;
}

TEST(ExemplarsCli, ReuseShardsMergeAndFigure) {
  const std::string dir = scratch("exemplars");
  const std::string images = dir + "/images";
  std::filesystem::create_directories(images);
  for (int i = 0; i < 11; ++i) fs::test::writeBmp(images + "/img" + std::to_string(10 + i) + ".bmp", 40, 30, i + 1);
  const std::string base = "exemplars convmlp_fmnist --images " + images + " --taps tokenizer,stages.2 --batch 1";  // bitwise-equal shards: see exemplars_test.cpp
  const std::string common = base + " --k 3";
  auto r = runCli(base + " --k 2 --out " + dir + "/one.json");
  ASSERT_EQ(r.code, 0) << r.err;
  r = runCli(common + " --out " + dir + "/one.json --figure " + dir + "/one.png --channels 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("recomputing"), std::string::npos) << r.out;  // another k: not reused
  EXPECT_EQ(slurp(dir + "/one.png").substr(1, 3), "PNG");
  const auto index = nlohmann::json::parse(slurp(dir + "/one.json"));
  EXPECT_EQ(index["image_count"], 11);
  EXPECT_EQ(index["k"], 3);
  EXPECT_EQ(index["channels"]["stages.2"].size(), 128u);
  EXPECT_EQ(index["weights_sha256"].get<std::string>().size(), 64u);
  r = runCli(common + " --out " + dir + "/one.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("reusing"), std::string::npos) << r.out;
  for (const char* k : {"1/2", "2/2"}) {
    r = runCli(common + " --shard " + k + " --out " + dir + "/part.json");
    ASSERT_EQ(r.code, 0) << r.err;
  }
  r = runCli("exemplars-merge " + dir + "/part-shard-2-of-2.json --out " + dir + "/merged.json");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("shard 1/2 is missing"), std::string::npos) << r.err;
  r = runCli("exemplars-merge " + dir + "/part-shard-2-of-2.json " + dir + "/part-shard-1-of-2.json --out " + dir +
             "/merged.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(dir + "/merged.json"), slurp(dir + "/one.json"));
  std::filesystem::remove_all(dir);
}

TEST(ExemplarsCli, BadArgumentsAreRefusedWithTheReason) {
  auto r = runCli("exemplars resnet_fmnist --dataset fashion-mnist --limit 2 --score median --out x.json");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("median"), std::string::npos) << r.err;
  r = runCli("exemplars resnet_fmnist --dataset fashion-mnist --limit 2 --shard 3/2 --out x.json");
  EXPECT_EQ(r.code, 2);
  r = runCli("exemplars-merge /nonexistent/a.json --out x.json");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("/nonexistent/a.json"), std::string::npos) << r.err;
}

// An output whose folder cannot be made (a file in the way) is refused before any image is read
// or any step taken, naming the folder: erf, exemplars (index and figure), visualize (image and
// .npy) and atlas.
TEST(FeatureVisCli, OutputsThatCannotBeWrittenAreRefusedBeforeTheWork) {
  const std::string dir = scratch("blocked"), file = dir + "/file";
  { std::ofstream(file) << "x"; }
  const std::string data = " --dataset fashion-mnist --limit 4";
  for (const std::string& args :
       {"erf resnet_fmnist" + data + " --out " + file + "/e.png",
        "exemplars resnet_fmnist" + data + " --out " + file + "/x.json",
        "exemplars resnet_fmnist" + data + " --out " + dir + "/x.json --figure " + file + "/x.png",
        "visualize resnet_fmnist --tap layer4 --channel 0 --steps 4 --out " + file + "/v.png",
        "visualize resnet_fmnist --tap layer4 --channel 0 --steps 4 --out " + dir + "/v.png --npy " + file + "/v.npy",
        "atlas resnet_fmnist --out " + file + "/a.png"}) {
    const auto r = runCli(args);
    EXPECT_EQ(r.code, 3) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(file + ": cannot create folder (Not a directory)"), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(r.err.find("images"), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(r.err.find("step"), std::string::npos) << args << "\n" << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.json"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/v.png"));
}

TEST(VisualizeCli, WritesTheImageAndRefusesBadRequests) {
  const std::string dir = scratch("visualize");
  auto r = runCli("visualize resnet_fmnist --tap layer2 --channel 3 --steps 4 --size 48 --out " + dir + "/v.png");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(dir + "/v.png").substr(1, 3), "PNG");
  EXPECT_NE(r.out.find("48x48, greyscale"), std::string::npos) << r.out;
  r = runCli("visualize resnet_fmnist --tap layer2 --channel 3 --steps 2 --size 32 --diversity 2 --out " + dir + "/d.png");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("64x32, greyscale"), std::string::npos) << r.out;  // two samples side by side
  EXPECT_NE(r.out.find("sample 2"), std::string::npos) << r.out;
  r = runCli("visualize resnet_fmnist --channel 3 --out " + dir + "/v.png");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--tap"), std::string::npos) << r.err;
  r = runCli("visualize resnet_fmnist --tap layer2 --channel 999 --steps 1 --out " + dir + "/v.png");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("channel 999 out of range"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

}  // namespace feature_vis_cli_test
}  // namespace
