#include "app/cli_input.h"

#include "analysis/batch_export.h"
#include "analysis/image_io.h"
#include "analysis/inference.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/string_list.h"
#include "model/errors.h"
#include "model/npy.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace fs::app {
namespace {
namespace fa = fs::analysis;

void requireOneSource(const Args& a) {
  if (a.has("--image") == a.has("--input-npy"))
    throw fs::model::UsageError("give exactly one of --image or --input-npy");
}

at::Tensor readInputNpy(const fa::LoadedModel& m, const std::string& path) {
  at::Tensor x = fs::model::readNpy(path);
  fa::validateInput(m, x, path);
  return x;
}

cv::Mat readImage(const Args& a) {
  const auto maxPixels = static_cast<int64_t>(a.doubleValue("--max-pixels", 100e6, 1, 1e12));
  return fa::loadImageRgb(a.value("--image"), maxPixels);
}
}  // namespace

at::Tensor loadInput(const fa::LoadedModel& m, const Args& a) {
  requireOneSource(a);
  if (a.has("--input-npy")) return readInputNpy(m, a.value("--input-npy"));
  return fa::preprocess(readImage(a), m.config.input).input;
}

CliInput loadCliInput(const fa::LoadedModel& m, const Args& a) {
  requireOneSource(a);
  CliInput in;
  if (a.has("--input-npy")) {
    in.input = readInputNpy(m, a.value("--input-npy"));
    in.original = fa::denormalise(in.input, m.config.input);
    in.crop.width = static_cast<int>(in.input.size(3));
    in.crop.height = static_cast<int>(in.input.size(2));
    return in;
  }
  in.original = readImage(a);
  fa::Preprocessed p = fa::preprocess(in.original, m.config.input);
  in.input = p.input;
  in.crop = p.crop;
  return in;
}

std::vector<cv::Mat> loadImageFolder(const std::string& dir, int limit) {
  std::vector<cv::Mat> images;
  for (const auto& p : fs::analysis::listImageFiles(dir)) {
    if (limit > 0 && int(images.size()) >= limit) break;
    try {
      images.push_back(fs::analysis::loadImageRgb(p));
    } catch (const fs::model::InputError& e) {
      std::cerr << "featurescope-cli: skipping " << e.what() << "\n";
    }
  }
  if (images.empty())
    throw fs::model::InputError(dir + ": no decodable images (png, jpg, jpeg, bmp, tif, tiff, webp)");
  return images;
}

fs::analysis::SaliencyOptions saliencyOptionsFromArgs(const Args& a, const std::string& command) {
  fs::analysis::SaliencyOptions o;
  // Ranges from the one parameter table (analysis/saliency/method_parameters.h).
  auto intOption = [&](const char* name, int fallback) {
    const auto& spec = fs::analysis::parameterSpec(name);
    return a.intValue(std::string("--") + name, fallback, int(spec.minimum), int(spec.maximum));
  };
  o.samples = intOption("samples", o.samples);
  const auto& sigma = fs::analysis::parameterSpec("sigma");
  o.sigma = a.doubleValue("--sigma", o.sigma, sigma.minimum, sigma.maximum);
  o.steps = intOption("steps", o.steps);
  o.baseline = a.value("--baseline", o.baseline);
  const auto& kinds = fs::analysis::parameterSpec("baseline").choices;
  if (std::find(kinds.begin(), kinds.end(), o.baseline) == kinds.end())
    throw fs::model::UsageError(command + ": unknown --baseline '" + o.baseline + "' (valid: " + fs::analysis::joinList(kinds) + ")");
  o.window = intOption("window", o.window);
  o.stride = intOption("stride", o.stride);
  for (const std::string& kv : a.all("--param")) {  // a method's own parameters
    const size_t eq = kv.find('=');
    std::vector<std::string> own;
    for (const auto& spec : fs::analysis::parameterSpecs())
      if (spec.own) own.push_back(spec.name);
    const std::string name = kv.substr(0, eq);
    if (eq == std::string::npos || std::find(own.begin(), own.end(), name) == own.end())
      throw fs::model::UsageError(command + ": --param wants NAME=VALUE with NAME one of " + fs::analysis::joinList(own) +
                                  ", got '" + kv + "'");
    char* end = nullptr;
    const std::string text = kv.substr(eq + 1);
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') throw fs::model::UsageError(command + ": --param " + kv + ": not a number");
    try {
      fs::analysis::setParameterValue(o, name, value);
    } catch (const fs::model::InputError& e) {
      throw fs::model::UsageError(command + ": --param " + kv + ": " + e.what());
    }
  }
  o.batchSize = a.intValue("--batch", o.batchSize, 0, 4096);
  o.tap = a.value("--tap");
  o.seed = static_cast<uint64_t>(intOption("seed", 0));
  return o;
}

std::vector<std::string> saliencyOptionNames() {
  std::vector<std::string> names{"--param", "--batch", "--tap"};
  for (const auto& spec : fs::analysis::parameterSpecs())
    if (!spec.own) names.push_back("--" + spec.name);
  return names;
}

std::string saliencyMethodsHelp() {
  std::ostringstream out;
  std::vector<std::string> cams, inputs;
  for (const std::string& name : fs::analysis::saliencyMethodNames())
    (fs::analysis::makeSaliencyMethod(name)->usesTap() ? cams : inputs).push_back(name);
  out << "  methods on --tap (default the output of the last block or stage, e.g. layer4, blocks.11):\n    ";
  for (const auto& m : cams) out << m << " ";
  out << "\n  methods on the input:\n    ";
  for (const auto& m : inputs) out << m << " ";
  out << "\n  method parameters (default, range); a method's own as --param NAME=VALUE:\n";
  for (const auto& spec : fs::analysis::parameterSpecs()) {
    out << "    " << (spec.own ? "--param " + spec.name + "=V" : "--" + spec.name) << "  " << spec.help << " (";
    if (!spec.choices.empty()) out << fs::analysis::joinList(spec.choices);
    else {
      const fs::analysis::MethodParameters defaults;
      const double v = spec.own ? spec.defaultValue : fs::analysis::parameterValue(defaults, spec.name);
      auto number = [&](double x) { return spec.integer ? std::to_string(int64_t(x)) : (std::ostringstream() << x).str(); };
      out << "default " << number(v) << ", " << number(spec.minimum) << "-" << number(spec.maximum);
    }
    out << ")\n";
  }
  out << "    --batch N  samples per internal batch (default 0 = chosen from memory: activations under 32 MiB,\n"
         "      gradient passes at most 16)\n"
         "  occlusion's windows run by incremental inference (Nakandala et al. 2019, exact form) on models with\n"
         "    a local prefix (ConvMLP, Pure-MLP: tokenizer and conv blocks; ResNet: stem and max pooling;\n"
         "    MLP-Mixer, ResMLP, ViT, DeiT, Swin: patch embedding; ConvNeXt: stem): the prefix on a crop\n"
         "    around each window, the rest on the pasted result; the same logits as full forwards up to\n"
         "    float rounding.\n"
         "    FEATURESCOPE_OCCLUSION=full runs full forwards (the default: incremental)\n";
  return out.str();
}

}  // namespace fs::app
