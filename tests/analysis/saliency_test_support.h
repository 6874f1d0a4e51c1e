#pragma once
// Shared by the saliency tests: the reference fixtures and the tiny per-family configs.
#include "analysis/model_loader.h"
#include "model/atomic_file.h"
#include "model/npy.h"
#include "tests/model/test_support.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs::test {

inline nlohmann::json fixtureConfig(const std::string& fixture) {
  std::ifstream in(refDir(fixture) + "/config.json");
  return nlohmann::json::parse(in);
}

// The model's logits for x, computed without autograd and detached from it.
inline at::Tensor logitsOf(fs::analysis::LoadedModel& m, const at::Tensor& x) {
  c10::InferenceMode guard;
  return m.net->forward(x, {}).logits.clone();
}

inline fs::analysis::LoadedModel fixtureModel(const std::string& fixture) {
  return fs::analysis::loadModel(refDir(fixture) + "/config.json", refDir(fixture) + "/weights.safetensors", 0);
}

inline at::Tensor fixtureInput(const std::string& fixture) {
  return fs::model::readNpy(refDir(fixture) + "/input.npy");
}

inline std::string saliencyDataDir() {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/saliency";
  std::filesystem::create_directories(d);
  return d;
}

inline std::string writeConfig(const std::string& name, const nlohmann::json& j) {
  const std::string path = saliencyDataDir() + "/" + name + ".json";
  fs::model::writeFileAtomically(path, j.dump(1));  // tests run in parallel processes
  return path;
}

// One tiny model per family: the three fixtures, a tiny ResNet and a Pure-MLP twin of convmlp_tiny.
struct TinyModel {
  std::string name;
  std::string config;   // JSON path
  std::string weights;  // empty: seeded random init
};

inline std::vector<TinyModel> tinyModels() {
  nlohmann::json resnet{{"family", "resnet"}, {"block", "basic"}, {"layers", {1, 1, 1, 1}}, {"num_classes", 10},
                        {"input", {{"size", {64, 64}}}}};
  nlohmann::json pure = fixtureConfig("convmlp_tiny");
  pure["family"] = "puremlp";
  std::vector<TinyModel> models;
  for (const char* f : {"convmlp_tiny", "mixer_tiny", "resmlp_tiny"})
    models.push_back({f, refDir(f) + "/config.json", refDir(f) + "/weights.safetensors"});
  models.push_back({"resnet_tiny", writeConfig("resnet_tiny", resnet), ""});
  models.push_back({"puremlp_tiny", writeConfig("puremlp_tiny", pure), ""});
  return models;
}

}  // namespace fs::test
