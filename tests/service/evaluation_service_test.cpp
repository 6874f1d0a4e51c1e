// EvaluationService (the Evaluate view's scorecard): statistics and per-image values read back
// consistently (each mean is the mean of the image values), the worst images in the metric's own
// direction, the methods that do not apply to a model left out, a cancel that stops after the image
// it is on, and bad requests refused. The same numbers as `featurescope-cli evaluate`:
// tests/ui/evaluation_one_truth_test.cpp.
#include "service_test_support.h"

#include "model/errors.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace {

using fs::service::EvaluationRequest;

const std::string kVit = std::string(FS_SOURCE_DIR) + "/tests/data/reference/vit_tiny/";

EvaluationRequest cheapRequest() {
  EvaluationRequest r;
  r.slots = {0};
  r.methods = {"gradcam", "gradient"};
  r.metrics = {"deletion", "gini", "drop"};
  r.limit = 4;
  r.curveSteps = 8;
  return r;
}

TEST(EvaluationService, StatisticsAgreeWithTheImageValuesAndWorstImagesFollowTheDirection) {
  fs::service::Session s;
  s.slots().load(0, "resnet_fmnist", "");
  std::vector<double> fractions;
  const auto res = s.evaluation().run(cheapRequest(), [&](double f) { fractions.push_back(f); });
  ASSERT_FALSE(res.cancelled);
  ASSERT_EQ(res.models.size(), 1u);
  const auto& m = res.models[0];
  EXPECT_EQ(m.modelId, "resnet_fmnist");
  EXPECT_EQ(m.done, 4);
  ASSERT_EQ(m.images.size(), 4u);
  EXPECT_EQ(m.images[2].testIndex, 2);
  EXPECT_EQ(m.keys, (std::vector<std::string>{"deletion_auc", "drop", "gini", "increase"}));
  EXPECT_EQ(m.higherIsBetter, (std::vector<bool>{false, false, true, true}));
  ASSERT_EQ(m.stats.size(), 2u);
  for (size_t method = 0; method < 2; ++method)
    for (size_t k = 0; k < m.keys.size(); ++k) {
      double sum = 0;
      for (const auto& img : m.images) sum += img.values[method][k];
      const auto& st = m.stats[method][k];
      EXPECT_EQ(st.n, 4);
      EXPECT_NEAR(st.mean, sum / 4, 1e-12) << m.methods[method] << " " << m.keys[k];
      EXPECT_LE(st.ciLow, st.mean + 1e-12);
      EXPECT_GE(st.ciHigh, st.mean - 1e-12);
    }
  // Ranks: 1 and 2 per metric, in the metric's direction.
  for (size_t k = 0; k < m.keys.size(); ++k) {
    const bool firstBetter = m.higherIsBetter[k] ? m.stats[0][k].mean > m.stats[1][k].mean
                                                 : m.stats[0][k].mean < m.stats[1][k].mean;
    if (m.stats[0][k].mean != m.stats[1][k].mean) EXPECT_EQ(m.stats[0][k].rank, firstBetter ? 1.0 : 2.0) << m.keys[k];
  }
  ASSERT_EQ(m.agreement.size(), 4u);
  EXPECT_DOUBLE_EQ(m.agreement[0][0], 1.0);
  // Progress once per image, ending at 1.
  ASSERT_GE(fractions.size(), 4u);
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);

  // Worst on deletion AUC (lower is better): the highest values first; on gini the lowest.
  const auto worstDel = fs::service::worstImages(m, 1, 0, 3);
  ASSERT_EQ(worstDel.size(), 3u);
  for (const auto& img : m.images) EXPECT_LE(img.values[1][0], m.images[worstDel[0]].values[1][0]);
  EXPECT_GE(m.images[worstDel[0]].values[1][0], m.images[worstDel[1]].values[1][0]);
  const auto worstGini = fs::service::worstImages(m, 0, 2, 10);
  ASSERT_EQ(worstGini.size(), 4u);
  for (const auto& img : m.images) EXPECT_GE(img.values[0][2], m.images[worstGini[0]].values[0][2]);
}

