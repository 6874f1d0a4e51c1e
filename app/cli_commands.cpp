#include "app/cli_commands.h"

#include "model/checkpoint.h"
#include "model/registry.h"
#include "model/safetensors.h"

#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>

namespace fs::app {
namespace {
using nlohmann::json;
namespace fm = fs::model;

json tapJson(const fm::TapInfo& t) {
  return {{"name", t.name}, {"channels", t.channels}, {"height", t.height}, {"width", t.width},
          {"stride", t.stride}, {"layout", fm::tapLayoutName(t.layout)}};
}

json infoJson(const fm::ModelConfig& c, fm::ClassifierImpl& net) {
  const auto& in = c.input;
  json taps = json::array();
  for (const auto& t : net.taps()) taps.push_back(tapJson(t));
  return {{"id", c.id}, {"family", c.family}, {"params", net.parameterCount()},
          {"macs", fm::countMacs(net, c)}, {"num_classes", c.numClasses},
          {"input", {{"size", {in.height, in.width}}, {"mean", in.mean}, {"std", in.std},
                     {"interpolation", fm::interpolationName(in.interpolation)}, {"crop_pct", in.cropPct}}},
          {"stages", net.stages()}, {"cam_tap", net.camTap()}, {"taps", taps}};
}
}  // namespace

int runModels(const Args& a) {
  json out = json::array();
  for (const auto& v : fm::registeredVariants()) {
    out.push_back({{"id", v.config.id}, {"family", v.config.family},
                   {"params", fm::estimateParameters(v.config)}, {"description", v.description}});
  }
  if (a.has("--json")) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << std::left << std::setw(16) << "id" << std::setw(12) << "family" << std::setw(14) << "params"
            << "description\n";
  for (const auto& m : out)
    std::cout << std::setw(16) << m["id"].get<std::string>() << std::setw(12) << m["family"].get<std::string>()
              << std::setw(14) << m["params"].get<int64_t>() << m["description"].get<std::string>() << "\n";
  return 0;
}

int runInfo(const Args& a) {
  const fm::ModelConfig c = fm::resolveModelConfig(a.positional[0]);
  fm::Classifier net = fm::buildModel(c, 0);
  const json info = infoJson(c, *net);
  if (a.has("--json")) {
    std::cout << info.dump(2) << "\n";
    return 0;
  }
  std::cout << info["id"].get<std::string>() << " (" << info["family"].get<std::string>() << ")\n"
            << "  parameters: " << info["params"] << "\n  GMACs: " << std::fixed << std::setprecision(3)
            << info["macs"].get<int64_t>() / 1e9 << "\n  classes: " << c.numClasses << "\n  input: "
            << c.input.height << "x" << c.input.width << " " << fm::interpolationName(c.input.interpolation)
            << ", crop " << c.input.cropPct << "\n  CAM tap (default of --tap): " << net->camTap() << "\n  taps:\n";
  for (const auto& t : net->taps())
    std::cout << "    " << std::left << std::setw(28) << t.name << t.channels << "x" << t.height << "x" << t.width
              << "  stride " << t.stride << "  " << fm::tapLayoutName(t.layout) << "\n";
  return 0;
}

int runConvert(const Args& a) {
  const std::string& in = a.positional[0];
  const std::string& out = a.positional[1];
  fm::TensorDict dict = fm::readCheckpoint(in);
  dict.metadata["converted_from"] = in;
  dict.metadata["converter"] = std::string("featurescope ") + FS_VERSION;
  fm::writeSafetensors(out, dict);
  std::cout << "wrote " << out << " (" << dict.tensors.size() << " tensors from " << dict.format << ")\n";
  return 0;
}


namespace {
std::vector<Command>& registry() {
  static std::vector<Command> list;
  return list;
}

const CommandRegistrar kModels{{"models", "models [--json]\n  List the registered model variants.",
                                {{}, {"--json"}, 0, 0}, runModels}};
const CommandRegistrar kInfo{{"info", "info MODEL [--json]\n  Architecture, parameters, MACs, preprocessing and taps of a model.",
                              {{}, {"--json"}, 1, 1}, runInfo}};
const CommandRegistrar kConvert{{"convert", "convert IN OUT.safetensors\n  Converts a .pth / safetensors checkpoint to safetensors.",
                                 {{}, {}, 2, 2}, runConvert}};
}  // namespace

CommandRegistrar::CommandRegistrar(Command c) { registry().push_back(std::move(c)); }

const std::vector<Command>& commands() { return registry(); }

}  // namespace fs::app
