#include "analysis/model_spec.h"

#include "model/errors.h"

namespace fs::analysis {

ModelSpec parseModelSpec(const std::string& spec) {
  const auto colon = spec.find(':');
  if (spec.empty() || colon == 0) throw fs::model::UsageError("--model expects ID[:WEIGHTS], got '" + spec + "'");
  if (colon == std::string::npos) return {spec, ""};
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

}  // namespace fs::analysis
