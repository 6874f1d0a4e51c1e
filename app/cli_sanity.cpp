// sanity: the model-parameter randomisation of Adebayo et al. 2018 (cascading, independent, or both
// in one figure) over images, as the paper's Figure 2 (analysis/sanity_cascade.h), the similarity
// curves, and their tables; the random-logit test (Sixt et al. 2020) and, with --data-randomised, the comparison with
// the same architecture trained on permuted labels (Adebayo et al. 2018, sec. 3.2).
#include "analysis/batch_export.h"
#include "analysis/counted.h"
#include "analysis/evaluation/sanity_comparison.h"
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
#include "model/safetensors.h"
#include "render/figure_renderer.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>

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

// --mode: cascade (default), independent, or both (the cascading run, then the independent one).
std::vector<fa::RandomisationMode> parseModes(const std::string& mode) {
  if (mode == "both") return {fa::RandomisationMode::Cascading, fa::RandomisationMode::Independent};
  if (fa::RandomisationMode m; fa::parseModeName(mode, m)) return {m};
  throw UsageError("sanity: unknown --mode '" + mode + "' (valid: cascade, independent, both)");
}

// Every run: the cascading-or-independent cascade of each mode, over the same images and seed; the
// random-logit test and data randomisation do not depend on the mode and run with the first only.
std::vector<fa::SanityCascade> runModes(fa::LoadedModel& m, const std::vector<at::Tensor>& inputs,
                                        const std::vector<std::string>& names, const fa::SanityCascadeOptions& o,
                                        const std::vector<fa::RandomisationMode>& modes) {
  std::vector<fa::SanityCascade> runs;
  for (size_t r = 0; r < modes.size(); ++r) {
    fa::SanityCascadeOptions om = o;
    om.mode = modes[r];
    if (r > 0) om.randomLogit = false, om.dataRandomised = nullptr;
    if (modes.size() > 1)
      om.log = [mode = fa::modeName(modes[r])](const std::string& line) { std::cerr << mode << ": " << line << std::endl; };
    runs.push_back(fa::runSanityCascade(m, inputs, names, om));
  }
  return runs;
}

