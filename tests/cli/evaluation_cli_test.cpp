// featurescope-cli evaluate with the evaluation lab's metrics: localisation against NAME.mask.png
// (the masks are not scored as images), complexity, ROAD; the scorecard tables (rows, summary with
// bootstrap CIs and ranks, agreement matrix) byte-identical for identical seeds; resume; a bad mask
// recorded as failed naming the file; an unknown metric refused with the valid names.
#include "cli_test_support.h"
#include "tests/model/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>

namespace {
namespace evaluation_cli_test {
using fs::test::CliRun;
using fs::test::slurp;
namespace stdfs = std::filesystem;

std::string workDir() {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/evaluation_cli_" + std::to_string(getpid());
  stdfs::create_directories(d);
  return d;
}

// A grey PNG of w x h with a white rectangle [x0,x1) x [y0,y1), written by Python's zlib (the
// tests do not link an image library).
void writeMask(const std::string& path, int w, int h, int x0, int x1, int y0, int y1) {
  const std::string script =
      "import struct,sys,zlib\n"
      "w,h,x0,x1,y0,y1=map(int,sys.argv[2:8])\n"
      "raw=b''.join(b'\\x00'+bytes(255 if x0<=x<x1 and y0<=y<y1 else 0 for x in range(w)) for y in range(h))\n"
      "def chunk(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d))\n"
      "open(sys.argv[1],'wb').write(b'\\x89PNG\\r\\n\\x1a\\n'+chunk(b'IHDR',struct.pack('>IIBBBBB',w,h,8,0,0,0,0))"
      "+chunk(b'IDAT',zlib.compress(raw))+chunk(b'IEND',b''))\n";
  const std::string py = workDir() + "/write_mask.py";
  std::ofstream(py) << script;
  const std::string cmd = std::string(FS_PYTHON) + " " + py + " " + path + " " + std::to_string(w) + " " +
                          std::to_string(h) + " " + std::to_string(x0) + " " + std::to_string(x1) + " " +
                          std::to_string(y0) + " " + std::to_string(y1);
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

std::string imageFolder() {
  const std::string d = workDir() + "/images";
  stdfs::create_directories(d);
  for (int i = 0; i < 2; ++i) {
    fs::test::writeBmp(d + "/im" + std::to_string(i) + ".bmp", 64, 48, i + 1);
    writeMask(d + "/im" + std::to_string(i) + ".mask.png", 64, 48, 10 + 8 * i, 40, 8, 30);
  }
  return d;
}

std::string evaluateArgs(const std::string& images, const std::string& out, int seed = 5) {
  const std::string ref = fs::test::refDir("mixer_tiny");
  return "evaluate " + ref + "/config.json --weights " + ref + "/weights.safetensors --images " + images +
         " --curve-steps 4 --methods gradcam,gradient --metrics deletion,pointing_game,relevance_mass,gini,road_morf"
         " --threads 1 --seed " + std::to_string(seed) + " --out " + out;
}

TEST(EvaluateMetricsCli, MetricsScorecardTablesAreReproducibleAndResumable) {
  const std::string images = imageFolder(), a = workDir() + "/a", b = workDir() + "/b";
  const CliRun first = fs::test::runCli(evaluateArgs(images, a + "/s.json"));
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("relevance_mass"), std::string::npos) << first.out;
  const std::string rows = slurp(a + "/s.rows.csv"), summary = slurp(a + "/s.summary.csv");
  // 2 images (the masks are not images) x 2 methods x 5 metrics.
  EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 1 + 2 * 2 * 5) << rows;
  EXPECT_EQ(rows.find(".mask"), std::string::npos);
  EXPECT_EQ(std::count(summary.begin(), summary.end(), '\n'), 1 + 2 * 5) << summary;
  EXPECT_EQ(summary.rfind("method,metric,n,mean,ci_low,ci_high,rank\n", 0), 0u);
  const nlohmann::json stats = nlohmann::json::parse(slurp(a + "/s.json"))["aggregate"]["statistics"];
  for (const std::string method : {"gradcam", "gradient"})
    for (const auto& key : stats["metrics"]) {
      const nlohmann::json& s = stats["methods"][method][key.get<std::string>()];
      EXPECT_LE(s["ci_low"].get<double>(), s["mean"].get<double>() + 1e-12) << method << " " << key;
      EXPECT_GE(s["ci_high"].get<double>(), s["mean"].get<double>() - 1e-12) << method << " " << key;
    }
  EXPECT_EQ(stats["agreement"].size(), stats["metrics"].size());