TEST(EvaluationService, MethodsThatDoNotApplyAreLeftOutPerModel) {
  fs::service::Session s;
  s.slots().load(0, "resnet_fmnist", "");
  s.slots().load(1, kVit + "config.json", kVit + "weights.safetensors");
  EvaluationRequest r = cheapRequest();
  r.slots = {0, 1};
  r.methods = {"gradient", "attention_rollout"};
  r.metrics = {"gini"};
  r.limit = 2;
  const auto res = s.evaluation().run(r);
  ASSERT_EQ(res.models.size(), 2u);
  EXPECT_EQ(res.models[0].methods, std::vector<std::string>{"gradient"});
  EXPECT_EQ(res.models[0].skipped, std::vector<std::string>{"attention_rollout"});
  EXPECT_EQ(res.models[1].methods, (std::vector<std::string>{"gradient", "attention_rollout"}));
  EXPECT_TRUE(std::isnan(res.models[0].agreement[0][0]));  // one method: no ranking to compare
}

// With one worker the run stops after the first image; with two, after each worker's first.
TEST(EvaluationService, CancelStopsEveryWorkerAfterTheImageItIsOn) {
  fs::service::Session s;
  s.slots().load(0, "resnet_fmnist", "");
  for (int workers : {1, 2}) {
    EvaluationRequest r = cheapRequest();
    r.limit = 50;
    r.workers = workers;
    std::atomic<bool> cancel{false};
    std::atomic<int> calls{0};
    const auto res = s.evaluation().run(
        r, [&](double) { ++calls, cancel = true; }, &cancel);
    EXPECT_TRUE(res.cancelled);
    EXPECT_TRUE(res.models.empty());
    EXPECT_GE(calls.load(), 1);
    EXPECT_LE(calls.load(), workers) << workers << " worker(s)";
  }
}

