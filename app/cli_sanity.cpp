// sanity: the cascading model-parameter randomisation of Adebayo et al. 2018 over images, as the
// paper's Figure 2 (analysis/sanity_cascade.h), the similarity curves, and their tables.
#include "analysis/batch_export.h"
#include "analysis/fashion_mnist.h"
#include "analysis/image_io.h"
#include "analysis/map_output.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "analysis/sanity_cascade.h"
#include "analysis/sha256.h"
#include "analysis/string_list.h"
#include "app/cli_commands.h"
#include "app/cli_input.h"
#include "app/cli_scorecard_figure.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "render/figure_renderer.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
namespace fsys = std::filesystem;
using fs::model::UsageError;
using nlohmann::json;

// The model inputs and their names: the folder's images (NAME.mask.png left out) or the test set.
void loadInputs(const fa::LoadedModel& m, const Args& a, int limit, std::vector<at::Tensor>& inputs,
                std::vector<std::string>& names) {
  if (a.has("--dataset")) {
    if (a.value("--dataset") != "fashion-mnist")
      throw UsageError("sanity: unknown --dataset '" + a.value("--dataset") + "' (valid: fashion-mnist)");
    const fa::ImageDataset d = fa::loadFashionMnist(a.value("--data-dir", fa::defaultFashionMnistDir()), false);
    for (int64_t i = 0; i < std::min<int64_t>(d.images.size(0), limit); ++i) {
      inputs.push_back(fa::fashionMnistBatch(d.images.narrow(0, i, 1), m.config.input));
      char name[32];
      std::snprintf(name, sizeof name, "test-%05lld", static_cast<long long>(i));
      names.push_back(name);
    }
    return;
  }
  for (const std::string& f : fa::listImageFiles(a.value("--images"))) {
    if (fsys::path(f).stem().extension() == ".mask") continue;
    if (int(inputs.size()) >= limit) break;
    inputs.push_back(fa::preprocess(fa::loadImageRgb(f), m.config.input).input);
    names.push_back(fsys::path(f).filename().string());
  }
  if (inputs.empty()) throw fs::model::InputError(a.value("--images") + ": no images");
}

json summaryJson(const fa::SanityCascade& c) {
  json methods = json::object();
  for (size_t k = 0; k < c.methods.size(); ++k) {
    json steps = json::array();
    for (size_t u = 0; u < c.units.size(); ++u) {
      json s{{"depth", u + 1}, {"unit", c.units[u]}};
      for (const std::string& key : fa::similarityKeys()) {
        const fa::SimilarityMean mean = fa::meanSimilarity(c, k, u, key);
        s[key] = std::isfinite(mean.value) ? json(mean.value) : json(nullptr);
        s[key + "_n"] = mean.n;
      }
      steps.push_back(s);
    }
    methods[c.methods[k]] = steps;
  }
  return methods;
}

