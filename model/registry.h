#pragma once
// The variant registry: ids -> ModelConfig (architecture + preprocessing + labels), and model
// construction from an id, a JSON config path, or a config value. Variants are data.
#include "model/classifier.h"
#include "model/family.h"
#include "model/model_config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fs::model {

// Every family's variants (FamilyTraits::variants): the published sizes first, then the small
// bundled demo models.
const std::vector<Variant>& registeredVariants();
const Variant* findVariant(const std::string& id);

// A registered id, or a path to a JSON config (ending in .json). Unknown ids are an InputError
// that lists the registered ones.
ModelConfig resolveModelConfig(const std::string& idOrPath);

// Builds the architecture with deterministic random weights (seeded LibTorch generator), in eval mode.
Classifier buildModel(const ModelConfig& config, uint64_t seed = 0);

// Multiply-accumulates of one forward at the config's input size (conv + linear layers).
int64_t countMacs(ClassifierImpl& model, const ModelConfig& config);

}  // namespace fs::model
