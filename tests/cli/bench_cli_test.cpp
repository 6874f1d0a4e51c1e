// featurescope-cli bench: the ISA oneDNN dispatched to and the kernels the forward ran, on this
// CPU and on an emulated AVX2 one (no reference kernel on either), methods, and the Python peer.
#include "cli_test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <string>
#include <vector>

namespace {
namespace bench_cli_test {

struct IsaCap {
  explicit IsaCap(const char* isa) {
    if (isa) setenv("ONEDNN_MAX_CPU_ISA", isa, 1);
  }
  ~IsaCap() { unsetenv("ONEDNN_MAX_CPU_ISA"); }
};

TEST(BenchCli, ReportsTheIsaAndNoReferenceKernelsOnBothIsas) {
  for (const char* isa : {static_cast<const char*>(nullptr), "AVX2"}) {
    IsaCap cap(isa);
    const auto r = fs::test::runCli("bench convmlp_fmnist mixer_fmnist resnet_fmnist --repeat 1 --threads 1 --json");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const std::string got = j["_kernels"]["isa"], forward = j["_kernels"]["forward"];
    if (isa) EXPECT_EQ(got, "avx2");
    EXPECT_EQ(forward.find("ref"), std::string::npos) << got << ": " << forward;
    EXPECT_NE(forward.find("convolution"), std::string::npos) << forward;
    for (const char* id : {"convmlp_fmnist", "mixer_fmnist", "resnet_fmnist"}) {
      EXPECT_GT(j[id]["forward_ms"].get<double>(), 0.0) << id;
      EXPECT_GT(j[id]["forward_backward_ms"].get<double>(), 0.0) << id;
    }
  }
}

// Two rounds, each of ours followed by the peer's: every run is kept, and the reported time is
// their median (of two: the mean).
TEST(BenchCli, MethodsBesideThePythonPeerInAlternatingRounds) {
  const auto r =
      fs::test::runCli("bench resnet18 --repeat 1 --rounds 2 --methods gradcam,integrated_gradients --peer --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["_rounds"].get<int>(), 2);
  for (const auto& side : {j["resnet18"], j["_peer"]["resnet18"]}) {
    for (const char* m : {"gradcam", "integrated_gradients"}) {
      const auto runs = side["runs"][m].get<std::vector<double>>();
      ASSERT_EQ(runs.size(), 2u) << m;
      EXPECT_GT(runs[0], 0.0) << m;
      EXPECT_GT(runs[1], 0.0) << m;
      EXPECT_DOUBLE_EQ(side["methods"][m].get<double>(), 0.5 * (runs[0] + runs[1])) << m;
    }
    for (const char* item : {"forward", "forward_backward"}) {
      const auto runs = side["runs"][item].get<std::vector<double>>();
      ASSERT_EQ(runs.size(), 2u) << item;
      EXPECT_DOUBLE_EQ(side[std::string(item) + "_ms"].get<double>(), 0.5 * (runs[0] + runs[1])) << item;
    }
  }
}

TEST(BenchCli, BadRequestsAreClearErrors) {
  auto r = fs::test::runCli("bench resnet18 --methods nosuchmethod");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("nosuchmethod"), std::string::npos) << r.err;
  r = fs::test::runCli("bench resnet_fmnist --repeat 1 --peer");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("resnet_fmnist"), std::string::npos) << r.err;
  // A method the peer does not define: refused before any model runs, not a Python traceback.
  r = fs::test::runCli("bench resnet18 --repeat 1 --methods gradcam,gradient --peer");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("not gradient"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Traceback"), std::string::npos) << r.err;
}

}  // namespace bench_cli_test
}  // namespace
