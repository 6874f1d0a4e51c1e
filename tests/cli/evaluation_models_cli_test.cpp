// featurescope-cli evaluate over several models with the saliency methods' parameters: one
// scorecard per model (FILE.<id>.json and its CSVs), each equal to a single-model run; the
// parameters reach the methods (the integrated-gradients map at --steps 8 scored by evaluate has
// the Gini index that numpy computes from `saliency --steps 8 --npy`); merged shards write the same
// CSV tables as one run; bad model/weights lists refused.
#include "cli_test_support.h"
#include "tests/model/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <sstream>

namespace {
namespace evaluation_models_cli_test {
using fs::test::CliRun;
using fs::test::slurp;
namespace stdfs = std::filesystem;

std::string workDir() {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/evaluation_models_cli_" + std::to_string(getpid());
  stdfs::create_directories(d);
  return d;
}

std::string imageFolder() {
  const std::string d = workDir() + "/images";
  stdfs::create_directories(d);
  for (int i = 0; i < 3; ++i) fs::test::writeBmp(d + "/im" + std::to_string(i) + ".bmp", 40, 36, i + 2);
  return d;
}

// The value of `metric` for (image, method) in a NAME.rows.csv ("image,index,target,method,metric,value").
double rowValue(const std::string& csv, const std::string& image, const std::string& method, const std::string& metric) {
  std::istringstream in(slurp(csv));
  std::string line;
  const std::string head = image + ",";
  while (std::getline(in, line)) {
    if (line.rfind(head, 0) != 0) continue;
    const size_t m = line.find("," + method + "," + metric + ",");
    if (m != std::string::npos) return std::stod(line.substr(m + method.size() + metric.size() + 3));
  }
  ADD_FAILURE() << csv << ": no row for " << image << " " << method << " " << metric;
  return NAN;
}

// The Gini index of |map| (Hurley & Rickard 2009, as Chalasani et al. 2020 use it), in numpy;
// relu: of max(map, 0) instead, the CAMs' displayed map; the map (after the ReLU) bilinearly
// resized (torch, as metrics resize maps) to size x size first when size > 0. Also writes the map's minimum to NPY.min.txt.
double numpyGini(const std::string& npy, bool relu = false, int size = 0) {
  const std::string out = npy + ".gini.txt";
  const std::string resize = size > 0 ? "import torch;m=torch.nn.functional.interpolate(torch.from_numpy(" +
                                        std::string(relu ? "np.maximum(m,0)" : "m") + ")"
                                        "[None,None].float(),size=(" + std::to_string(size) + "," + std::to_string(size) +
                                        "),mode='bilinear',align_corners=False)[0,0].double().numpy();"
                                      : "";
  const std::string cmd = std::string(FS_PYTHON) +
                          " -c \"import numpy as np,sys;m=np.load(sys.argv[1]).astype(np.float64);"
                          "open(sys.argv[1]+'.min.txt','w').write(repr(m.min()));" + resize + "m=m.ravel();"
                          "a=np.sort(" + std::string(relu ? "np.maximum(m,0)" : "np.abs(m)") + ");"
                          "n=a.size;k=np.arange(1,n+1);print(repr(1-2*np.sum(a/a.sum()*(n-k+0.5)/n)))\" " +
                          npy + " > " + out;
  if (std::system(cmd.c_str()) != 0) ADD_FAILURE() << cmd;
  return std::stod(slurp(out));
}

const char* kOptions = " --methods gradcam,integrated_gradients --steps 8 --metrics gini,deletion --curve-steps 4 --threads 1";

TEST(EvaluateModelsCli, OneScorecardPerModelWithTheMethodParameters) {
  const std::string images = imageFolder(), dir = workDir() + "/models";
  const CliRun r = fs::test::runCli("evaluate resnet_fmnist mixer_fmnist --images " + images + kOptions +
                                    " --out " + dir + "/s.json --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["model"], "resnet_fmnist");
  EXPECT_EQ(j[1]["model"], "mixer_fmnist");
  int signedCams = 0;
  for (const std::string id : {"resnet_fmnist", "mixer_fmnist"}) {
    const std::string stem = dir + "/s." + id;
    for (const char* suffix : {".json", ".rows.csv", ".summary.csv", ".agreement.csv"})
      ASSERT_TRUE(stdfs::exists(stem + suffix)) << stem << suffix;
    const auto header = nlohmann::json::parse(slurp(stem + ".json"));
    EXPECT_EQ(header["method_parameters"]["steps"], 8);
    EXPECT_EQ(header["steps"], 4);  // the curve's
    // The map evaluate scored is the one `saliency` gives with the same parameters.
    const std::string npy8 = stem + ".ig8.npy", npy50 = stem + ".ig50.npy";
    ASSERT_EQ(fs::test::runCli("saliency " + id + " --image " + images + "/im1.bmp --method integrated_gradients "
                               "--steps 8 --threads 1 --npy " + npy8).code, 0);
    ASSERT_EQ(fs::test::runCli("saliency " + id + " --image " + images + "/im1.bmp --method integrated_gradients "
                               "--threads 1 --npy " + npy50).code, 0);
    const double scored = rowValue(stem + ".rows.csv", "im1.bmp", "integrated_gradients", "gini");
    EXPECT_NEAR(scored, numpyGini(npy8), 1e-6) << id;
    EXPECT_GT(std::abs(scored - numpyGini(npy50)), 1e-6) << id << ": --steps did not reach the method";
    // Grad-CAM is scored as displayed, after its ReLU (displayed_map.h), not on the signed map.
    const std::string cam = stem + ".gradcam.npy";
    ASSERT_EQ(fs::test::runCli("saliency " + id + " --image " + images + "/im1.bmp --method gradcam --threads 1 --npy " +
                               cam).code, 0);
    const double camScored = rowValue(stem + ".rows.csv", "im1.bmp", "gradcam", "gini");
    EXPECT_NEAR(camScored, numpyGini(cam, /*relu=*/true, 112), 1e-5) << id;  // 112: the models' input
    if (std::stod(slurp(cam + ".min.txt")) < 0) {
      ++signedCams;
      EXPECT_GT(std::abs(camScored - numpyGini(cam, false, 112)), 1e-3) << id << ": the signed map was scored";
    }
  }
  EXPECT_GT(signedCams, 0) << "no Grad-CAM map with negative values: the ReLU was not tested";
  // Each model's scorecard equals a run of that model alone.
  const std::string alone = workDir() + "/alone";
  ASSERT_EQ(fs::test::runCli("evaluate mixer_fmnist --images " + images + kOptions + " --out " + alone + "/s.json").code, 0);
  for (const char* suffix : {".rows.csv", ".summary.csv", ".agreement.csv"})
    EXPECT_EQ(slurp(alone + "/s" + suffix), slurp(dir + "/s.mixer_fmnist" + suffix)) << suffix;
}

TEST(EvaluateModelsCli, MergedShardsWriteTheTablesOfOneRun) {
  const std::string images = imageFolder(), dir = workDir() + "/shards", single = workDir() + "/single";
  const std::string args = "evaluate resnet_fmnist --images " + images + kOptions + " --seed 3";
  for (int k = 1; k <= 2; ++k)
    ASSERT_EQ(fs::test::runCli(args + " --out " + dir + "/s.json --shard " + std::to_string(k) + "/2").code, 0);
  EXPECT_FALSE(stdfs::exists(dir + "/s.rows.csv"));  // shards write no tables
  const CliRun merged = fs::test::runCli("merge " + dir);
  ASSERT_EQ(merged.code, 0) << merged.err;
  EXPECT_NE(merged.out.find("s.summary.csv"), std::string::npos) << merged.out;
  ASSERT_EQ(fs::test::runCli(args + " --out " + single + "/s.json").code, 0);
  for (const char* suffix : {".rows.csv", ".summary.csv", ".agreement.csv"}) {
    ASSERT_TRUE(stdfs::exists(dir + "/s" + suffix)) << suffix;
    EXPECT_EQ(slurp(dir + "/s" + suffix), slurp(single + "/s" + suffix)) << suffix;
  }
}

TEST(EvaluateModelsCli, RefusesBadModelLists) {
  const std::string images = imageFolder();
  const std::string ref = fs::test::refDir("mixer_tiny");
  const CliRun weights = fs::test::runCli("evaluate resnet_fmnist mixer_fmnist --weights " + ref +
                                          "/weights.safetensors --images " + images + kOptions);
  EXPECT_EQ(weights.code, 2);
  EXPECT_NE(weights.err.find("--weights once per MODEL"), std::string::npos) << weights.err;
  const CliRun twice = fs::test::runCli("evaluate resnet_fmnist resnet_fmnist --images " + images + kOptions);
  EXPECT_EQ(twice.code, 2);
  EXPECT_NE(twice.err.find("'resnet_fmnist' is given twice"), std::string::npos) << twice.err;
  const CliRun badStep = fs::test::runCli("evaluate resnet_fmnist --images " + images + kOptions + " --steps 0");
  EXPECT_EQ(badStep.code, 2) << badStep.err;
}

}  // namespace evaluation_models_cli_test
}  // namespace
