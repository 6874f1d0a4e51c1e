#include "model/family.h"

namespace fs::model {

// Each family's traits come from its own .cpp.
FamilyTraits convMlpFamily();
FamilyTraits pureMlpFamily();
FamilyTraits mixerFamily();
FamilyTraits resMlpFamily();
FamilyTraits resNetFamily();
FamilyTraits vitFamily();
FamilyTraits deitFamily();
FamilyTraits convNeXtFamily();
FamilyTraits swinFamily();

const std::vector<FamilyTraits>& families() {
  // The registration list: one line per family.
  static const std::vector<FamilyTraits> all{
      convMlpFamily(),
      pureMlpFamily(),
      mixerFamily(),
      resMlpFamily(),
      resNetFamily(),
      vitFamily(),
      deitFamily(),
      convNeXtFamily(),
      swinFamily(),
  };
  return all;
}

const FamilyTraits& familyTraits(const std::string& name) {
  std::string valid;
  for (const auto& f : families()) {
    if (f.name == name) return f;
    for (const auto& alias : f.aliases)
      if (alias == name) return f;
    valid += (valid.empty() ? "" : ", ") + f.name;
  }
  throw InputError("unknown family '" + name + "' (valid: " + valid + ")");
}

InputSpec imagenetInput(Interpolation interpolation, double cropPct) {
  InputSpec s;
  s.interpolation = interpolation;
  s.cropPct = cropPct;
  return s;
}

Variant fashionMnistVariant(const char* id, ModelConfig c, const char* what) {
  c.id = id, c.numClasses = 10, c.labels = "fashion-mnist";
  c.input.height = c.input.width = 112;
  c.input.cropPct = 1.0;
  c.input.interpolation = Interpolation::Bilinear;
  c.input.mean = {0.2860f, 0.2860f, 0.2860f};
  c.input.std = {0.3530f, 0.3530f, 0.3530f};
  return {c, std::string(what) + " trained on Fashion-MNIST (bundled demo)", 0, 0};
}

int64_t estimateParameters(const ModelConfig& c) { return familyTraits(c.family).estimateParameters(c); }

}  // namespace fs::model
