// featurescope-cli similarity (linear CKA between the taps of two models) and evaluate (saliency
// faithfulness metrics) over a folder of images generated here (24-bit BMP written by hand:
// cli_tests does not link OpenCV).
#include "cli_test_support.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace {
namespace similarity_cli_test {
using fs::test::CliRun;
using fs::test::slurp;
CliRun cli(const std::string& args) { return fs::test::runCli(args); }
namespace stdfs = std::filesystem;



// A fresh folder per process (ctest runs tests in parallel).
std::string workDir() {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/similarity_" + std::to_string(getpid());
  stdfs::create_directories(d);
  return d;
}


void put32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}

// Uncompressed 24-bit BMP of random blobs on a gradient (seeded).
void writeBmp(const std::string& path, int w, int h, unsigned seed) {
  std::mt19937 rng(seed);
  const int cx = int(rng() % w), cy = int(rng() % h), r = 8 + int(rng() % 20);
  const int rowBytes = (3 * w + 3) / 4 * 4;
  std::string f = "BM";
  put32(f, 54 + rowBytes * h), put32(f, 0), put32(f, 54);
  put32(f, 40), put32(f, w), put32(f, h);
  f += std::string("\x01\x00\x18\x00", 4);
  for (uint32_t v : {0u, uint32_t(rowBytes * h), 2835u, 2835u, 0u, 0u}) put32(f, v);
  for (int y = 0; y < h; ++y) {
    std::string row(rowBytes, '\0');
    for (int x = 0; x < w; ++x) {
      const bool blob = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r;
      row[3 * x] = char(blob ? rng() % 256 : x * 255 / w);
      row[3 * x + 1] = char(blob ? 40 : y * 255 / h);
      row[3 * x + 2] = char((seed * 60 + rng() % 32) % 256);
    }
    f += row;
  }
  std::ofstream(path, std::ios::binary) << f;
}

struct Fixture {
  std::string images, empty, resnet, mixer;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture x;
    x.images = workDir() + "/images", x.empty = workDir() + "/empty";
    stdfs::create_directories(x.images), stdfs::create_directories(x.empty);
    for (unsigned i = 0; i < 4; ++i) writeBmp(x.images + "/img" + std::to_string(i) + ".bmp", 72, 64, i + 1);
    std::ofstream(x.images + "/broken.png") << "not a png";
    std::ofstream(x.images + "/notes.txt") << "ignored";
    std::ofstream(x.empty + "/readme.txt") << "no images here";
    x.resnet = workDir() + "/resnet_tiny.json";
    std::ofstream(x.resnet)
        << R"({"family":"resnet","block":"basic","layers":[1,1,1,1],"num_classes":10,"input":{"size":[64,64]}})";
    x.mixer = std::string(FS_REFERENCE_DIR) + "/mixer_tiny/config.json";
    return x;
  }();
  return f;
}

