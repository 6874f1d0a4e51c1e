// predict, features and demo: the commands that run a model on one input.
#include "analysis/map_output.h"
#include "analysis/feature_tiles.h"
#include "analysis/image_io.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "analysis/resources.h"
#include "app/cli_commands.h"
#include "app/cli_input.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "model/npy.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <iomanip>
#include <iostream>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::InputError;
using fs::model::UsageError;

uint64_t seedOf(const Args& a) { return static_cast<uint64_t>(a.intValue("--seed", 0, 0, 2147483647)); }

fa::LoadedModel loadFromArgs(const Args& a) {
  return fa::loadModel(a.positional[0], a.value("--weights"), seedOf(a));
}

void printPrediction(const fa::Prediction& p) {
  for (const auto& s : p.top)
    std::cout << std::right << std::setw(6) << s.index << "  " << std::fixed << std::setprecision(4) << s.prob
              << "  " << s.label << "\n";
}
}  // namespace

int runPredict(const Args& a) {
  const int topK = a.intValue("--top", 5, 1, 100000);
  fa::LoadedModel m = loadFromArgs(a);
  const at::Tensor x = loadInput(m, a);
  const fa::Prediction p = fa::predict(m, x, topK);
  if (a.has("--logits-npy")) fs::model::writeNpy(a.value("--logits-npy"), p.logits);
  if (!a.has("--json")) {
    printPrediction(p);
    return 0;
  }
  nlohmann::json top = nlohmann::json::array();
  for (const auto& s : p.top)
    top.push_back({{"index", s.index}, {"label", s.label}, {"prob", s.prob}, {"logit", s.logit}});
  std::cout << nlohmann::json{{"top", top}, {"elapsed_ms", p.elapsedMs}}.dump(2) << "\n";
  return 0;
}

int runFeatures(const Args& a) {
  if (!a.has("--tap")) throw UsageError("features: --tap NAME is required (see featurescope-cli info MODEL)");
  if (!a.has("--npy") && !a.has("--png")) throw UsageError("features: give --npy OUT and/or --png OUT");
  const int channels = a.intValue("--channels", 16, 1, 1 << 20);
  fa::LoadedModel m = loadFromArgs(a);
  const at::Tensor x = loadInput(m, a);
  const at::Tensor map = fa::extractTap(m, x, a.value("--tap"));
  if (a.has("--npy")) fs::model::writeNpy(a.value("--npy"), map);
  if (a.has("--png")) {
    const int scale = std::max<int>(1, 64 / std::max<int64_t>(1, map.size(2)));
    fa::writePng(a.value("--png"), fa::tileChannels(map, channels, 0, scale));
  }
  std::cout << a.value("--tap") << ": [" << map.size(0) << "," << map.size(1) << "," << map.size(2) << ","
            << map.size(3) << "]\n";
  return 0;
}

// One model on one image: top-3 and its stage feature maps as PNG grids in outDir.
void demoModel(const std::string& id, const cv::Mat& rgb, const std::string& outDir, uint64_t seed) {
  fa::LoadedModel m = fa::loadModel(id, "", seed);
  const at::Tensor x = fa::preprocess(rgb, m.config.input).input;
  const fa::Prediction p = fa::predict(m, x, 3);
  std::cout << "\n" << id << "  (" << std::fixed << std::setprecision(0) << p.elapsedMs << " ms)\n";
  printPrediction(p);
  for (const auto& stage : m.net->stages()) {
    const std::string path = outDir + "/" + id + "_" + stage + ".png";
    fa::writePng(path, fa::tileChannels(fa::extractTap(m, x, stage), 12, 4, 4));
    std::cout << "  wrote " << path << "\n";
  }
}

// The desktop app's demo (analysis/resources.h), in the terminal.
int runDemo(const Args& a) {
  const std::string outDir = a.value("--out", "featurescope-demo");
  fs::model::createFolders(outDir);
  const std::string sample = fa::demoSampleImage();
  std::cout << "FeatureScope demo: models trained on Fashion-MNIST (bundled weights) on " << sample << "\n";
  const cv::Mat sampleRgb = fa::loadImageRgb(sample);
  for (const auto& id : fa::demoModelIds()) demoModel(id, sampleRgb, outDir, seedOf(a));
  const std::string photo = fa::demoPhoto();
  std::cout << "\nFull-size architectures on " << photo << "\n"
            << "UNTRAINED: these models ship no trained weights (random initialisation, seed " << seedOf(a)
            << "); their predictions are meaningless, the feature maps show only the architectures' shapes.\n"
            << "Load trained weights with --weights or in the app.\n";
  const cv::Mat photoRgb = fa::loadImageRgb(photo);
  for (const auto& id : fa::untrainedDemoModelIds()) demoModel(id, photoRgb, outDir, seedOf(a));
  return 0;
}

namespace {
const CommandRegistrar kPredict{
    {"predict",
     "predict MODEL [--weights F] (--image F | --input-npy F) [--top K] [--json] [--logits-npy OUT]"
     " [--max-pixels N]\n  Top-K classes for an image (or a preprocessed float32 [1,3,H,W] NPY tensor).",
     {{"--weights", "--image", "--input-npy", "--top", "--logits-npy", "--max-pixels"}, {"--json"}, 1, 1},
     runPredict}};
const CommandRegistrar kFeatures{
    {"features",
     "features MODEL [--weights F] (--image F | --input-npy F) --tap NAME [--npy OUT] [--png OUT]"
     " [--channels K] [--max-pixels N]\n  Writes one tap as float32 NCHW NPY and/or a PNG grid of its first K channels.",
     {{"--weights", "--image", "--input-npy", "--tap", "--npy", "--png", "--channels", "--max-pixels"}, {}, 1, 1},
     runFeatures}};
const CommandRegistrar kDemo{
    {"demo",
     "demo [--out DIR]\n  The desktop app's demo in the terminal: the bundled ConvMLP, ResNet and MLP-Mixer trained on\n"
     "  Fashion-MNIST on a bundled sample, then a photo through the full-size ConvMLP-S, ResNet-50 and\n"
     "  MLP-Mixer-B/16, which are untrained (random weights; labelled so). Top-3 classes and the stage\n"
     "  feature maps of each model as PNG grids in DIR (default featurescope-demo).",
     {{"--out"}, {}, 0, 0}, runDemo}};
}  // namespace

}  // namespace fs::app
