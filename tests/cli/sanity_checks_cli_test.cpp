// featurescope-cli sanity beyond the cascade, and train --permute-labels:
// - --mode independent (Adebayo et al. 2018, sec. 3.1): the paper's finding that re-initialising
//   any single unit, all others trained, changes Grad-CAM's and the gradient's maps (mean Spearman
//   over images well below 1 for every unit); the tables say the mode;
// - the random-logit test (Sixt et al. 2020): the first image's similarities equal scipy's on the
//   maps the command wrote, the means are those of the rows, each CI holds its mean, the other
//   class is never the target, and Grad-CAM's map depends on the class;
// - train --permute-labels (sec. 3.2): seeded, the file's metadata records it (the unchanged
//   fraction recomputed by tests/python/label_permutation_reference.py on the real labels), test
//   accuracy near chance after a short run; sanity --data-randomised compares map by map (scipy
//   again) and refuses a model not trained on permuted labels, naming the file.
#include "cli_test_support.h"
#include "model/safetensors.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {
namespace sanity_checks_cli_test {
using fs::test::CliRun;
using fs::test::slurp;

std::string workDir(const std::string& name) {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/" + name + "_" + std::to_string(getpid());
  std::filesystem::create_directories(d);
  return d;
}

// Runs the Python `code` with `args`; returns its output.
std::string python(const std::string& dir, const char* code, const std::string& args) {
  const std::string py = dir + "/check.py", out = dir + "/check.txt";
  std::ofstream(py) << code;
  EXPECT_EQ(std::system((std::string(FS_PYTHON) + " " + py + " " + args + " > " + out).c_str()), 0);
  return slurp(out);
}

// For the rows of the first image in STEM.TABLE.csv: the worst |csv - scipy| of Spearman (raw and
// abs) between METHOD-0.npy and METHOD-SUFFIX.npy; then the worst |mean in comparisons.csv - mean
// of the rows| over methods and similarities; then whether every CI holds its mean.
const char* kComparison = R"(import csv, sys, numpy as np
from scipy.stats import spearmanr
stem, table, suffix, test = sys.argv[1:5]
rows = list(csv.DictReader(open(stem + '.' + table + '.csv')))
worst = 0.0
first = [r for r in rows if r['image'] == rows[0]['image']]
for r in first:
    a = np.load(stem + '.maps/%s-0.npy' % r['method']).astype(np.float64).ravel()
    b = np.load(stem + '.maps/%s-%s.npy' % (r['method'], suffix)).astype(np.float64).ravel()
    worst = max(worst, abs(spearmanr(a, b).correlation - float(r['spearman'])),
                abs(spearmanr(np.abs(a), np.abs(b)).correlation - float(r['spearman_abs'])))
mean_diff, holds = 0.0, 1
for m in csv.DictReader(open(stem + '.comparisons.csv')):
    if m['test'] != test:
        continue
    v = [float(r[m['metric']]) for r in rows if r['method'] == m['method'] and r[m['metric']] != '']
    mean_diff = max(mean_diff, abs(np.mean(v) - float(m['mean'])))
    holds &= int(float(m['ci_low']) <= float(m['mean']) <= float(m['ci_high']) and int(m['n']) == len(v))
print(worst, mean_diff, holds, len(first))
)";

// kComparison on "STEM TABLE SUFFIX TEST" for two methods: scipy's Spearman, the means and the CIs.
void expectComparisonAsScipy(const std::string& dir, const std::string& args) {
  std::istringstream check(python(dir, kComparison, args));
  double worst = 1, meanDiff = 1;
  int holds = 0, rows = 0;
  check >> worst >> meanDiff >> holds >> rows;
  EXPECT_EQ(rows, 2) << args;
  EXPECT_LT(worst, 1e-6) << args;
  EXPECT_LT(meanDiff, 1e-8) << args;
  EXPECT_EQ(holds, 1) << args;
}

