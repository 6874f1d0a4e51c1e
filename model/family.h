#pragma once
// Model families. Everything that differs between architectures (config fields, parameter count,
// construction, registered variants, display title) is decided by the family's own file pair,
// model/<family>.{h,cpp}, which describes itself with FamilyTraits. The list in family.cpp is the
// one registration line per family; no other file names a family.
#include "model/classifier.h"
#include "model/config_reader.h"
#include "model/model_config.h"
#include "model/tensor_dict.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace fs::model {

struct Variant {
  ModelConfig config;
  std::string description;
  int64_t expectedParams = 0;  // MODELS.md, for the contract tests (0: not published)
  double expectedGMacs = 0.0;
};

struct FamilyTraits {
  std::string name;                   // the config's "family" value, e.g. "resnet"
  std::vector<std::string> aliases;   // other spellings accepted in configs
  std::string title;                  // for figures and labels, e.g. "ResNet"
  // The family's fields of a JSON config into c (ConfigReader refuses bad values), read after
  // "num_classes" and before the "input" object; checkInput (optional) sees the finished config.
  std::function<void(const ConfigReader&, ModelConfig&)> readConfig;
  std::function<void(const ConfigReader&, const ModelConfig&)> checkInput;
  std::function<void(const ModelConfig&, nlohmann::json&)> writeConfig;  // the fields readConfig reads
  std::function<int64_t(const ModelConfig&)> estimateParameters;        // saturating (param_count)
  std::function<Classifier(const ModelConfig&)> build;                   // random weights, any mode
  // The title of a registered variant, e.g. "ResNet-50" (optional; default: title + "-" + the
  // id's suffix in upper case).
  std::function<std::string(const std::string& id)> variantTitle;
  // Renames another library's checkpoint layout (e.g. torchvision's key names) to this family's
  // own, when the names show that layout, and returns whether it did (optional). readCheckpoint
  // offers every file to each family's in turn, after unwrapping and before the strict check.
  std::function<bool(TensorDict&)> adoptForeignNames;
  bool fixedInputSize = false;        // the input must be exactly the config's size (token models)
  std::vector<Variant> variants;      // the registered ids of this family
};

// Every family, in registration order.
const std::vector<FamilyTraits>& families();
// By name or alias; InputError listing the families otherwise.
const FamilyTraits& familyTraits(const std::string& name);

// Shared by the families' variant lists: ImageNet preprocessing with the given interpolation and
// crop, and a small member of a family trained on Fashion-MNIST for the bundled demo (28x28 images
// upsampled to 112x112, 10 classes; no published counts).
InputSpec imagenetInput(Interpolation interpolation, double cropPct = 0.875);
Variant fashionMnistVariant(const char* id, ModelConfig c, const char* what);

}  // namespace fs::model
