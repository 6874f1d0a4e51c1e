#pragma once
// Locating the read-only resources (labels, samples, demo weights): $FEATURESCOPE_RESOURCES, then
// <exe>/../share/featurescope (installed), then the source tree's resources/ (build tree).
#include "model/model_config.h"

#include <string>
#include <vector>

namespace fs::analysis {

std::string resourceDir();

// Class names for a model: 'imagenet' / 'fashion-mnist' (bundled), 'index' ("class 17"), or a
// text file with one label per line. The count must equal config.numClasses (InputError).
std::vector<std::string> loadLabels(const fs::model::ModelConfig& config);

}  // namespace fs::analysis
