// A short real training run: a few hundred steps lower the loss and write a checkpoint that
// loads strictly; the progress line reports the loss every 50 steps.
#include "cli_test_support.h"
#include "model/safetensors.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

namespace {
namespace train_cli_test {

std::vector<double> reportedLosses(const std::string& progress) {
  std::vector<double> out;
  const std::regex loss("loss ([0-9.]+)");
  for (auto it = std::sregex_iterator(progress.begin(), progress.end(), loss); it != std::sregex_iterator(); ++it)
    out.push_back(std::stod((*it)[1]));
  return out;
}

TEST(TrainCli, AFewHundredStepsLowerTheLossAndWriteALoadableFile) {
  const std::string out = fs::test::cliTmpDir("train") + "/tiny.safetensors";
  const fs::test::CliRun r = fs::test::runCli("train convmlp_fmnist --dataset fashion-mnist --epochs 1 --max-steps 300 --batch 32 --seed 1 --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::vector<double> losses = reportedLosses(r.err);
  ASSERT_GE(losses.size(), 6u) << r.err;
  EXPECT_LT(losses.back(), 0.8 * losses.front()) << r.err;
  const fs::test::CliRun eval = fs::test::runCli("evaluate convmlp_fmnist --weights " + out + " --dataset fashion-mnist --limit 200 --json");
  ASSERT_EQ(eval.code, 0) << eval.err;
  EXPECT_NE(eval.out.find("\"accuracy\""), std::string::npos);
}

// Killed (SIGKILL) after its first epoch checkpoint, the same command continues from F.resume and
// writes exactly the weights of an uninterrupted run; F.resume is removed at the end.
TEST(TrainCli, KilledRunContinuesFromItsCheckpointToTheSameWeights) {
  const std::string dir = fs::test::cliTmpDir("train_resume_" + std::to_string(getpid()));
  const std::string args = "train resnet_fmnist --dataset fashion-mnist --epochs 6 --train-limit 640 --batch 32 --seed 3";
  const fs::test::CliRun whole = fs::test::runCli(args + " --out " + dir + "/whole.safetensors");
  ASSERT_EQ(whole.code, 0) << whole.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/whole.safetensors.resume"));

  const std::string out = dir + "/killed.safetensors";
  const std::string start = "sh -c '" + std::string(FS_CLI_PATH) + " " + args + " --out " + out + " >" + dir +
                            "/first.log 2>&1 & echo $! > " + dir + "/pid'";
  ASSERT_EQ(std::system(start.c_str()), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!std::filesystem::exists(out + ".resume") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int pid = 0;
  std::ifstream(dir + "/pid") >> pid;
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(std::filesystem::exists(out + ".resume")) << fs::test::slurp(dir + "/first.log");
  ::kill(pid, SIGKILL);
  while (::kill(pid, 0) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_FALSE(std::filesystem::exists(out)) << "the run finished before the kill";
  fs::model::TensorDict spoilt = fs::model::readSafetensors(out + ".resume");  // for the last check

  const fs::test::CliRun again = fs::test::runCli(args + " --out " + out);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("continued from " + out + ".resume at step "), std::string::npos) << again.err;
  EXPECT_FALSE(std::filesystem::exists(out + ".resume"));
  const fs::model::TensorDict a = fs::model::readSafetensors(dir + "/whole.safetensors");
  const fs::model::TensorDict b = fs::model::readSafetensors(out);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(a.tensors[i].first, b.tensors[i].first);
    EXPECT_TRUE(a.tensors[i].second.equal(b.tensors[i].second)) << a.tensors[i].first;
  }
  // A checkpoint of another run is refused, naming it.
  std::filesystem::copy_file(dir + "/whole.safetensors", out + ".resume");
  const fs::test::CliRun other = fs::test::runCli(args + " --out " + out);
  EXPECT_EQ(other.code, 3) << other.err;
  EXPECT_NE(other.err.find(out + ".resume"), std::string::npos) << other.err;
  // This run's checkpoint with a step that is not a count: an input error naming it, not an
  // internal one.
  for (auto& [key, value] : spoilt.metadata)
    if (key == "step") value = "x";
  fs::model::writeSafetensors(out + ".resume", spoilt);
  const fs::test::CliRun bad = fs::test::runCli(args + " --out " + out);
  EXPECT_EQ(bad.code, 3) << bad.err;
  EXPECT_NE(bad.err.find(out + ".resume: not a training checkpoint (step 'x' is not a count)"), std::string::npos)
      << bad.err;
  std::filesystem::remove_all(dir);
}

// An --out whose folder cannot be made (a file in the way) is refused before the first epoch.
TEST(TrainCli, RefusesAnUnwritableOutputBeforeTraining) {
  const std::string dir = fs::test::cliTmpDir("train_blocked_" + std::to_string(getpid())), file = dir + "/file";
  { std::ofstream(file) << "x"; }
  const fs::test::CliRun r = fs::test::runCli("train resnet_fmnist --dataset fashion-mnist --epochs 1 --train-limit 64 "
                                              "--out " + file + "/m.safetensors");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find(file + ": cannot create folder (Not a directory)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("epoch 1"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

TEST(TrainCli, RefusesAModelWithTheWrongClassCount) {
  const fs::test::CliRun r = fs::test::runCli("train resnet18 --dataset fashion-mnist --epochs 1 --out " +
                                              fs::test::cliTmpDir("train") + "/never.safetensors");
  EXPECT_EQ(r.code, 3) << r.err;
}

}  // namespace train_cli_test
}  // namespace