// The permuted-label model: the same architecture, from a safetensors file that train
// --permute-labels wrote (its metadata says so); its metadata for the summary.
json loadDataRandomised(const std::string& path, const fa::LoadedModel& trained, fa::LoadedModel& out) {
  if (fsys::path(path).extension() != ".safetensors")
    throw fs::model::InputError(path + ": --data-randomised needs the .safetensors file of train --permute-labels");
  const std::map<std::string, std::string> meta = fs::model::readSafetensors(path).metadata;
  const auto it = meta.find("permute_labels");
  if (it == meta.end() || it->second != "true")
    throw fs::model::InputError(path + ": not trained on permuted labels (its metadata has no permute_labels = true; "
                                "write it with train --permute-labels)");
  out = fa::loadModel(trained.config.id, path, trained.seed);
  json j{{"weights", path}, {"weights_sha256", fa::sha256File(path)}};
  for (const char* key : {"permute_labels", "label_permutation_seed", "label_permutation_images", "label_permutation",
                          "label_permutation_unchanged_fraction", "test_accuracy", "epochs", "steps", "seed"})
    if (meta.count(key)) j["metadata"][key] = meta.at(key);
  return j;
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

// The first image's maps (.maps/METHOD-DEPTH.npy, 0 = the original; the second mode's
// METHOD-MODE-DEPTH.npy; METHOD-random_logit.npy and METHOD-data_randomised.npy) and the CSV tables
// beside the figure. all.front() is the run that holds the random-logit and data-randomised tests.
void writeSanityTables(const std::vector<const fa::SanityCascade*>& all, const std::string& stem, uint64_t seed,
                       bool dataRandomised) {
  const fa::SanityCascade& c = *all.front();
  fs::model::createFolders(stem + ".maps");
  for (const fa::SanityCascade* run : all)
    for (size_t k = 0; k < run->methods.size(); ++k)
      for (size_t d = 0; d < run->firstMaps[k].size(); ++d)
        fa::writeMapNpy(stem + ".maps/" + run->methods[k] + (run == &c ? "" : "-" + fa::modeName(run->mode)) + "-" +
                            std::to_string(d) + ".npy",
                        run->firstMaps[k][d]);
  for (size_t k = 0; k < c.methods.size(); ++k) {
    fa::writeMapNpy(stem + ".maps/" + c.methods[k] + "-random_logit.npy", c.randomLogit.firstMaps[k]);
    if (dataRandomised) fa::writeMapNpy(stem + ".maps/" + c.methods[k] + "-data_randomised.npy", c.dataRandomised.firstMaps[k]);
  }
  fs::model::writeFileAtomically(stem + ".csv", fa::sanityMeansCsv(all));
  fs::model::writeFileAtomically(stem + ".rows.csv", fa::sanityRowsCsv(all));
  fs::model::writeFileAtomically(stem + ".comparisons.csv", fa::comparisonMeansCsv(c, seed));
  fs::model::writeFileAtomically(stem + ".random_logit.csv", fa::comparisonRowsCsv(c, c.randomLogit, true));
  if (dataRandomised)
    fs::model::writeFileAtomically(stem + ".data_randomisation.csv", fa::comparisonRowsCsv(c, c.dataRandomised, false));
}

// STEM.json: the model, methods and their parameters, seeds, units, images and targets, the mean
// similarities per mode, and the random-logit and data-randomisation tests.
json sanitySummary(const fa::LoadedModel& m, const std::vector<const fa::SanityCascade*>& all,
                   const fa::SanityCascadeOptions& o, json dataJson, const std::string& out, const std::string& curves,
                   const std::string& stem) {
  const fa::SanityCascade& c = *all.front();
  const bool both = all.size() > 1;
  if (o.dataRandomised) dataJson["similarity"] = fa::comparisonSummaryJson(c, c.dataRandomised, o.seed);
  json params = json::object();
  for (const auto& spec : fa::parameterSpecs())
    params[spec.name] = spec.name == "baseline" ? json(o.saliency.baseline) : json(fa::parameterValue(o.saliency, spec.name));
  return json{{"tool", "featurescope-cli sanity"}, {"version", FS_VERSION},
              {"model", {{"id", m.config.id}, {"family", m.config.family},
                         {"weights", m.weightsPath.empty() ? json(nullptr) : json(m.weightsPath)},
                         {"weights_sha256", m.weightsPath.empty() ? json(nullptr) : json(fa::sha256File(m.weightsPath))},
                         {"seed", m.seed}}},
              {"methods", c.methods}, {"method_parameters", params}, {"seed", o.seed},
              {"mode", both ? "both" : fa::modeName(o.mode)},
              {"randomisation", (both ? std::string("cascading and independent") : fa::modeName(o.mode)) +
                                    ", head first, the family's own init (Adebayo et al. 2018)"},
              {"fresh_model_seed", fa::freshModelSeed(m, o.seed)},
              {"units", c.units}, {"images", c.images}, {"target", "top1"}, {"targets", c.targets},
              {"means", both ? json{{fa::modeName(all[0]->mode), summaryJson(*all[0])},
                                    {fa::modeName(all[1]->mode), summaryJson(*all[1])}}
                             : summaryJson(c)},
              {"random_logit", {{"test", "Sixt et al. 2020: the map for the target vs a random other class, drawn "
                                         "per image (mt19937_64 seeded with seed + image index)"},
                                {"other_classes", c.otherClasses},
                                {"similarity", fa::comparisonSummaryJson(c, c.randomLogit, o.seed)}}},
              {"data_randomisation", o.dataRandomised ? dataJson : json(nullptr)},
              {"figure", out}, {"curves", curves}, {"maps", stem + ".maps (first image: METHOD-DEPTH.npy, 0 = original)"}};
}

// The mean similarities per mode, method and unit, then the random-logit and data-randomisation
// comparisons with their bootstrap CIs, on standard output.
void printSanity(const std::vector<const fa::SanityCascade*>& all, const fa::SanityCascadeOptions& o) {
  const fa::SanityCascade& c = *all.front();
  for (const fa::SanityCascade* run : all) {
    if (all.size() > 1) std::cout << fa::modeName(run->mode) << " randomisation\n";
    for (size_t k = 0; k < run->methods.size(); ++k) {
      std::cout << run->methods[k] << "\n";
      for (size_t u = 0; u < run->units.size(); ++u) {
        std::cout << "  " << std::left << std::setw(24) << run->units[u] << std::right << std::fixed << std::setprecision(3);
        for (const std::string& key : fa::similarityKeys())
          std::cout << std::setw(9) << fa::meanSimilarity(*run, k, u, key).value;
        std::cout << "\n";
      }
    }
  }
  const auto printComparison = [&](const std::string& heading, const fa::MapComparison& cmp) {
    std::cout << heading << ": mean [bootstrap 95% CI] (Spearman, |Spearman|, SSIM, HOG)\n";
    for (size_t k = 0; k < c.methods.size(); ++k) {
      std::cout << "  " << std::left << std::setw(24) << c.methods[k] << std::right << std::fixed << std::setprecision(3);
      for (const std::string& key : fa::similarityKeys()) {
        const fa::ComparisonSummary s = fa::comparisonSummary(cmp, k, key, o.seed);
        std::cout << "  " << s.ci.mean << " [" << s.ci.low << ", " << s.ci.high << "]";
      }
      std::cout << "\n";
    }
  };
  printComparison("random-logit test (map for a random other class vs the target's)", c.randomLogit);
  if (o.dataRandomised) printComparison("data randomisation (permuted-label model vs the trained one)", c.dataRandomised);
}

// The cascade's options from the command line (methods checked, saliency options, seed).
fa::SanityCascadeOptions sanityOptions(const Args& a) {
  fa::SanityCascadeOptions o;
  o.methods = splitList(a.value("--methods", "gradcam,gradient"));
  for (const auto& name : o.methods) fa::makeSaliencyMethod(name);  // InputError listing the methods
  o.saliency = saliencyOptionsFromArgs(a, "sanity");
  o.seed = static_cast<uint64_t>(a.intValue("--seed", 0, 0, 2147483647));
  o.log = [](const std::string& line) { std::cerr << line << std::endl; };
  o.randomLogit = true;
  return o;
}

// The cascade figure at `out` (runSanity made its folder before the work), the curves beside it,
// the CSV tables and the JSON summary; the summary and the list of files written on standard output.
void writeSanityOutputs(const fa::LoadedModel& m, const std::vector<const fa::SanityCascade*>& all,
                        const fa::SanityCascadeOptions& o, const json& dataJson, const std::string& out, double dpi) {
  const std::string modeTitle = all.size() > 1 ? "cascading and independent" : fa::modeName(o.mode);
  const fsys::path p(out);
  const std::string stem = (p.parent_path() / p.stem()).string();
  const std::string cascadeSize = writeFigure(fa::sanityCascadeFigure(all, "Sanity check: " + modeTitle + " randomisation, " + m.config.id), out, dpi);
  const std::string curves = stem + ".curves" + p.extension().string();
  writeFigure(fa::sanityCurvesFigure(all, "Similarity to the original map, " + m.config.id), curves, dpi);
  writeSanityTables(all, stem, o.seed, o.dataRandomised != nullptr);
  fs::model::writeFileAtomically(stem + ".json", sanitySummary(m, all, o, dataJson, out, curves, stem).dump(2) + "\n");
  std::cout << m.config.id << ": " << modeTitle << " randomisation over "
            << fs::analysis::counted(int64_t(all.front()->images.size()), "image")
            << "; mean similarity to the original map (Spearman, |Spearman|, SSIM, HOG):\n";
  printSanity(all, o);
  std::cout << "wrote " << out << " (" << cascadeSize << "), " << curves << ", " << stem << ".json, " << stem
            << ".csv, " << stem << ".rows.csv, " << stem << ".comparisons.csv, " << stem << ".random_logit.csv"
            << (o.dataRandomised ? ", " + stem + ".data_randomisation.csv" : std::string()) << "\n";
}

int runSanity(const Args& a) {
  if (a.has("--dataset") == a.has("--images")) throw UsageError("sanity: give --images DIR or --dataset fashion-mnist");
  if (!a.has("--out")) throw UsageError("sanity: --out FIG.png|.pdf|.svg is required");
  const std::string out = a.value("--out");
  fs::render::figureFormatForPath(out);
  fs::model::createFoldersFor(out);  // before any work, as the format
  fa::SanityCascadeOptions o = sanityOptions(a);
  const int limit = a.intValue("--limit", 10, 1, 1 << 30);
  const double dpi = a.doubleValue("--dpi", fs::render::kDefaultDpi, fs::render::kMinDpi, fs::render::kMaxDpi);
  const std::vector<fa::RandomisationMode> modes = parseModes(a.value("--mode", "cascade"));
  o.mode = modes.front();
  fa::LoadedModel m = fa::loadModel(a.positional[0], a.value("--weights"), o.seed);
  fa::LoadedModel permuted;
  json dataJson;
  if (a.has("--data-randomised")) {
    dataJson = loadDataRandomised(a.value("--data-randomised"), m, permuted);
    o.dataRandomised = &permuted;
  }
  std::vector<at::Tensor> inputs;
  std::vector<std::string> names;
  loadInputs(m, a, limit, inputs, names);
  const std::vector<fa::SanityCascade> runs = runModes(m, inputs, names, o, modes);
  std::vector<const fa::SanityCascade*> all;
  for (const auto& run : runs) all.push_back(&run);
  writeSanityOutputs(m, all, o, dataJson, out, dpi);
  return 0;
}

Command sanityCommand() {
  Command c{"sanity",
            "sanity MODEL [--weights F] (--images DIR | --dataset fashion-mnist [--data-dir D]) [--methods a,b]\n"
            "  [--mode cascade|independent|both] [--data-randomised F.safetensors] [--limit N] [method options, as\n"
            "  in saliency] [--seed S] [--dpi N] --out FIG.png|.pdf|.svg\n"
            "  Model-parameter randomisation (Adebayo et al. 2018, \"Sanity Checks for Saliency Maps\", sec. 3.1):\n"
            "  the model's units, from the logits down, are re-initialised with the family's own initialisation\n"
            "  (seeded by --seed): --mode cascade (default) one more at each step, independent one at a time with\n"
            "  all others trained; --mode both runs the two (same seed) into one figure, one set of curves and one\n"
            "  of each table. Target = each image's top-1 prediction. Writes FIG: the paper's Figure 2 for\n"
            "  the first image (rows = methods, columns = the original map, then the map after each step, then the\n"
            "  random-class and data-randomised maps; with both, per method a cascading and an independent row);\n"
            "  FIG_STEM.curves.EXT: Spearman, |Spearman|, SSIM and HOG similarity to the original, averaged over\n"
            "  the first N images (--limit, default 10), per step (with both: cascading solid, independent dashed);\n"
            "  FIG_STEM.json (settings, weights SHA-256, means; with both, per mode), FIG_STEM.csv (means) and\n"
            "  .rows.csv (per image; a mode column, with both the rows of the two modes), FIG_STEM.maps/\n"
            "  METHOD-STEP.npy (the first image's maps, 0 = original; with both the independent ones as\n"
            "  METHOD-independent-STEP.npy; METHOD-random_logit.npy, METHOD-data_randomised.npy).\n"
            "  Random-logit test (Sixt et al. 2020): the same similarities between the map for the target and for a\n"
            "  random other class (seeded by --seed + image index): FIG_STEM.random_logit.csv per image, mean and\n"
            "  bootstrap 95% CI in FIG_STEM.comparisons.csv and the JSON. --data-randomised F: the maps of the same\n"
            "  architecture trained with train --permute-labels (Adebayo et al. 2018, sec. 3.2), same target, map by\n"
            "  map: FIG_STEM.data_randomisation.csv, and in FIG_STEM.comparisons.csv and the JSON.\n" +
                saliencyMethodsHelp(),
            {{"--weights", "--images", "--dataset", "--data-dir", "--methods", "--limit", "--dpi", "--out", "--seed",
              "--mode", "--data-randomised"},
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
