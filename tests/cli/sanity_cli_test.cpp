// featurescope-cli sanity on a demo model: the cascade figure and the curves written; the per-image
// Spearman similarities (raw and of absolute values) of the first image equal scipy's spearmanr on
// the maps the command wrote (FIG_STEM.maps); with the whole model randomised the maps decorrelate
// on average (Adebayo et al. 2018); bad input refused.
#include "cli_test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {
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

TEST(SanityCli, RefusesBadInput) {
  EXPECT_EQ(fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --images x --out a.png").code, 2);
  EXPECT_EQ(fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --out " + workDir() + "/a.txt").code, 3);
  const CliRun method = fs::test::runCli("sanity resnet_fmnist --dataset fashion-mnist --methods nope --out " +
                                         workDir() + "/a.png");
  EXPECT_EQ(method.code, 3);
  EXPECT_NE(method.err.find("nope"), std::string::npos) << method.err;
}

}  // namespace