  ASSERT_EQ(fs::test::runCli(evaluateArgs(images, b + "/s.json")).code, 0);
  for (const char* t : {".rows.csv", ".summary.csv", ".agreement.csv"})
    EXPECT_EQ(slurp(a + "/s" + t), slurp(b + "/s" + t)) << t << " differs between identical runs";
  EXPECT_EQ(fs::test::withoutTime(a + "/s.json"), fs::test::withoutTime(b + "/s.json"));

  const CliRun again = fs::test::runCli(evaluateArgs(images, a + "/s.json"));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("im1.bmp: skipped (recorded)"), std::string::npos) << again.err;
  EXPECT_EQ(slurp(a + "/s.rows.csv"), rows);
  stdfs::remove_all(workDir());
}

TEST(EvaluateMetricsCli, SanityAndRandomLogitReportTheFourSimilarities) {
  const std::string images = imageFolder(), ref = fs::test::refDir("mixer_tiny");
  const CliRun r = fs::test::runCli("evaluate " + ref + "/config.json --weights " + ref + "/weights.safetensors --images " +
                                    images + " --methods gradcam --metrics sanity,random_logit --threads 1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json m = nlohmann::json::parse(r.out)["methods"][0];
  ASSERT_EQ(m["sanity"].size(), 5u);  // head, norm, blocks.1, blocks.0, stem
  EXPECT_EQ(m["sanity"][0]["layer"], "head");
  for (const auto& step : m["sanity"])
    for (const char* k : {"spearman", "spearman_abs", "ssim", "hog"}) {
      ASSERT_TRUE(step[k].is_number()) << step.dump();
      EXPECT_LE(std::abs(step[k].get<double>()), 1.0 + 1e-9) << k;
    }
  for (const char* k : {"spearman", "spearman_abs", "ssim", "hog"}) EXPECT_TRUE(m["random_logit"][k].is_number()) << k;
  EXPECT_LT(m["random_logit"]["spearman"].get<double>(), 1.0);
  stdfs::remove_all(workDir());
}

TEST(EvaluateMetricsCli, BadMaskIsRecordedAsFailedNamingTheFileAndUnknownMetricIsRefused) {
  const std::string images = imageFolder();
  writeMask(images + "/im1.mask.png", 32, 48, 0, 10, 0, 10);  // the image is 64 x 48
  const CliRun r = fs::test::runCli(evaluateArgs(images, workDir() + "/bad/s.json"));
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("mask " + images + "/im1.mask.png: 32x48 pixels, but its image is 64x48"), std::string::npos)
      << r.err;
  stdfs::remove(images + "/im1.mask.png");
  const CliRun missing = fs::test::runCli(evaluateArgs(images, workDir() + "/missing/s.json"));
  EXPECT_EQ(missing.code, 3);
  EXPECT_NE(missing.err.find("im1.mask.png: unreadable"), std::string::npos) << missing.err;
  const CliRun unknown = fs::test::runCli(std::string("evaluate resnet_fmnist --images ") + images +
                                          " --metrics accuracy");
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.err.find("unknown metric 'accuracy'"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("road_lerf"), std::string::npos) << unknown.err;
  stdfs::remove_all(workDir());
}

}  // namespace evaluation_cli_test
}  // namespace