TEST(SimilarityCli, JsonHasTheDocumentedShape) {
  const Fixture& f = fixture();
  const std::string png = workDir() + "/cka.png";
  const CliRun r = cli("similarity " + f.resnet + " " + f.mixer + " --images " + f.images + " --json --png " + png +
                       " --estimator biased");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model_a"], f.resnet);
  EXPECT_EQ(j["model_b"], f.mixer);
  EXPECT_EQ(j["images"], 4);
  EXPECT_EQ(j["estimator"], "biased");
  EXPECT_EQ(j["taps_b"], nlohmann::json({"stem", "blocks.0", "blocks.1"}));
  EXPECT_EQ(j["taps_a"][0], "maxpool");
  ASSERT_EQ(j["cka"].size(), j["taps_a"].size());
  for (const auto& row : j["cka"]) {
    ASSERT_EQ(row.size(), 3u);
    for (const auto& v : row) {
      EXPECT_GE(v.get<double>(), 0.0);
      EXPECT_LE(v.get<double>(), 1.0);
    }
  }
  EXPECT_NE(r.err.find("broken.png"), std::string::npos) << "undecodable file not reported";
  const std::string bytes = slurp(png);
  ASSERT_GT(bytes.size(), 100u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
}

TEST(SimilarityCli, SameModelHasUnitDiagonal) {
  const Fixture& f = fixture();
  const CliRun r = cli("similarity " + f.mixer + " " + f.mixer + " --images " + f.images + " --limit 3 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["images"], 3);
  ASSERT_EQ(j["cka"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(j["cka"][i][i].get<double>(), 1.0, 1e-6);
    for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(j["cka"][i][k].get<double>(), j["cka"][k][i].get<double>(), 1e-6);
  }
  EXPECT_EQ(j["estimator"], "biased");  // auto: the debiased estimator needs 4 images
  const CliRun text = cli("similarity " + f.mixer + " " + f.mixer + " --images " + f.images + " --limit 2");
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("blocks.1"), std::string::npos);
  EXPECT_NE(text.out.find("(biased estimator) over n = 2 images"), std::string::npos) << text.out;
}

TEST(SimilarityCli, AutoTakesTheDebiasedEstimatorForFewImages) {
  const Fixture& f = fixture();
  const CliRun r = cli("similarity " + f.resnet + " " + f.mixer + " --images " + f.images + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["images"], 4);
  EXPECT_EQ(j["estimator"], "debiased");
  for (const auto& row : j["cka"])
    for (const auto& v : row) {
      EXPECT_GE(v.get<double>(), -1.0);
      EXPECT_LE(v.get<double>(), 1.0);
    }
  EXPECT_EQ(cli("similarity " + f.mixer + " " + f.mixer + " --images " + f.images + " --estimator unbiased").code, 2);
  EXPECT_EQ(cli("similarity " + f.mixer + " " + f.mixer + " --images " + f.images + " --limit 3 --estimator debiased").code, 3);
}

TEST(SimilarityCli, BadFoldersAreInputErrors) {
  const Fixture& f = fixture();
  EXPECT_EQ(cli("similarity " + f.mixer + " " + f.mixer + " --images " + f.empty).code, 3);
  EXPECT_EQ(cli("similarity " + f.mixer + " " + f.mixer + " --images " + workDir() + "/missing").code, 3);
  EXPECT_EQ(cli("similarity " + f.mixer + " " + f.mixer + " --images " + f.images + " --limit 1").code, 3);
  EXPECT_EQ(cli("similarity " + f.mixer + " " + f.mixer).code, 2);
  EXPECT_EQ(cli("similarity " + f.mixer + " --images " + f.images).code, 2);
}

TEST(EvaluateCli, ReportsEveryRequestedMetricPerMethod) {
  const Fixture& f = fixture();
  // --limit counts image files in name order (broken.png first), so that shards agree on the set.
  const CliRun r = cli("evaluate " + f.mixer + " --images " + f.images + " --limit 3 --curve-steps 4 --substrate zero"
                       " --methods gradcam,gradient --metrics deletion,insertion,drop,sanity --json");
  ASSERT_EQ(r.code, 3) << r.err;  // broken.png is recorded as failed; the means cover the other two
  EXPECT_NE(r.err.find("broken.png: FAILED"), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["images"], 2);
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["baseline"], "zero");
  ASSERT_EQ(j["methods"].size(), 2u);
  EXPECT_EQ(j["methods"][0]["method"], "gradcam");
  for (const auto& m : j["methods"]) {
    for (const char* key : {"deletion_auc", "insertion_auc", "average_drop", "increase_in_confidence"}) {
      ASSERT_TRUE(m.contains(key)) << key;
      EXPECT_GE(m[key].get<double>(), 0.0);
      EXPECT_LE(m[key].get<double>(), 1.0);
    }
    ASSERT_EQ(m["sanity"].size(), 5u);  // head, norm, blocks.1, blocks.0, stem
    EXPECT_EQ(m["sanity"][0]["layer"], "head");
    EXPECT_LE(std::abs(m["sanity"][4]["spearman"].get<double>()), 1.0);
  }
  const CliRun defaults = cli("evaluate " + f.mixer + " --images " + f.images + " --limit 2 --curve-steps 2");
  ASSERT_EQ(defaults.code, 3) << defaults.err;
  EXPECT_NE(defaults.out.find("deletion AUC"), std::string::npos);
  EXPECT_EQ(cli("evaluate " + f.mixer + " --images " + f.images + " --metrics speed").code, 2);
  EXPECT_EQ(cli("evaluate " + f.mixer + " --images " + f.images + " --methods nope").code, 3);
  EXPECT_EQ(cli("evaluate " + f.mixer + " --images " + f.empty).code, 3);
}

}  // namespace similarity_cli_test
}  // namespace
