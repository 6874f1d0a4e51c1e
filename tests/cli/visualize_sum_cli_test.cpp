// featurescope-cli visualize --objective sum --terms: a weighted sum of channel, neuron and logit
// terms end to end (image, objective, section timings), and bad terms refused with the reason.
#include "cli_test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace {
namespace visualize_sum_cli_test {
using fs::test::runCli;
using fs::test::slurp;

TEST(VisualizeSumCli, WritesTheImageAndRefusesBadTerms) {
  const std::string dir = fs::test::cliTmpDir("visualize-sum-" + std::to_string(getpid()));
  const std::string base = "visualize resnet_fmnist --steps 4 --size 48 --out " + dir + "/s.png";
  auto r = runCli(base + " --objective sum --terms 'layer4:12*1.0,neuron:layer3:40*-0.5,logit:3*0.1' --timings");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(dir + "/s.png").substr(1, 3), "PNG");
  EXPECT_NE(r.out.find("48x48, greyscale): objective"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("timings (s): image"), std::string::npos) << r.out;
  r = runCli(base + " --objective sum --terms layer4:1 --diversity 2");  // diversity at the first term's tap
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("sample 2"), std::string::npos) << r.out;
  const std::pair<std::string, std::string> bad[] = {
      {"--objective sum --terms 'layer4:x'", "term 'layer4:x': 'x' is not a channel"},
      {"--objective sum --terms 'layer4:1*w'", "weight 'w' is not a finite number"},
      {"--objective sum --terms 'layer9:1'", "layer9"},
      {"--objective sum --terms 'neuron:layer3:64'", "channel 64 out of range [0, 63] at layer3"},
      {"--objective sum --terms 'logit:10*2'", "class 10 out of range"},
      {"--objective sum --terms 'layer4:1,'", "empty term"},
  };
  for (const auto& [args, reason] : bad) {
    r = runCli(base + " " + args);
    EXPECT_EQ(r.code, 3) << args << ": " << r.err;
    EXPECT_NE(r.err.find(reason), std::string::npos) << args << ": " << r.err;
  }
  r = runCli(base + " --objective sum");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--terms"), std::string::npos) << r.err;
  r = runCli(base + " --tap layer4 --terms layer4:1");
  EXPECT_EQ(r.code, 2);
  r = runCli(base + " --objective product --terms layer4:1");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("valid: channel, neuron, logit, sum"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

}  // namespace visualize_sum_cli_test
}  // namespace