TEST(SanityChecksCli, IndependentModeAndTheRandomLogitTest) {
  const std::string dir = workDir("sanity_independent");
  const CliRun r = fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --limit 8 --methods gradcam,gradient"
                                    " --mode independent --seed 3 --threads 1 --dpi 72 --out " + dir + "/i.png");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(dir + "/i.json"));
  EXPECT_EQ(j["mode"], "independent");
  ASSERT_EQ(j["units"].size(), 7u);
  EXPECT_NE(slurp(dir + "/i.rows.csv").find(",independent\n"), std::string::npos);
  // Every unit alone changes both maps (measured means over these 8 images: -0.10..0.72 for
  // Grad-CAM, the highest with layer1 randomised; 0.20..0.53 for the gradient; 1 if the unit's
  // randomisation did nothing).
  for (const char* method : {"gradcam", "gradient"})
    for (const auto& step : j["means"][method]) EXPECT_LT(step["spearman"].get<double>(), 0.85) << method << " " << step["unit"];
  // The random-logit test.
  const auto& logit = j["random_logit"];
  ASSERT_EQ(logit["other_classes"].size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_NE(logit["other_classes"][i], j["targets"][i]);
    EXPECT_GE(logit["other_classes"][i].get<int>(), 0);
    EXPECT_LT(logit["other_classes"][i].get<int>(), 10);
  }
  expectComparisonAsScipy(dir, dir + "/i random_logit random_logit random_logit");
  // Grad-CAM explains the class: the map for another class is unlike the target's (measured mean
  // Spearman -0.45 [-0.63, -0.23] over these 8 images; 1 for a class-blind map).
  EXPECT_LT(logit["similarity"]["gradcam"]["spearman"]["mean"].get<double>(), 0.5);
  EXPECT_TRUE(j["data_randomisation"].is_null());
}

class PermutedLabels : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = workDir("permuted_labels");
    result_ = fs::test::runCli("train resnet_fmnist --dataset fashion-mnist --epochs 1 --max-steps 150 --train-limit 2400"
                               " --batch 32 --seed 6 --permute-labels --out " + dir_ + "/p.safetensors");
  }
  static std::string dir_;
  static CliRun result_;
};
std::string PermutedLabels::dir_;
CliRun PermutedLabels::result_;

TEST_F(PermutedLabels, SeededRecordedAndNearChance) {
  ASSERT_EQ(result_.code, 0) << result_.err;
  const auto meta = fs::model::readSafetensors(dir_ + "/p.safetensors").metadata;
  EXPECT_EQ(meta.at("permute_labels"), "true");
  EXPECT_EQ(meta.at("label_permutation_seed"), "6");
  EXPECT_EQ(meta.at("label_permutation_images"), "2400");
  const std::string cmd = std::string(FS_PYTHON) + " " + FS_SOURCE_DIR + "/tests/python/label_permutation_reference.py"
                          " 2400 6 /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz > " + dir_ + "/fraction.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::string fraction = slurp(dir_ + "/fraction.txt");
  fraction.erase(fraction.find_last_not_of("\n") + 1);
  EXPECT_EQ(meta.at("label_permutation_unchanged_fraction"), fraction);
  // Chance is 0.1 for the ten balanced test classes (measured 0.125 for this run).
  const double accuracy = std::stod(meta.at("test_accuracy"));
  EXPECT_GT(accuracy, 0.05);
  EXPECT_LT(accuracy, 0.2);
}

TEST_F(PermutedLabels, SanityComparesMapByMapAndRefusesATrueLabelModel) {
  ASSERT_EQ(result_.code, 0) << result_.err;
  const CliRun r = fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --limit 3 --methods gradcam,gradient"
                                    " --seed 1 --threads 1 --dpi 72 --data-randomised " + dir_ + "/p.safetensors --out " +
                                    dir_ + "/d.png");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(dir_ + "/d.json"));
  EXPECT_EQ(j["data_randomisation"]["metadata"]["permute_labels"], "true");
  EXPECT_EQ(j["data_randomisation"]["weights"], dir_ + "/p.safetensors");
  EXPECT_EQ(j["data_randomisation"]["similarity"]["gradient"]["spearman"]["n"], 3);
  expectComparisonAsScipy(dir_, dir_ + "/d data_randomisation data_randomised data_randomisation");

  const std::string bundled = std::string(FS_SOURCE_DIR) + "/resources/models/resnet_fmnist.safetensors";
  const CliRun refused = fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --limit 1 --data-randomised " +
                                          bundled + " --out " + dir_ + "/x.png");
  EXPECT_EQ(refused.code, 3);
  EXPECT_NE(refused.err.find(bundled), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("permute"), std::string::npos) << refused.err;
  EXPECT_EQ(fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --mode sideways --out " + dir_ + "/x.png").code, 2);
}

}  // namespace sanity_checks_cli_test
}  // namespace
