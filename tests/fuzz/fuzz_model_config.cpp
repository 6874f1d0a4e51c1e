// libFuzzer target: the JSON model-config parser. An accepted config must respect the limits
// (every dimension <= 65,536, <= 2e9 parameters), print back to JSON that parses to the same
// config, and - when it is small - build without any error and with exactly the estimated
// parameter count (the estimate is what the 2e9 limit is checked against).
#include "fuzz_support.h"
#include "model/errors.h"
#include "model/model_config.h"
#include "model/registry.h"

namespace {
constexpr int64_t kMaxParams = 2'000'000'000;
constexpr int64_t kBuildParams = 20'000;  // keeps the rate of executions useful
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fs::model;
  const std::string text(reinterpret_cast<const char*>(data), size);
  ModelConfig config;
  try {
    config = parseModelConfig(text, "fuzz.json");
  } catch (const InputError&) {
    return 0;
  }
  const int64_t params = estimateParameters(config);
  if (params <= 0 || params > kMaxParams) fs::fuzz::invariantBroken("parameter count " + std::to_string(params));
  const std::string json = modelConfigToJson(config);
  const std::string again = modelConfigToJson(parseModelConfig(json, "printed.json"));
  if (again != json) fs::fuzz::invariantBroken("printed config does not round-trip:\n" + json + "\n" + again);
  if (params <= kBuildParams) {
    const Classifier model = buildModel(config);
    const int64_t built = model->parameterCount();
    if (built != params) {
      fs::fuzz::invariantBroken("built model has " + std::to_string(built) + " parameters, estimate " +
                                std::to_string(params) + ":\n" + json);
    }
  }
  return 0;
}
