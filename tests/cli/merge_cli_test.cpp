// featurescope-cli merge end to end: export and evaluate shards merged into exactly what a single
// run writes (every exported file byte for byte, the record byte for byte except "updated"), the
// refusals (missing, foreign, miscounted, incomplete and tampered shards; nothing written then),
// and resume after a kill (outputs written but not yet recorded are redone; recorded ones skipped).
#include "cli_test_support.h"
#include "tests/model/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace {
namespace merge_cli_test {
using fs::test::CliRun;
using fs::test::slurp;
using fs::test::withoutTime;
using nlohmann::json;
namespace stdfs = std::filesystem;
CliRun cli(const std::string& args) { return fs::test::runCli(args); }

std::string workDir() {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/merge_cli_" + std::to_string(getpid());
  stdfs::create_directories(d);
  return d;
}

std::string imageFolder() {
  static const std::string dir = [] {
    const std::string d = workDir() + "/images";
    stdfs::create_directories(d);
    for (int i = 0; i < 5; ++i) fs::test::writeBmp(d + "/im" + std::to_string(i) + ".bmp", 64 + 4 * i, 64, i + 1);
    return d;
  }();
  return dir;
}

std::string exportArgs(const std::string& out, const std::string& methods = "gradcam") {
  const std::string ref = fs::test::refDir("mixer_tiny");
  return "export --model " + ref + "/config.json:" + ref + "/weights.safetensors --images " + imageFolder() +
         " --out " + out + " --methods " + methods + " --threads 1";
}

std::string evaluateArgs(const std::string& out) {
  const std::string ref = fs::test::refDir("mixer_tiny");
  return "evaluate " + ref + "/config.json --weights " + ref + "/weights.safetensors --images " + imageFolder() +
         " --curve-steps 4 --metrics deletion,insertion,drop,sanity --methods gradcam,gradient --threads 1 --out " + out;
}

std::set<std::string> outputFiles(const std::string& dir) {
  std::set<std::string> files;
  for (const auto& e : stdfs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().rfind("manifest", 0) != 0)
      files.insert(stdfs::relative(e.path(), dir).string());
  return files;
}

json readJson(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}
void writeJson(const std::string& path, const json& j) { std::ofstream(path) << j.dump(2); }

// Shards 1..n of an export into `out`.
void exportShards(const std::string& out, int n, const std::string& methods = "gradcam") {
  for (int k = 1; k <= n; ++k) {
    const CliRun r = cli(exportArgs(out, methods) + " --shard " + std::to_string(k) + "/" + std::to_string(n));
    ASSERT_EQ(r.code, 0) << r.err;
  }
}

TEST(MergeCli, ExportShardsMergeIntoExactlyTheSingleRun) {
  const std::string sharded = workDir() + "/export_sharded", single = workDir() + "/export_single";
  exportShards(sharded, 3);
  const CliRun merged = cli("merge " + sharded);
  ASSERT_EQ(merged.code, 0) << merged.err;
  EXPECT_NE(merged.out.find("3 shards of an export manifest, 5 images (5 done, 0 failed)"), std::string::npos)
      << merged.out;
  ASSERT_EQ(cli(exportArgs(single)).code, 0);
  EXPECT_EQ(withoutTime(sharded + "/manifest.json"), withoutTime(single + "/manifest.json"));
  const auto files = outputFiles(single);
  ASSERT_EQ(files.size(), 5u * (2 + 2));  // blocks.0, blocks.1 (stages), gradcam .npy and .png
  EXPECT_EQ(outputFiles(sharded), files);
  for (const auto& f : files) EXPECT_EQ(slurp(sharded + "/" + f), slurp(single + "/" + f)) << f;
  EXPECT_EQ(readJson(sharded + "/manifest.json")["shard"]["count"], 1);
}

TEST(MergeCli, EvaluateShardsMergeIntoTheSingleRunsScorecardBitForBit) {
  const std::string dir = workDir() + "/evaluate";
  for (int k = 1; k <= 2; ++k) {
    const CliRun r = cli(evaluateArgs(dir + "/score.json") + " --shard " + std::to_string(k) + "/2");
    ASSERT_EQ(r.code, 0) << r.err;
  }
  ASSERT_TRUE(stdfs::exists(dir + "/score-shard-2-of-2.json"));
  const CliRun merged = cli("merge " + dir + "/score-shard-1-of-2.json " + dir + "/score-shard-2-of-2.json");
  ASSERT_EQ(merged.code, 0) << merged.err;
  const CliRun single = cli(evaluateArgs(workDir() + "/evaluate_single/score.json") + " --json");
  ASSERT_EQ(single.code, 0) << single.err;
  EXPECT_EQ(withoutTime(dir + "/score.json"), withoutTime(workDir() + "/evaluate_single/score.json"));
  const json card = readJson(dir + "/score.json");
  EXPECT_EQ(card["images"].size(), 5u);
  EXPECT_EQ(card["aggregate"]["images"], 5);
  ASSERT_EQ(card["aggregate"]["methods"].size(), 2u);
  // The means are the per-image values summed in image order, divided by the count.
  double sum = 0;
  for (int i = 0; i < 5; ++i) sum += card["images"]["im" + std::to_string(i) + ".bmp"]["methods"]["gradcam"]["deletion_auc"].get<double>();
  EXPECT_EQ(card["aggregate"]["methods"][0]["deletion_auc"].get<double>(), sum / 5);
  // What --json prints is the scorecard's aggregate.
  EXPECT_EQ(json::parse(single.out)["methods"], card["aggregate"]["methods"]);
  // Rerunning the finished command skips every image.
  const CliRun again = cli(evaluateArgs(dir + "/score.json") + " --shard 1/2");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("0 done, 3 skipped"), std::string::npos) << again.err;
  // Another run's options on the same file are refused.
  const CliRun other = cli(evaluateArgs(dir + "/score.json") + " --shard 1/2 --curve-steps 5");
  EXPECT_EQ(other.code, 3);
  EXPECT_NE(other.err.find("another 'steps'"), std::string::npos) << other.err;
}

