#pragma once
// A model ready to run: architecture (registered id or JSON config), weights (checkpoint or
// seeded random init), labels, and what was loaded. Used by the CLI, the GUI worker and tests.
#include "model/classifier.h"
#include "model/model_config.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fs::analysis {

struct LoadedModel {
  fs::model::ModelConfig config;
  fs::model::Classifier net;
  std::vector<std::string> labels;
  std::string weightsPath;    // empty: random init with `seed`
  std::string weightsReport;  // e.g. "184 tensors loaded from x.pth (pytorch-zip)"
  uint64_t seed = 0;
};

// The bundled checkpoint of a registered id (resources/models/<id>.safetensors), or "".
std::string bundledWeights(const fs::model::ModelConfig& config);

// Without a weights path, a registered id with bundled weights loads them; otherwise the
// weights are a seeded random initialisation.
// Throws fs::model::InputError (bad id/config/checkpoint). The returned net is in eval mode with
// inference rewrites (BatchNorm folding) applied.
LoadedModel loadModel(const std::string& idOrConfig, const std::string& weightsPath, uint64_t seed);

// An independent copy of `m` for another thread (the Evaluate view's workers): its own network,
// built from the same config and given every parameter and buffer of `m`'s (not read again from
// the file), with the same labels and provenance; ready for inference like loadModel's.
LoadedModel copyModel(const LoadedModel& m);

}  // namespace fs::analysis
