#include "model/model_config.h"

#include "model/errors.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace fs::model {
namespace {
using nlohmann::json;

constexpr int64_t kMaxDim = 65536;
constexpr int64_t kMaxParams = 2'000'000'000;
constexpr int64_t kMaxDepth = 1000;

struct Reader {
  const json& j;
  const std::string& what;

  [[noreturn]] void fail(const std::string& why) const { throw InputError(what + ": " + why); }

  int64_t integer(const char* key, int64_t lo, int64_t hi, const json& v) const {
    if (!v.is_number_integer()) fail(std::string("'") + key + "' must be an integer");
    const auto x = v.get<int64_t>();
    if (x < lo || x > hi)
      fail(std::string("'") + key + "' = " + std::to_string(x) + " is outside [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]");
    return x;
  }
  int integer(const char* key, int64_t lo, int64_t hi, int fallback) const {
    return j.contains(key) ? int(integer(key, lo, hi, j.at(key))) : fallback;
  }
  int required(const char* key, int64_t lo, int64_t hi) const {
    if (!j.contains(key)) fail(std::string("missing field '") + key + "'");
    return int(integer(key, lo, hi, j.at(key)));
  }
  double number(const json& v, const char* key, double lo, double hi) const {
    if (!v.is_number()) fail(std::string("'") + key + "' must be a number");
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi)) fail(std::string("'") + key + "' is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return x;
  }
  std::vector<int> intList(const char* key, int64_t lo, int64_t hi) const {
    if (!j.contains(key) || !j.at(key).is_array() || j.at(key).empty() || j.at(key).size() > 16)
      fail(std::string("'") + key + "' must be a non-empty list (at most 16 entries)");
    std::vector<int> out;
    for (const auto& v : j.at(key)) out.push_back(int(integer(key, lo, hi, v)));
    return out;
  }
  std::vector<double> numList(const char* key, double lo, double hi) const {
    if (!j.contains(key) || !j.at(key).is_array()) fail(std::string("'") + key + "' must be a list");
    std::vector<double> out;
    for (const auto& v : j.at(key)) out.push_back(number(v, key, lo, hi));
    return out;
  }
};

Family parseFamily(const Reader& r) {
  if (!r.j.contains("family") || !r.j.at("family").is_string()) r.fail("missing string field 'family'");
  const std::string f = r.j.at("family").get<std::string>();
  if (f == "convmlp") return Family::ConvMLP;
  if (f == "puremlp" || f == "pure_mlp") return Family::PureMLP;
  if (f == "mlp_mixer" || f == "mixer") return Family::Mixer;
  if (f == "resmlp") return Family::ResMLP;
  if (f == "resnet") return Family::ResNet;
  r.fail("unknown family '" + f + "' (valid: convmlp, puremlp, mlp_mixer, resmlp, resnet)");
}

void parseConvMlp(const Reader& r, ModelConfig& c) {
  c.blocks = r.intList("blocks", 0, kMaxDepth);
  c.dims = r.intList("dims", 2, kMaxDim);
  c.mlpRatios = r.numList("mlp_ratios", 0.01, 64);
  if (c.blocks.size() != c.dims.size() || c.blocks.size() != c.mlpRatios.size())
    r.fail("'blocks', 'dims' and 'mlp_ratios' must have the same length");
  c.channels = r.required("channels", 2, kMaxDim);
  if (c.channels % 2) r.fail("'channels' must be even");
  c.nConvBlocks = r.integer("n_conv_blocks", 0, kMaxDepth, 2);
}

void parseTokenModel(const Reader& r, ModelConfig& c) {
  c.imgSize = r.required("img_size", 1, kMaxDim);
  c.patchSize = r.required("patch_size", 1, kMaxDim);
  if (c.imgSize % c.patchSize) r.fail("'img_size' must be a multiple of 'patch_size'");
  c.numBlocks = r.required("num_blocks", 0, kMaxDepth);
  c.embedDim = r.required("embed_dim", 1, kMaxDim);
  c.input.height = c.input.width = c.imgSize;
  if (c.family == Family::Mixer) {
    if (r.j.contains("mlp_ratio")) {
      auto ratios = r.numList("mlp_ratio", 0.01, 64);
      if (ratios.size() != 2) r.fail("'mlp_ratio' must be [token, channel]");
      c.tokenMlpRatio = ratios[0], c.channelMlpRatio = ratios[1];
    }
    if (r.j.contains("layer_norm_eps")) c.layerNormEps = r.number(r.j.at("layer_norm_eps"), "layer_norm_eps", 0, 1);
  } else {
    if (r.j.contains("mlp_ratio")) c.channelMlpRatio = r.number(r.j.at("mlp_ratio"), "mlp_ratio", 0.01, 64);
    if (r.j.contains("init_values")) c.initValues = r.number(r.j.at("init_values"), "init_values", 0, 10);
  }
}