TEST(MergeCli, RefusesShardsThatAreNotOneCompleteRun) {
  const std::string a = workDir() + "/refuse_a", b = workDir() + "/refuse_b";
  exportShards(a, 2);
  exportShards(b, 2, "gradient");
  const auto refused = [&](const std::string& args, const std::string& reason) {
    const CliRun r = cli("merge " + args);
    EXPECT_EQ(r.code, 3) << args;
    EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
    EXPECT_FALSE(stdfs::exists(a + "/manifest.json"));
  };
  const std::string s1 = a + "/manifest-shard-1-of-2.json", s2 = a + "/manifest-shard-2-of-2.json";
  refused(s1, "missing shard 2/2");
  refused(s1 + " " + s1, "both are shard 1");
  refused(s1 + " " + b + "/manifest-shard-2-of-2.json", "different runs");
  refused(workDir() + "/nowhere", "no such file");
  refused(imageFolder(), "no shard files");
  EXPECT_EQ(cli("merge").code, 2);

  const std::string c = workDir() + "/refuse_c";  // one of another run's shards among this run's
  stdfs::create_directories(c);
  stdfs::copy_file(s1, c + "/manifest-shard-1-of-2.json");
  stdfs::copy_file(b + "/manifest-shard-2-of-2.json", c + "/manifest-shard-2-of-2.json");
  refused(c, "in 'methods'");
  stdfs::copy_file(s2, c + "/manifest-shard-2-of-2.json", stdfs::copy_options::overwrite_existing);
  json m = readJson(c + "/manifest-shard-2-of-2.json");
  m["shard"]["count"] = 3;
  writeJson(c + "/manifest-shard-2-of-3.json", m);
  refused(c + "/manifest-shard-1-of-2.json " + c + "/manifest-shard-2-of-3.json", "shard of 3");
  std::ofstream(c + "/manifest-shard-2-of-3.json") << "{ not json";
  refused(c + "/manifest-shard-2-of-3.json", "not a featurescope record");
  stdfs::remove(c + "/manifest-shard-2-of-3.json");

  json one = readJson(s1), two = readJson(s2);  // an image recorded in the wrong shard
  two["images"]["im0.bmp"] = one["images"]["im0.bmp"];
  writeJson(c + "/manifest-shard-2-of-2.json", two);
  refused(c, "does not belong to shard 2/2");
  two["images"].erase("im0.bmp");  // a killed shard: fewer images than it takes
  two["images"].erase("im1.bmp");
  writeJson(c + "/manifest-shard-2-of-2.json", two);
  refused(c, "is incomplete (1 of 2 images recorded)");

  stdfs::remove(a + "/im3/mixer_tiny/saliency/gradcam.png");  // an output lost after the run
  refused(a, "gradcam.png: listed as exported but missing");
  const CliRun rerun = cli(exportArgs(a) + " --shard 2/2");  // the shard's rerun redoes that image
  ASSERT_EQ(rerun.code, 0) << rerun.err;
  EXPECT_NE(rerun.out.find("1 done, 1 skipped"), std::string::npos) << rerun.out;
  EXPECT_EQ(cli("merge " + a).code, 0);
}

