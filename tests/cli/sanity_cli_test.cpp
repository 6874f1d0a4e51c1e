// featurescope-cli sanity on a demo model: the cascade figure and the curves written; the per-image
// Spearman similarities (raw and of absolute values) of the first image equal scipy's spearmanr on
// the maps the command wrote (FIG_STEM.maps); with the whole model randomised the maps decorrelate
// on average (Adebayo et al. 2018); --mode both gives the two single-mode runs' tables, means and
// maps in one run, with a row per method and mode in the figure; bad input refused.
#include "cli_test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace {
namespace sanity_cli_test {
using fs::test::CliRun;
using fs::test::slurp;
namespace stdfs = std::filesystem;

std::string workDir() {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/sanity_cli_" + std::to_string(getpid());
  stdfs::create_directories(d);
  return d;
}

// For every row of the first image: |csv value - scipy| for spearman and spearman_abs; prints the worst.
const char* kCheck = R"(import csv, sys, numpy as np
from scipy.stats import spearmanr
stem = sys.argv[1]
worst = 0.0
rows = [r for r in csv.DictReader(open(stem + '.rows.csv')) if r['image'] == 'test-00000']
assert rows, 'no rows'
for r in rows:
    a = np.load(stem + '.maps/%s-0.npy' % r['method']).astype(np.float64).ravel()
    b = np.load(stem + '.maps/%s-%s.npy' % (r['method'], r['depth'])).astype(np.float64).ravel()
    worst = max(worst, abs(spearmanr(a, b).correlation - float(r['spearman'])),
                abs(spearmanr(np.abs(a), np.abs(b)).correlation - float(r['spearman_abs'])))
print(worst, len(rows))
)";

TEST(SanityCli, CascadeFigureCurvesAndSimilaritiesAsScipy) {
  const std::string dir = workDir();
  const CliRun r = fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --limit 20 --methods gradcam,gradient"
                                    " --seed 2 --threads 1 --dpi 72 --out " + dir + "/c.png");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* f : {"/c.png", "/c.curves.png"}) EXPECT_EQ(slurp(dir + f).substr(1, 3), "PNG") << f;
  const auto j = nlohmann::json::parse(slurp(dir + "/c.json"));
  const size_t units = j["units"].size();
  ASSERT_EQ(units, 7u);  // fc, layer4..layer1, bn1, conv1
  EXPECT_EQ(j["images"].size(), 20u);
  const std::string py = dir + "/check.py", out = dir + "/check.txt";
  std::ofstream(py) << kCheck;
  ASSERT_EQ(std::system((std::string(FS_PYTHON) + " " + py + " " + dir + "/c > " + out).c_str()), 0);
  std::istringstream check(slurp(out));
  double worst = 1;
  int rows = 0;
  check >> worst >> rows;
  EXPECT_EQ(rows, int(2 * units));
  EXPECT_LT(worst, 1e-6);
  // Fully randomised: the maps decorrelate on average over 20 images (per image Grad-CAM's coarse
  // map still correlates by chance, -0.4..0.65 on 4 images; the 20-image means for seeds 0-3 were
  // -0.11..0.19 for Grad-CAM and 0.21..0.24 for the gradient).
  for (const char* method : {"gradcam", "gradient"}) {
    const auto& last = j["means"][method][units - 1];
    EXPECT_EQ(last["unit"], "conv1");
    EXPECT_LT(std::abs(last["spearman"].get<double>()), 0.4) << method;
    EXPECT_EQ(last["spearman_n"], 20);
  }
}

// The height of a PNG (its IHDR chunk).
int pngHeight(const std::string& png) {
  int h = 0;
  for (int i = 20; i < 24; ++i) h = h * 256 + static_cast<unsigned char>(png.at(size_t(i)));
  return h;
}