int runSanity(const Args& a) {
  if (a.has("--dataset") == a.has("--images")) throw UsageError("sanity: give --images DIR or --dataset fashion-mnist");
  if (!a.has("--out")) throw UsageError("sanity: --out FIG.png|.pdf|.svg is required");
  const std::string out = a.value("--out");
  fs::render::figureFormatForPath(out);
  fa::SanityCascadeOptions o;
  o.methods = splitList(a.value("--methods", "gradcam,gradient"));
  for (const auto& name : o.methods) fa::makeSaliencyMethod(name);  // InputError listing the methods
  o.saliency = saliencyOptionsFromArgs(a, "sanity");
  o.seed = static_cast<uint64_t>(a.intValue("--seed", 0, 0, 2147483647));
  o.log = [](const std::string& line) { std::cerr << line << std::endl; };
  const int limit = a.intValue("--limit", 10, 1, 1 << 30);
  const double dpi = a.doubleValue("--dpi", 300, 10, 1200);
  fa::LoadedModel m = fa::loadModel(a.positional[0], a.value("--weights"), o.seed);
  std::vector<at::Tensor> inputs;
  std::vector<std::string> names;
  loadInputs(m, a, limit, inputs, names);
  const fa::SanityCascade c = fa::runSanityCascade(m, inputs, names, o);

  const fsys::path p(out);
  const std::string stem = (p.parent_path() / p.stem()).string();
  if (!p.parent_path().empty()) fsys::create_directories(p.parent_path());
  const std::string cascadeSize = writeFigure(fa::sanityCascadeFigure(c, "Sanity check: cascading randomisation, " + m.config.id), out, dpi);
  const std::string curves = stem + ".curves" + p.extension().string();
  writeFigure(fa::sanityCurvesFigure(c, "Similarity to the original map, " + m.config.id), curves, dpi);
  fsys::create_directories(stem + ".maps");
  for (size_t k = 0; k < c.methods.size(); ++k)
    for (size_t d = 0; d < c.firstMaps[k].size(); ++d)
      fa::writeMapNpy(stem + ".maps/" + c.methods[k] + "-" + std::to_string(d) + ".npy", c.firstMaps[k][d]);
  fs::model::writeFileAtomically(stem + ".csv", fa::sanityMeansCsv(c));
  fs::model::writeFileAtomically(stem + ".rows.csv", fa::sanityRowsCsv(c));
  json params = json::object();
  for (const auto& spec : fa::parameterSpecs())
    params[spec.name] = spec.name == "baseline" ? json(o.saliency.baseline) : json(fa::parameterValue(o.saliency, spec.name));
  const json summary{{"tool", "featurescope-cli sanity"}, {"version", FS_VERSION},
                     {"model", {{"id", m.config.id}, {"family", m.config.family},
                                {"weights", m.weightsPath.empty() ? json(nullptr) : json(m.weightsPath)},
                                {"weights_sha256", m.weightsPath.empty() ? json(nullptr) : json(fa::sha256File(m.weightsPath))},
                                {"seed", m.seed}}},
                     {"methods", c.methods}, {"method_parameters", params}, {"seed", o.seed},
                     {"mode", "cascading, head first, the family's own init (Adebayo et al. 2018)"},
                     {"units", c.units}, {"images", c.images}, {"target", "top1"}, {"means", summaryJson(c)},
                     {"figure", out}, {"curves", curves}, {"maps", stem + ".maps (first image: METHOD-DEPTH.npy, 0 = original)"}};
  fs::model::writeFileAtomically(stem + ".json", summary.dump(2) + "\n");
  std::cout << m.config.id << ": cascading randomisation over " << c.images.size()
            << " images; mean similarity to the original map (Spearman, |Spearman|, SSIM, HOG):\n";
  for (size_t k = 0; k < c.methods.size(); ++k) {
    std::cout << c.methods[k] << "\n";
    for (size_t u = 0; u < c.units.size(); ++u) {
      std::cout << "  " << std::left << std::setw(24) << c.units[u] << std::right << std::fixed << std::setprecision(3);
      for (const std::string& key : fa::similarityKeys()) std::cout << std::setw(9) << fa::meanSimilarity(c, k, u, key).value;
      std::cout << "\n";
    }
  }
  std::cout << "wrote " << out << " (" << cascadeSize << "), " << curves << ", " << stem << ".json, " << stem
            << ".csv, " << stem << ".rows.csv\n";
  return 0;
}

Command sanityCommand() {
  Command c{"sanity",
            "sanity MODEL [--weights F] (--images DIR | --dataset fashion-mnist [--data-dir D]) [--methods a,b]\n"
            "  [--limit N] [method options, as in saliency] [--seed S] [--dpi N] --out FIG.png|.pdf|.svg\n"
            "  Cascading model-parameter randomisation (Adebayo et al. 2018, \"Sanity Checks for Saliency Maps\"):\n"
            "  the model's units are re-initialised from the logits down, one more at each step, with the family's\n"
            "  own initialisation (seeded by --seed); target = each image's top-1 prediction. Writes FIG: the\n"
            "  paper's Figure 2 for the first image (rows = methods, columns = the original map, then the map after\n"
            "  each further unit); FIG_STEM.curves.EXT: Spearman, |Spearman|, SSIM and HOG similarity to the\n"
            "  original, averaged over the first N images (--limit, default 10), vs the number of units\n"
            "  randomised; FIG_STEM.json (settings, weights SHA-256, means), FIG_STEM.csv (means) and .rows.csv\n"
            "  (per image), FIG_STEM.maps/METHOD-DEPTH.npy (the first image's maps, 0 = original).\n" +
                saliencyMethodsHelp(),
            {{"--weights", "--images", "--dataset", "--data-dir", "--methods", "--limit", "--dpi", "--out", "--seed"},
             {},
             1,
             1},
            runSanity};
  for (const std::string& name : saliencyOptionNames()) c.options.values.insert(name);
  return c;
}

const CommandRegistrar kSanity{sanityCommand()};

}  // namespace
}  // namespace fs::app
