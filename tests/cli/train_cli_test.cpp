// A short real training run: a few hundred steps lower the loss and write a checkpoint that
// loads strictly; the progress line reports the loss every 50 steps.
#include "cli_test_support.h"

#include <gtest/gtest.h>

#include <regex>

namespace {

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

TEST(TrainCli, RefusesAModelWithTheWrongClassCount) {
  const fs::test::CliRun r = fs::test::runCli("train resnet18 --dataset fashion-mnist --epochs 1 --out " +
                                              fs::test::cliTmpDir("train") + "/never.safetensors");
  EXPECT_EQ(r.code, 3) << r.err;
}

}  // namespace