TEST(MergeCli, AKilledExportRedoesImagesItHadNotRecorded) {
  const std::string out = workDir() + "/killed";
  ASSERT_EQ(cli(exportArgs(out)).code, 0);
  const std::string complete = withoutTime(out + "/manifest.json");
  // As a kill between an image's last write and the next manifest save leaves it: outputs on
  // disk, no entry; and as a kill during an image's writes: a temporary, one output missing.
  json m = readJson(out + "/manifest.json");
  m["images"].erase("im2.bmp");
  m["images"].erase("im4.bmp");
  writeJson(out + "/manifest.json", m);
  stdfs::remove(out + "/im4/mixer_tiny/features/blocks.1.npy");
  std::ofstream(out + "/im4/mixer_tiny/features/blocks.1.npy.tmp-Xy12Zw") << "half";
  const CliRun resumed = cli(exportArgs(out));
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("2 done, 3 skipped, 0 failed"), std::string::npos) << resumed.out;
  EXPECT_NE(resumed.err.find("im2.bmp: done"), std::string::npos) << resumed.err;
  EXPECT_FALSE(stdfs::exists(out + "/im4/mixer_tiny/features/blocks.1.npy.tmp-Xy12Zw"));
  // The same manifest as the uninterrupted run, but for the run's own counts.
  const auto counts = std::regex("\n  \"summary\": \\{[^}]*\\},?");
  EXPECT_EQ(std::regex_replace(withoutTime(out + "/manifest.json"), counts, ""), std::regex_replace(complete, counts, ""));
}

TEST(MergeCli, SaveIntervalIsCheckedAndLeavesTheRecordAlone) {
  // --save-every changes when the record is written, not what it holds: shards saved at different
  // intervals are one run and merge into the single run's manifest.
  const std::string out = workDir() + "/intervals", single = workDir() + "/intervals_single";
  for (const std::string& bad : {"0.05", "x"}) {
    const CliRun r = cli(exportArgs(out) + " --save-every " + bad);
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find("--save-every expects a number in [0.1, 86400], got '" + bad + "'"), std::string::npos) << r.err;
    const CliRun e = cli(evaluateArgs(out + "/card.json") + " --save-every " + bad);
    EXPECT_EQ(e.code, 2) << bad;
    EXPECT_NE(e.err.find("--save-every expects a number in [0.1, 86400], got '" + bad + "'"), std::string::npos) << e.err;
  }
  EXPECT_FALSE(stdfs::exists(out));
  ASSERT_EQ(cli(exportArgs(out) + " --shard 1/2 --save-every 0.1").code, 0);
  ASSERT_EQ(cli(exportArgs(out) + " --shard 2/2 --save-every 60").code, 0);
  ASSERT_EQ(cli("merge " + out).code, 0);
  ASSERT_EQ(cli(exportArgs(single)).code, 0);
  EXPECT_EQ(withoutTime(out + "/manifest.json"), withoutTime(single + "/manifest.json"));
}

}  // namespace merge_cli_test
}  // namespace