TEST(SanityCli, BothModesAreTheTwoSingleModeRuns) {
  const std::string dir = workDir();
  std::map<std::string, CliRun> runs;
  for (const char* mode : {"cascade", "independent", "both"}) {
    runs[mode] = fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --limit 3 --methods gradcam,gradient"
                                  " --seed 6 --threads 1 --dpi 72 --mode " + std::string(mode) + " --out " + dir + "/" +
                                  mode + ".png");
    ASSERT_EQ(runs[mode].code, 0) << mode << ": " << runs[mode].err;
  }
  // The tables: the cascading run's, then the independent run's rows (one header).
  for (const char* table : {".csv", ".rows.csv"}) {
    const std::string both = slurp(dir + "/both" + table), cascade = slurp(dir + "/cascade" + table),
                      independent = slurp(dir + "/independent" + table);
    ASSERT_FALSE(cascade.empty() || independent.empty()) << table;
    EXPECT_EQ(both, cascade + independent.substr(independent.find('\n') + 1)) << table;
    EXPECT_NE(both.find(",independent\n"), std::string::npos) << table;
  }
  // The comparisons do not depend on the mode: as the cascading run's.
  for (const char* table : {".comparisons.csv", ".random_logit.csv"})
    EXPECT_EQ(slurp(dir + "/both" + table), slurp(dir + "/cascade" + table)) << table;
  const auto both = nlohmann::json::parse(slurp(dir + "/both.json"));
  EXPECT_EQ(both["mode"], "both");
  EXPECT_EQ(both["means"]["cascading"], nlohmann::json::parse(slurp(dir + "/cascade.json"))["means"]);
  EXPECT_EQ(both["means"]["independent"], nlohmann::json::parse(slurp(dir + "/independent.json"))["means"]);
  // The first image's maps, byte for byte: the independent ones as METHOD-independent-STEP.npy.
  for (const char* method : {"gradcam", "gradient"})
    for (int step : {0, 3, 7}) {
      const std::string name = std::string(method) + "-" + std::to_string(step) + ".npy";
      EXPECT_EQ(slurp(dir + "/both.maps/" + name), slurp(dir + "/cascade.maps/" + name)) << name;
      EXPECT_EQ(slurp(dir + "/both.maps/" + std::string(method) + "-independent-" + std::to_string(step) + ".npy"),
                slurp(dir + "/independent.maps/" + name))
          << name;
    }
  // The figure: a row per method and mode, so about twice as tall; the curves of both modes.
  EXPECT_GT(pngHeight(slurp(dir + "/both.png")), 3 * pngHeight(slurp(dir + "/cascade.png")) / 2);
  EXPECT_EQ(slurp(dir + "/both.curves.png").substr(1, 3), "PNG");
  EXPECT_NE(runs["both"].out.find("independent randomisation"), std::string::npos) << runs["both"].out;
  EXPECT_EQ(runs["cascade"].out.find("independent"), std::string::npos) << runs["cascade"].out;
  const CliRun help = fs::test::runCli("sanity --help");
  EXPECT_NE(help.out.find("--mode cascade|independent|both"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("independent dashed"), std::string::npos) << help.out;
}

TEST(SanityCli, RefusesBadInput) {
  EXPECT_EQ(fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --images x --out a.png").code, 2);
  EXPECT_EQ(fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --out " + workDir() + "/a.txt").code, 3);
  const CliRun method = fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --methods nope --out " +
                                         workDir() + "/a.png");
  EXPECT_EQ(method.code, 3);
  EXPECT_NE(method.err.find("nope"), std::string::npos) << method.err;
  const CliRun mode = fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --mode all --out " + workDir() +
                                       "/a.png");
  EXPECT_EQ(mode.code, 2);
  EXPECT_NE(mode.err.find("both"), std::string::npos) << mode.err;
}

// The figure's folder is made before the cascade runs: where it cannot be (a file in the way) the
// run stops at once, naming the folder, with no image scored.
TEST(SanityCli, UncreatableFigureFolderRefusedBeforeTheRun) {
  const std::string file = workDir() + "/blocked";
  { std::ofstream(file) << "x"; }
  const CliRun r = fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --limit 1 --methods gradcam --out " +
                                    file + "/fig.png");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find(file + ": cannot create folder (Not a directory)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("sanity [1/1]"), std::string::npos) << r.err;
}

}  // namespace sanity_cli_test
}  // namespace
