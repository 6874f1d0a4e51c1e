// evaluate --jobs end to end: two child processes, one shard each, merged into exactly the
// scorecard and tables of one process with the same threads per process (an unreadable image
// recorded as failed in either); their speed records combined; a rerun skips what they finished;
// the refusals (with --shard, without --out, a missing folder) before any job starts; no more jobs
// than images, and empty shards; killing the command ends its jobs.
#include "cli_test_support.h"
#include "tests/model/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

namespace {
namespace evaluate_jobs_cli_test {
using fs::test::CliRun;
using fs::test::slurp;
using fs::test::withoutTime;
using nlohmann::json;
namespace stdfs = std::filesystem;

std::string workDir() {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/evaluate_jobs_cli_" + std::to_string(getpid());
  stdfs::create_directories(d);
  return d;
}

std::string imageFolder() {
  const std::string d = workDir() + "/images";
  stdfs::create_directories(d);
  for (int i = 0; i < 5; ++i) fs::test::writeBmp(d + "/im" + std::to_string(i) + ".bmp", 60 + 4 * i, 64, i + 2);
  std::ofstream(d + "/im5.bmp") << "not an image";
  return d;
}

std::string evaluateArgs(const std::string& images, const std::string& out) {
  const std::string ref = fs::test::refDir("mixer_tiny");
  return "evaluate " + ref + "/config.json --weights " + ref + "/weights.safetensors --images " + images +
         " --curve-steps 4 --metrics deletion,gini,max_sensitivity --methods gradcam,gradient --out " + out;
}

TEST(EvaluateJobs, TwoJobsMergeIntoTheScorecardOfOneProcessAndCombineTheirSpeed) {
  const std::string images = imageFolder(), dir = workDir();
  const CliRun jobs = fs::test::runCli(evaluateArgs(images, dir + "/jobs/score.json") + " --jobs 2 --threads 2 --json");
  ASSERT_EQ(jobs.code, 3) << jobs.err;  // im5.bmp is recorded as failed
  EXPECT_NE(jobs.err.find("2 jobs of 1 thread each"), std::string::npos) << jobs.err;
  const CliRun one = fs::test::runCli(evaluateArgs(images, dir + "/one/score.json") + " --threads 1 --json");
  ASSERT_EQ(one.code, 3) << one.err;
  EXPECT_EQ(withoutTime(dir + "/jobs/score.json"), withoutTime(dir + "/one/score.json"));
  for (const char* table : {"rows", "summary", "agreement"})
    EXPECT_EQ(slurp(dir + "/jobs/score." + table + ".csv"), slurp(dir + "/one/score." + table + ".csv")) << table;
  const json j = json::parse(jobs.out), o = json::parse(one.out);
  for (const char* key : {"images", "failed", "methods", "statistics"}) EXPECT_EQ(j[key], o[key]) << key;
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["scorecard"], dir + "/jobs/score.json");

  // The speed: each job's record, and their combination.
  const json& speed = j["speed"];
  EXPECT_EQ(json::parse(slurp(dir + "/jobs/score.speed.json")), speed);
  ASSERT_EQ(speed["jobs"].size(), 2u);
  const json &a = speed["jobs"][0], &b = speed["jobs"][1];
  EXPECT_EQ(a, json::parse(slurp(dir + "/jobs/score-shard-1-of-2.speed.json")));
  EXPECT_EQ(b, json::parse(slurp(dir + "/jobs/score-shard-2-of-2.speed.json")));
  EXPECT_EQ(a["images_scored"].get<int>() + b["images_scored"].get<int>(), 5);
  EXPECT_EQ(speed["images_scored"], 5);
  EXPECT_EQ(speed["evaluations_per_image"], a["evaluations_per_image"]);
  const double wall = std::max(a["seconds"].get<double>(), b["seconds"].get<double>());
  const double model = (a["model_seconds"].get<double>() + b["model_seconds"].get<double>()) / 2;
  const double fe = a["forward_equivalents"].get<double>() + b["forward_equivalents"].get<double>();
  EXPECT_DOUBLE_EQ(speed["seconds"].get<double>(), wall);
  EXPECT_DOUBLE_EQ(speed["model_seconds"].get<double>(), model);
  EXPECT_DOUBLE_EQ(speed["forward_equivalents"].get<double>(), fe);
  EXPECT_DOUBLE_EQ(speed["forward_equivalents_per_second"].get<double>(), fe / wall);
  EXPECT_DOUBLE_EQ(speed["overhead"].get<double>(), wall / model - 1);
  EXPECT_DOUBLE_EQ(speed["model_images_per_second"]["forward_batched"].get<double>(),
                   a["model_images_per_second"]["forward_batched"].get<double>() +
                       b["model_images_per_second"]["forward_batched"].get<double>());
  EXPECT_DOUBLE_EQ(speed["seconds_by_step"]["gini"].get<double>(),
                   a["seconds_by_step"]["gini"].get<double>() + b["seconds_by_step"]["gini"].get<double>());

