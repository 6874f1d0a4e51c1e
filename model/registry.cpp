#include "model/registry.h"

#include "model/errors.h"
#include "model/layers.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace fs::model {
namespace {

std::vector<Variant> makeRegistry() {
  std::vector<Variant> published, demo;
  for (const auto& f : families())
    for (const auto& v : f.variants) (v.config.labels == "fashion-mnist" ? demo : published).push_back(v);
  published.insert(published.end(), demo.begin(), demo.end());
  return published;
}
}  // namespace

const std::vector<Variant>& registeredVariants() {
  static const std::vector<Variant> registry = makeRegistry();
  return registry;
}

const Variant* findVariant(const std::string& id) {
  for (const auto& v : registeredVariants())
    if (v.config.id == id) return &v;
  return nullptr;
}

ModelConfig resolveModelConfig(const std::string& idOrPath) {
  if (const Variant* v = findVariant(idOrPath)) return v->config;
  if (idOrPath.size() > 5 && idOrPath.compare(idOrPath.size() - 5, 5, ".json") == 0)
    return loadModelConfigFile(idOrPath);
  std::string ids;
  for (const auto& v : registeredVariants()) ids += (ids.empty() ? "" : ", ") + v.config.id;
  throw InputError("unknown model '" + idOrPath + "' (registered: " + ids + "; or a path to a .json config)");
}

Classifier buildModel(const ModelConfig& config, uint64_t seed) {
  at::manual_seed(seed);
  Classifier model = familyTraits(config.family).build(config);
  model->eval();
  return model;
}

int64_t countMacs(ClassifierImpl& model, const ModelConfig& config) {
  torch::NoGradGuard noGrad;
  MacCounter counter;
  model.forward(at::zeros({1, 3, config.input.height, config.input.width}), {});
  return counter.total();
}

}  // namespace fs::model
