#include "analysis/model_loader.h"

#include "analysis/resources.h"
#include "model/checkpoint.h"
#include "model/registry.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <filesystem>
#include <stdexcept>

namespace fs::analysis {

std::string bundledWeights(const fs::model::ModelConfig& config) {
  if (config.id.empty() || config.id.find('/') != std::string::npos) return {};
  const std::string path = resourceDir() + "/models/" + config.id + ".safetensors";
  return std::filesystem::exists(path) ? path : std::string();
}

LoadedModel loadModel(const std::string& idOrConfig, const std::string& weightsPath, uint64_t seed) {
  LoadedModel m;
  m.config = fs::model::resolveModelConfig(idOrConfig);
  m.labels = loadLabels(m.config);
  m.net = fs::model::buildModel(m.config, seed);
  m.seed = seed;
  const std::string path = weightsPath.empty() ? bundledWeights(m.config) : weightsPath;
  if (!path.empty()) {
    const fs::model::TensorDict dict = fs::model::readCheckpoint(path);
    const fs::model::LoadReport report = fs::model::loadState(*m.net, dict, path);
    m.weightsPath = path;
    m.weightsReport = std::to_string(report.loaded) + " tensors loaded from " + path + " (" + dict.format + ")";
  } else {
    m.weightsReport = "random initialisation (seed " + std::to_string(seed) + ")";
  }
  m.net->eval();
  // An analysis tool differentiates w.r.t. inputs and taps, never weights.
  for (auto& p : m.net->parameters()) p.requires_grad_(false);
  m.net->prepareForInference();
  return m;
}

LoadedModel copyModel(const LoadedModel& m) {
  LoadedModel c;
  c.config = m.config;
  c.labels = m.labels;
  c.weightsPath = m.weightsPath;
  c.weightsReport = m.weightsReport;
  c.seed = m.seed;
  c.net = fs::model::buildModel(m.config, m.seed);
  const auto params = m.net->named_parameters(), buffers = m.net->named_buffers();
  auto toParams = c.net->named_parameters(), toBuffers = c.net->named_buffers();
  if (params.size() != toParams.size() || buffers.size() != toBuffers.size())
    throw std::logic_error("copyModel: " + m.config.id + " built again has another set of tensors");
  torch::NoGradGuard noGrad;
  for (const auto& p : params) toParams[p.key()].copy_(p.value());  // throws for a name it lacks
  for (const auto& b : buffers) toBuffers[b.key()].copy_(b.value());
  c.net->eval();
  for (auto& p : c.net->parameters()) p.requires_grad_(false);
  c.net->prepareForInference();
  return c;
}

}  // namespace fs::analysis