void parseResNet(const Reader& r, ModelConfig& c) {
  const json& b = r.j.contains("block") ? r.j.at("block") : json("bottleneck");
  if (b != "basic" && b != "bottleneck") r.fail("'block' must be \"basic\" or \"bottleneck\"");
  c.bottleneck = b == "bottleneck";
  c.layers = r.intList("layers", 0, kMaxDepth);
  c.width = r.integer("width", 1, 4096, 64);
  if (c.layers.size() > 4) r.fail("'layers' has at most 4 entries");
}

// The MLP hidden widths the ratios imply (as the modules compute them) obey the same limit as
// every other dimension, and may not round down to zero.
void checkHiddenWidth(const Reader& r, const char* key, int64_t dim, double ratio) {
  const auto hidden = static_cast<int64_t>(dim * ratio);
  if (hidden < 1 || hidden > kMaxDim)
    r.fail(std::string("'") + key + "' gives an MLP hidden width of " + std::to_string(hidden) + " (allowed 1 to " +
           std::to_string(kMaxDim) + ")");
}

void checkHiddenWidths(const Reader& r, const ModelConfig& c) {
  if (c.family == Family::ConvMLP || c.family == Family::PureMLP) {
    for (size_t s = 0; s < c.dims.size(); ++s) checkHiddenWidth(r, "mlp_ratios", c.dims[s], c.mlpRatios[s]);
  } else if (c.family == Family::Mixer) {
    checkHiddenWidth(r, "mlp_ratio", c.embedDim, c.tokenMlpRatio);
    checkHiddenWidth(r, "mlp_ratio", c.embedDim, c.channelMlpRatio);
  } else if (c.family == Family::ResMLP) {
    checkHiddenWidth(r, "mlp_ratio", c.embedDim, c.channelMlpRatio);
  }
}

void parseInput(const Reader& r, ModelConfig& c) {
  if (r.j.contains("input_shape")) {
    auto s = r.intList("input_shape", 1, kMaxDim);
    if (s.size() != 4 || s[1] != 3) r.fail("'input_shape' must be [1,3,H,W]");
    c.input.height = s[2], c.input.width = s[3];
    c.input.cropPct = 1.0;
  }
  if (!r.j.contains("input")) return;
  Reader in{r.j.at("input"), r.what};
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

const char* familyName(Family f) {
  switch (f) {
    case Family::ConvMLP: return "convmlp";
    case Family::PureMLP: return "puremlp";
    case Family::Mixer: return "mlp_mixer";
    case Family::ResMLP: return "resmlp";
    case Family::ResNet: return "resnet";
  }
  return "?";
}

ModelConfig parseModelConfig(const std::string& text, const std::string& what) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throw InputError(what + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw InputError(what + ": a model config must be a JSON object");
  Reader r{j, what};
  ModelConfig c;
  c.family = parseFamily(r);
  c.numClasses = r.integer("num_classes", 1, kMaxDim, 1000);
  if (c.family == Family::ConvMLP || c.family == Family::PureMLP) parseConvMlp(r, c);
  else if (c.family == Family::ResNet) parseResNet(r, c);
  else parseTokenModel(r, c);
  checkHiddenWidths(r, c);
  parseInput(r, c);
  if ((c.family == Family::Mixer || c.family == Family::ResMLP) &&
      (c.input.height != c.imgSize || c.input.width != c.imgSize))
    r.fail("token models need an input size equal to 'img_size'");
  if (j.contains("id") && j.at("id").is_string()) c.id = j.at("id").get<std::string>();
  if (j.contains("labels") && j.at("labels").is_string()) c.labels = j.at("labels").get<std::string>();
  else if (c.numClasses != 1000) c.labels = "index";
  const int64_t params = estimateParameters(c);
  if (params > kMaxParams)
    r.fail("the model would have " + std::to_string(params) + " parameters (limit 2,000,000,000)");
  return c;
}

std::string modelConfigToJson(const ModelConfig& c) {
  json j = {{"id", c.id}, {"family", familyName(c.family)}, {"num_classes", c.numClasses}, {"labels", c.labels}};
  if (c.family == Family::ConvMLP || c.family == Family::PureMLP) {
    j.update({{"blocks", c.blocks}, {"dims", c.dims}, {"mlp_ratios", c.mlpRatios}, {"channels", c.channels},
              {"n_conv_blocks", c.nConvBlocks}});
  } else if (c.family == Family::ResNet) {
    j.update({{"block", c.bottleneck ? "bottleneck" : "basic"}, {"layers", c.layers}, {"width", c.width}});
  } else {
    j.update({{"img_size", c.imgSize}, {"patch_size", c.patchSize}, {"num_blocks", c.numBlocks}, {"embed_dim", c.embedDim}});
    if (c.family == Family::Mixer) j.update({{"mlp_ratio", {c.tokenMlpRatio, c.channelMlpRatio}}, {"layer_norm_eps", c.layerNormEps}});
    else j.update({{"mlp_ratio", c.channelMlpRatio}, {"init_values", c.initValues}});
  }
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