  // A rerun skips the images the jobs finished (the failed one is tried again) and merges the same.
  const CliRun again = fs::test::runCli(evaluateArgs(images, dir + "/jobs/score.json") + " --jobs 2 --threads 2");
  ASSERT_EQ(again.code, 3) << again.err;
  EXPECT_NE(again.err.find("0 done, 3 skipped, 0 failed"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("0 done, 2 skipped, 1 failed"), std::string::npos) << again.err;
  EXPECT_EQ(withoutTime(dir + "/jobs/score.json"), withoutTime(dir + "/one/score.json"));
  stdfs::remove_all(dir);
}

TEST(EvaluateJobs, RefusesShardsWithoutOutAndMissingFoldersBeforeAnyJobStarts) {
  const std::string dir = workDir();
  const CliRun shard = fs::test::runCli(evaluateArgs(dir, dir + "/s.json") + " --jobs 2 --shard 1/2");
  EXPECT_EQ(shard.code, 2);
  EXPECT_NE(shard.err.find("give --shard (one process per shard) or --jobs, not both"), std::string::npos) << shard.err;
  const std::string ref = fs::test::refDir("mixer_tiny");
  const CliRun noOut = fs::test::runCli("evaluate " + ref + "/config.json --images " + dir + " --jobs 2");
  EXPECT_EQ(noOut.code, 2);
  EXPECT_NE(noOut.err.find("--jobs needs --out FILE.json"), std::string::npos) << noOut.err;
  const CliRun missing = fs::test::runCli(evaluateArgs(dir + "/nowhere", dir + "/m.json") + " --jobs 2");
  EXPECT_EQ(missing.code, 3);
  EXPECT_NE(missing.err.find(dir + "/nowhere: not a folder"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.err.find("jobs of"), std::string::npos) << missing.err;  // no job started
  EXPECT_FALSE(stdfs::exists(dir + "/m-shard-1-of-2.json"));
  stdfs::remove_all(dir);
}

// Fewer images than jobs: --jobs runs one job per image (one process for one image), and an
// explicit shard that holds no image (a cluster array longer than the folder) records nothing and
// merges; a shard whose every image failed names the first reason.
TEST(EvaluateJobs, FewerImagesThanJobsAndEmptyShards) {
  const std::string dir = workDir(), one = dir + "/one";
  const auto evaluateArgs = [](const std::string& images, const std::string& out) {  // a light configuration
    const std::string ref = fs::test::refDir("mixer_tiny");
    return "evaluate " + ref + "/config.json --weights " + ref + "/weights.safetensors --images " + images +
           " --curve-steps 4 --metrics deletion,gini --methods gradient --out " + out;
  };
  stdfs::create_directories(one);
  fs::test::writeBmp(one + "/im0.bmp", 64, 64, 3);
  const CliRun single = fs::test::runCli(evaluateArgs(one, dir + "/single/s.json") + " --jobs 3 --threads 2");
  ASSERT_EQ(single.code, 0) << single.err;
  EXPECT_NE(single.err.find("1 image, so 1 job (one process), not 3"), std::string::npos) << single.err;
  EXPECT_NE(single.err.find(": 1 image in shard 1/1: 1 done"), std::string::npos) << single.err;  // not "1 images"
  EXPECT_NE(single.out.find(" on 1 image ("), std::string::npos) << single.out;
  EXPECT_EQ(json::parse(slurp(dir + "/single/s.json"))["aggregate"]["images"], 1);
  EXPECT_FALSE(stdfs::exists(dir + "/single/s-shard-1-of-3.json"));

  const std::string two = dir + "/two";
  stdfs::create_directories(two);
  for (int i = 0; i < 2; ++i) fs::test::writeBmp(two + "/im" + std::to_string(i) + ".bmp", 64, 64, i + 2);
  const CliRun pair = fs::test::runCli(evaluateArgs(two, dir + "/pair/s.json") + " --jobs 5 --threads 2");
  ASSERT_EQ(pair.code, 0) << pair.err;
  EXPECT_NE(pair.err.find("2 images, so 2 jobs, not 5"), std::string::npos) << pair.err;
  EXPECT_NE(pair.err.find("2 jobs of 1 thread each"), std::string::npos) << pair.err;
  EXPECT_EQ(json::parse(slurp(dir + "/pair/s.json"))["aggregate"]["images"], 2);

  const CliRun empty = fs::test::runCli(evaluateArgs(one, dir + "/shards/s.json") + " --shard 2/2");
  ASSERT_EQ(empty.code, 0) << empty.err;
  EXPECT_NE(empty.err.find("0 images in shard 2/2"), std::string::npos) << empty.err;
  ASSERT_EQ(fs::test::runCli(evaluateArgs(one, dir + "/shards/s.json") + " --shard 1/2").code, 0);
  const CliRun merged = fs::test::runCli("merge " + dir + "/shards/s-shard-1-of-2.json " + dir +
                                         "/shards/s-shard-2-of-2.json --out " + dir + "/shards/s.json");
  ASSERT_EQ(merged.code, 0) << merged.err;
  EXPECT_EQ(withoutTime(dir + "/shards/s.json"), withoutTime(dir + "/single/s.json"));

  const std::string bad = dir + "/bad";
  stdfs::create_directories(bad);
  std::ofstream(bad + "/im0.bmp") << "not an image";
  const CliRun failed = fs::test::runCli(evaluateArgs(bad, dir + "/bad/s.json"));
  EXPECT_EQ(failed.code, 3);
  EXPECT_NE(failed.err.find(bad + ": no image in this shard could be scored (1 failed; the first: "), std::string::npos)
      << failed.err;
  EXPECT_NE(failed.err.find("im0.bmp"), std::string::npos) << failed.err;
  stdfs::remove_all(dir);
}

// The running processes whose command line holds `text` and "--shard" (the jobs of one run).
int jobsNaming(const std::string& text) {
  int n = 0;
  for (const auto& e : stdfs::directory_iterator("/proc")) {
    std::string cmdline = slurp(e.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    n += cmdline.find(text) != std::string::npos && cmdline.find("--shard") != std::string::npos;
  }
  return n;
}

int waitForJobs(const std::string& text, int count, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int n = jobsNaming(text);
  while (n != count && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    n = jobsNaming(text);
  }
  return n;
}

TEST(EvaluateJobs, KillingTheCommandEndsItsJobs) {
  const std::string dir = workDir(), out = dir + "/killed/score.json", images = dir + "/many";
  stdfs::create_directories(images);  // tens of seconds of work for the two jobs
  for (int i = 0; i < 300; ++i) fs::test::writeBmp(images + "/im" + std::to_string(i) + ".bmp", 64, 64, i + 1);
  const std::string command = "exec " + std::string(FS_CLI_PATH) + " " + evaluateArgs(images, out) +
                              " --jobs 2 --threads 2 >/dev/null 2>&1";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_EQ(waitForJobs(out, 2, 60), 2) << "the two jobs did not start";
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_EQ(waitForJobs(out, 0, 5), 0) << "jobs still running 5 s after their command was killed";
  stdfs::remove_all(dir);
}

}  // namespace evaluate_jobs_cli_test
}  // namespace
