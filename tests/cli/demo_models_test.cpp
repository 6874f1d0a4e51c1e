// The bundled demo checkpoints (resources/models/<id>.safetensors): each loads strictly into its
// registered architecture and reaches the test accuracy recorded in its metadata, within one
// point, on the first 1,000 Fashion-MNIST test images (Debian's dataset-fashion-mnist).
#include "cli_test_support.h"
#include "model/safetensors.h"

#include <gtest/gtest.h>

#include <set>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace {
namespace demo_models_test {

std::vector<std::filesystem::path> bundledModels() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(FS_SOURCE_DIR) + "/resources/models"))
    if (e.path().extension() == ".safetensors") out.push_back(e.path());
  return out;
}

// The floors the demo promises: 89% for ConvMLP and ResNet, 88% for ConvNeXt, 86% for ViT, 87% for
// the other MLP models.
double demoFloor(const std::string& id) {
  if (id == "convmlp_fmnist" || id == "resnet_fmnist") return 0.89;
  if (id == "convnext_fmnist") return 0.88;
  if (id == "vit_fmnist") return 0.86;
  return 0.87;
}

TEST(DemoModels, EveryFamilyShipsTrainedWeights) {
  std::set<std::string> ids;
  for (const auto& path : bundledModels()) ids.insert(path.stem().string());
  for (const char* id : {"convmlp_fmnist", "puremlp_fmnist", "resnet_fmnist", "mixer_fmnist", "resmlp_fmnist",
                         "vit_fmnist", "convnext_fmnist"})
    EXPECT_EQ(ids.count(id), 1u) << id << " has no bundled weights";
}

TEST(DemoModels, ShippedWeightsReachTheirStatedAccuracy) {
  const auto models = bundledModels();
  ASSERT_FALSE(models.empty());
  for (const auto& path : models) {
    const fs::model::TensorDict dict = fs::model::readSafetensors(path.string());
    ASSERT_TRUE(dict.metadata.count("test_accuracy")) << path;
    const double stated = std::stod(dict.metadata.at("test_accuracy"));
    const std::string id = path.stem().string();
    EXPECT_GE(stated, demoFloor(id)) << id << ": the shipped weights are below the demo's floor";
    const fs::test::CliRun r = fs::test::runCli("evaluate " + id + " --dataset fashion-mnist --limit 1000 --json");
    ASSERT_EQ(r.code, 0) << id << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["weights"].get<std::string>().find(path.filename().string()) != std::string::npos, true) << r.out;
    EXPECT_EQ(j["images"], 1000);
    EXPECT_GE(j["accuracy"].get<double>(), stated - 0.01) << id << " stated " << stated;
  }
}

}  // namespace demo_models_test
}  // namespace
