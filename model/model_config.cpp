#include "model/model_config.h"

#include "model/config_reader.h"
#include "model/errors.h"
#include "model/family.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace fs::model {
namespace {
using nlohmann::json;

void parseInput(const ConfigReader& r, ModelConfig& c) {
  if (r.j.contains("input_shape")) {
    auto s = r.intList("input_shape", 1, kMaxDim);
    if (s.size() != 4 || s[1] != 3) r.fail("'input_shape' must be [1,3,H,W]");
    c.input.height = s[2], c.input.width = s[3];
    c.input.cropPct = 1.0;
  }
  if (!r.j.contains("input")) return;
  ConfigReader in{r.j.at("input"), r.what};
  if (!in.j.is_object()) r.fail("'input' must be an object");
  if (in.j.contains("size")) {
    auto s = in.intList("size", 1, kMaxDim);
    c.input.height = s.at(0), c.input.width = s.size() > 1 ? s[1] : s[0];
  }
  if (in.j.contains("crop_pct")) c.input.cropPct = in.number(in.j.at("crop_pct"), "crop_pct", 0.1, 1.0);
  for (const char* key : {"mean", "std"}) {
    if (!in.j.contains(key)) continue;
    auto v = in.numList(key, key[0] == 's' ? 1e-6 : -10, 10);
    if (v.size() != 3) r.fail(std::string("'") + key + "' needs 3 values");
    auto& dst = key[0] == 'm' ? c.input.mean : c.input.std;
    for (int i = 0; i < 3; ++i) dst[i] = float(v[i]);
  }
  if (in.j.contains("interpolation")) {
    const auto s = in.j.at("interpolation");
    if (s == "bilinear") c.input.interpolation = Interpolation::Bilinear;
    else if (s == "bicubic") c.input.interpolation = Interpolation::Bicubic;
    else if (s == "nearest") c.input.interpolation = Interpolation::Nearest;
    else r.fail("'interpolation' must be nearest, bilinear or bicubic");
  }
}
}  // namespace

ModelConfig parseModelConfig(const std::string& text, const std::string& what) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throw InputError(what + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw InputError(what + ": a model config must be a JSON object");
  ConfigReader r{j, what};
  if (!j.contains("family") || !j.at("family").is_string()) r.fail("missing string field 'family'");
  const FamilyTraits* family = nullptr;
  try {
    family = &familyTraits(j.at("family").get<std::string>());
  } catch (const InputError& e) {
    r.fail(e.what());
  }
  ModelConfig c;
  c.family = family->name;
  c.numClasses = r.integer("num_classes", 1, kMaxDim, 1000);
  family->readConfig(r, c);
  parseInput(r, c);
  if (family->checkInput) family->checkInput(r, c);
  if (j.contains("id") && j.at("id").is_string()) c.id = j.at("id").get<std::string>();
  if (j.contains("labels") && j.at("labels").is_string()) c.labels = j.at("labels").get<std::string>();
  else if (c.numClasses != 1000) c.labels = "index";
  const int64_t params = estimateParameters(c);
  if (params > kMaxParams)
    r.fail("the model would have " + std::to_string(params) + " parameters (limit 2,000,000,000)");
  return c;
}

std::string modelConfigToJson(const ModelConfig& c) {
  json j = {{"id", c.id}, {"family", c.family}, {"num_classes", c.numClasses}, {"labels", c.labels}};
  familyTraits(c.family).writeConfig(c, j);
  j["input"] = {{"size", {c.input.height, c.input.width}}, {"crop_pct", c.input.cropPct}, {"mean", c.input.mean},
                {"std", c.input.std}, {"interpolation", interpolationName(c.input.interpolation)}};
  return j.dump();
}

ModelConfig loadModelConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open model config");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (1 << 20)) throw InputError(path + ": model config larger than 1 MB");
  ModelConfig c = parseModelConfig(ss.str(), path);
  if (c.id.empty()) c.id = path;
  return c;
}
}  // namespace fs::model
