// evaluate's speed figures: the model evaluations per image, the model's measured throughput and
// the overhead beyond it, in --json "speed" and FILE.speed.json; no figure, and the method named,
// where a method's evaluations are not counted.
#include "cli_test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>

namespace {
namespace evaluation_speed_cli_test {

TEST(EvaluateSpeed, CountsThroughputAndOverheadInTheOutput) {
  const std::string dir = fs::test::cliTmpDir("evaluate_speed_" + std::to_string(getpid()));
  const fs::test::CliRun r = fs::test::runCli("evaluate resnet_fmnist --dataset fashion-mnist --limit 2 --methods gradcam"
                                              " --metrics deletion,gini --curve-steps 20 --out " + dir + "/s.json --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& speed = j["speed"];
  EXPECT_EQ(speed["images_scored"], 2);
  EXPECT_EQ(speed["evaluations_per_image"]["forward_batched"], 21.0);  // the deletion curve's 21 points
  EXPECT_EQ(speed["evaluations_per_image"]["forward_single"], 1.0);    // the top-1 prediction
  EXPECT_EQ(speed["evaluations_per_image"]["forward_backward_single"], 1.0);  // Grad-CAM
  // The curve's batch: its 21 points in equal passes of at most the inference batch (batch_budget.h).
  const int batch = speed["model_images_per_second"]["batch"];
  EXPECT_GE(batch, 7);
  EXPECT_EQ(batch, (21 + (21 + batch - 1) / batch - 1) / ((21 + batch - 1) / batch)) << "equal passes";
  EXPECT_EQ(speed["throughput_samples"], 1);  // a 2-image run: before it only
  // The sample's own time: at least 0.5 s for each of the four rates, outside the run's seconds.
  EXPECT_GE(speed["throughput_sampling_seconds"].get<double>(), 4 * 0.5);
  ASSERT_TRUE(speed["overhead"].is_number()) << speed.dump();
  EXPECT_GT(speed["model_seconds"].get<double>(), 0.0);
  EXPECT_NEAR(speed["overhead"].get<double>(), speed["seconds"].get<double>() / speed["model_seconds"].get<double>() - 1, 1e-9);
  EXPECT_EQ(nlohmann::json::parse(fs::test::slurp(dir + "/s.speed.json")), speed);
  // Where the time went: the explanation and each metric, within the run's wall time.
  const auto& steps = speed["seconds_by_step"];
  double stepSum = 0;
  for (const char* step : {"explain", "deletion", "gini"}) {
    ASSERT_TRUE(steps.contains(step)) << steps.dump();
    EXPECT_GT(steps[step].get<double>(), 0.0) << step;
    stepSum += steps[step].get<double>();
  }
  EXPECT_EQ(steps.size(), 3u) << steps.dump();
  EXPECT_LE(stepSum, speed["seconds"].get<double>());
  EXPECT_NE(r.err.find("forward-equivalents"), std::string::npos) << r.err;

  const fs::test::CliRun rise = fs::test::runCli("evaluate resnet_fmnist --dataset fashion-mnist --limit 1 --methods rise"
                                                 " --param masks=50 --metrics gini --json");
  ASSERT_EQ(rise.code, 0) << rise.err;
  const auto k = nlohmann::json::parse(rise.out)["speed"];
  EXPECT_TRUE(k["overhead"].is_null());
  EXPECT_EQ(k["uncounted_methods"], nlohmann::json::array({"rise"}));
  std::filesystem::remove_all(dir);
}

}  // namespace evaluation_speed_cli_test
}  // namespace