bool sameNumber(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// Everything a scorecard shows, to the bit (NaN equal to NaN).
void expectSameScorecards(const fs::service::EvaluationResult& a, const fs::service::EvaluationResult& b) {
  ASSERT_EQ(a.models.size(), b.models.size());
  for (size_t mi = 0; mi < a.models.size(); ++mi) {
    const auto &x = a.models[mi], &y = b.models[mi];
    SCOPED_TRACE(x.modelId);
    EXPECT_EQ(x.methods, y.methods);
    ASSERT_EQ(x.keys, y.keys);
    EXPECT_EQ(x.done, y.done);
    EXPECT_EQ(x.failed, y.failed);
    ASSERT_EQ(x.images.size(), y.images.size());
    for (size_t i = 0; i < x.images.size(); ++i) {
      EXPECT_EQ(x.images[i].name, y.images[i].name);
      EXPECT_EQ(x.images[i].target, y.images[i].target);
      for (size_t m = 0; m < x.methods.size(); ++m)
        for (size_t k = 0; k < x.keys.size(); ++k)
          EXPECT_TRUE(sameNumber(x.images[i].values[m][k], y.images[i].values[m][k]))
              << x.images[i].name << " " << x.methods[m] << " " << x.keys[k];
    }
    for (size_t m = 0; m < x.methods.size(); ++m)
      for (size_t k = 0; k < x.keys.size(); ++k) {
        const auto &p = x.stats[m][k], &q = y.stats[m][k];
        EXPECT_EQ(p.n, q.n);
        EXPECT_TRUE(sameNumber(p.mean, q.mean) && sameNumber(p.ciLow, q.ciLow) && sameNumber(p.ciHigh, q.ciHigh) &&
                    sameNumber(p.rank, q.rank))
            << x.methods[m] << " " << x.keys[k];
      }
    ASSERT_EQ(x.agreement.size(), y.agreement.size());
    for (size_t k = 0; k < x.agreement.size(); ++k)
      for (size_t l = 0; l < x.agreement[k].size(); ++l) EXPECT_TRUE(sameNumber(x.agreement[k][l], y.agreement[k][l]));
  }
}

// Two workers, each scoring a shard of the images with its own copy of the model, give one
// worker's scorecard: with the metrics that draw noise (infidelity), solve on lanes of their own
// (ROAD) and explain again (max-sensitivity); 5 images make shards of 3 and 2.
TEST(EvaluationService, TwoWorkersGiveTheScorecardOfOne) {
  fs::service::Session s;
  s.slots().load(0, "resnet_fmnist", "");
  s.slots().load(1, "mixer_fmnist", "");
  EvaluationRequest r = cheapRequest();
  r.slots = {0, 1};
  r.metrics = {"deletion", "drop", "gini", "road_morf", "infidelity", "max_sensitivity"};
  r.limit = 5;
  r.workers = 1;
  const auto one = s.evaluation().run(r);
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("fs-workers-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  r.workers = 2;
  r.outDir = dir.string();
  std::vector<double> fractions;
  std::mutex mutex;
  const auto two = s.evaluation().run(r, [&](double f) {
    std::lock_guard<std::mutex> lock(mutex);
    fractions.push_back(f);
  });
  expectSameScorecards(one, two);
  EXPECT_EQ(two.models[0].done, 5);
  ASSERT_EQ(fractions.size(), 11u);  // once per image and model, and the end
  for (size_t i = 1; i < fractions.size(); ++i) EXPECT_GE(fractions[i], fractions[i - 1]);
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
  // The merged scorecard as one run writes it, its shards beside it.
  for (const auto& m : two.models) {
    EXPECT_TRUE(std::filesystem::exists(m.scorecardPath)) << m.scorecardPath;
    const std::string stem = m.scorecardPath.substr(0, m.scorecardPath.size() - 5);
    EXPECT_TRUE(std::filesystem::exists(stem + ".rows.csv"));
  }
  std::filesystem::remove_all(dir);
}

// A folder whose second shard holds only an unreadable image: the shard fails as a whole, and the
// model is scored again by one worker, which records that image as failed as one run does.
TEST(EvaluationService, AShardThatFailsAsAWholeIsScoredAgainByOneWorker) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("fs-shardfail-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(fs::test::samplePath("fmnist_0000_ankle-boot.png"), dir / "a.png");
  std::ofstream(dir / "b.png") << "not a png";
  std::filesystem::copy_file(fs::test::samplePath("fmnist_0000_ankle-boot.png"), dir / "c.png");
  fs::service::Session s;
  s.slots().load(0, "resnet_fmnist", "");
  EvaluationRequest r = cheapRequest();
  r.imagesDir = dir.string();
  r.limit = 0;
  r.workers = 1;
  const auto one = s.evaluation().run(r);
  r.workers = 2;
  const auto two = s.evaluation().run(r);
  ASSERT_EQ(two.models.size(), 1u);
  EXPECT_EQ(two.models[0].done, 2);
  EXPECT_EQ(two.models[0].failed, 1);
  expectSameScorecards(one, two);
  std::filesystem::remove_all(dir);
}

TEST(EvaluationService, BadRequestsAreRefused) {
  fs::service::Session s;
  s.slots().load(0, "resnet_fmnist", "");
  EvaluationRequest r = cheapRequest();
  r.metrics = {"gini", "no_such_metric"};
  try {
    s.evaluation().run(r);
    FAIL() << "unknown metric accepted";
  } catch (const fs::model::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_metric"), std::string::npos) << e.what();
  }
  r = cheapRequest();
  r.slots = {2};
  EXPECT_THROW(s.evaluation().run(r), fs::model::InputError);  // empty slot
  r = cheapRequest();
  r.methods.clear();
  EXPECT_THROW(s.evaluation().run(r), fs::model::InputError);
  r = cheapRequest();
  r.imagesDir = std::string(FS_SOURCE_DIR) + "/tests/no-such-folder";
  EXPECT_THROW(s.evaluation().run(r), std::exception);
}

}  // namespace
