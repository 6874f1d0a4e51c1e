#include "analysis/evaluation/sanity.h"

#include "model/errors.h"
#include "model/registry.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <map>
#include <random>

namespace fs::analysis {

namespace {

bool inUnit(const std::string& key, const std::string& unit) {
  return key == unit || key.rfind(unit + ".", 0) == 0;
}

// Every parameter and buffer of the net by name.
std::map<std::string, at::Tensor> stateOf(const fs::model::Classifier& net) {
  std::map<std::string, at::Tensor> state;
  for (const auto& p : net->named_parameters()) state[p.key()] = p.value();
  for (const auto& b : net->named_buffers()) state[b.key()] = b.value();
  return state;
}

void rebuild(LoadedModel& m) {
  m.net->invalidateInferenceCache();
  m.net->prepareForInference();
}

// A copy of the whole state, written back (and the inference cache rebuilt) on scope exit.
class StateSnapshot {
 public:
  explicit StateSnapshot(LoadedModel& model) : model_(model) {
    for (const auto& [key, t] : stateOf(model.net)) saved_.emplace_back(t, t.detach().clone());
  }
  ~StateSnapshot() {
    restore();
    rebuild(model_);
  }
  void restore() {
    torch::NoGradGuard noGrad;
    for (auto& [live, copy] : saved_) live.copy_(copy);
  }
  StateSnapshot(const StateSnapshot&) = delete;
  StateSnapshot& operator=(const StateSnapshot&) = delete;

 private:
  LoadedModel& model_;
  std::vector<std::pair<at::Tensor, at::Tensor>> saved_;
};

// Copies the unit's parameters and buffers from `fresh` into the model.
void reinitialise(LoadedModel& model, const std::map<std::string, at::Tensor>& fresh, const std::string& unit) {
  torch::NoGradGuard noGrad;
  for (const auto& [key, t] : stateOf(model.net)) {
    if (!inUnit(key, unit)) continue;
    const auto it = fresh.find(key);
    if (it == fresh.end() || it->second.sizes() != t.sizes())
      throw fs::model::InputError("randomisation: a fresh " + model.config.family + " model has no tensor '" + key +
                                  "' of shape " + c10::str(t.sizes()));
    t.copy_(it->second);
  }
}

}  // namespace

uint64_t freshModelSeed(const LoadedModel& model, uint64_t seed) {
  uint64_t freshSeed = seed * 0x9E3779B97F4A7C15ull + 0x5A17ull;
  if (model.weightsPath.empty() && freshSeed == model.seed) ++freshSeed;
  return freshSeed;
}

RandomisationResult modelRandomisation(LoadedModel& model, const MapFunction& computeMap, RandomisationMode mode,
                                       uint64_t seed, const std::function<void(double)>& progress,
                                       const std::atomic<bool>* cancel) {
  RandomisationResult result;
  result.original = computeMap(model);
  const std::vector<std::string> units = randomisationOrder(model);
  const fs::model::Classifier freshNet = fs::model::buildModel(model.config, freshModelSeed(model, seed));
  const std::map<std::string, at::Tensor> fresh = stateOf(freshNet);
  StateSnapshot snapshot(model);
  for (size_t i = 0; i < units.size(); ++i) {
    if (cancel && cancel->load()) {
      result.cancelled = true;
      break;
    }
    if (mode == RandomisationMode::Independent) snapshot.restore();
    reinitialise(model, fresh, units[i]);
    rebuild(model);
    RandomisationStep step;
    step.unit = units[i];
    step.map = computeMap(model);
    step.similarity = similarityScores(result.original, step.map);
    result.steps.push_back(std::move(step));
    if (progress) progress(double(i + 1) / double(units.size()));
  }
  return result;
}

RandomLogitResult randomLogitTest(const std::function<at::Tensor(int)>& mapForClass, int target, int numClasses,
                                  uint64_t seed) {
  if (numClasses < 2) throw fs::model::InputError("random-logit test: needs at least two classes");
  if (target < 0 || target >= numClasses) throw fs::model::InputError("random-logit test: target out of range");
  std::mt19937_64 gen(seed);
  int other = static_cast<int>(gen() % uint64_t(numClasses - 1));
  if (other >= target) ++other;
  RandomLogitResult r;
  r.target = target, r.other = other;
  r.similarity = similarityScores(mapForClass(target), mapForClass(other));
  return r;
}

}  // namespace fs::analysis
