// One truth per map: for every registered saliency method and two families, `featurescope-cli saliency
// --npy --png` and `featurescope-cli export` write the same raw map (byte-identical NPY) and the
// same overlay (byte-identical PNG): both take the display from the method's MapConvention.
#include "cli_test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace {
using fs::test::runCli;
using fs::test::slurp;

TEST(OnePipeline, SaliencyAndExportWriteTheSameNpyAndPngForEveryMethod) {
  const std::string dir = fs::test::cliTmpDir("one_pipeline_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir + "/images");
  const std::string image = "fmnist_0000_ankle-boot.png";
  std::filesystem::copy_file(std::string(FS_SOURCE_DIR) + "/resources/samples/" + image, dir + "/images/" + image,
                             std::filesystem::copy_options::overwrite_existing);
  // Every registered method, as the registry lists them in its error for an unknown name.
  const auto listing = runCli("saliency convmlp_fmnist --image " + dir + "/images/" + image + " --method ?");
  const size_t from = listing.err.find("(valid: "), to = listing.err.find(')', from);
  ASSERT_NE(from, std::string::npos) << listing.err;
  std::string methods = listing.err.substr(from + 8, to - from - 8);
  methods.erase(std::remove(methods.begin(), methods.end(), ' '), methods.end());
  const size_t count = size_t(std::count(methods.begin(), methods.end(), ',')) + 1;
  ASSERT_GE(count, 12u) << methods;
  const std::string options = " --samples 3 --steps 6 --window 28 --stride 28";
  for (const std::string model : {"convmlp_fmnist", "mixer_fmnist"}) {
    const std::string out = dir + "/export_" + model;
    const auto ex = runCli("export --model " + model + " --images " + dir + "/images --out " + out + " --methods " +
                           methods + options);
    ASSERT_EQ(ex.code, 0) << ex.err;
    const auto manifest = nlohmann::json::parse(slurp(out + "/manifest.json"));
    ASSERT_EQ(manifest["methods"].size(), count);
    size_t start = 0;
    while (start < methods.size()) {
      const size_t comma = methods.find(',', start);
      const std::string method = methods.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      start = comma == std::string::npos ? methods.size() : comma + 1;
      const std::string npy = dir + "/" + model + "_" + method + ".npy", png = dir + "/" + model + "_" + method + ".png";
      const auto r = runCli("saliency " + model + " --image " + dir + "/images/" + image + " --method " + method +
                            options + " --npy " + npy + " --png " + png);
      ASSERT_EQ(r.code, 0) << method << ": " << r.err;
      const std::string exported = out + "/fmnist_0000_ankle-boot/" + model + "/saliency/" + method;
      const std::string a = slurp(npy), b = slurp(exported + ".npy");
      EXPECT_FALSE(a.empty()) << method;
      EXPECT_TRUE(a == b) << model << " " << method << ": the NPYs differ";
      EXPECT_TRUE(slurp(png) == slurp(exported + ".png")) << model << " " << method << ": the PNGs differ";
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
