// erf: effective receptive fields (Luo et al. 2016) of several models' stages over a data set,
// as one comparison figure (rows = models, columns = stages), one NPY per map and a manifest.
#include "analysis/counted.h"
#include "analysis/features/effective_rf.h"
#include "analysis/model_spec.h"
#include "analysis/versions.h"
#include "app/cli_commands.h"
#include "app/cli_featvis.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "model/npy.h"
#include "render/figure_renderer.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>

namespace fs::app {
namespace {
namespace fa = fs::analysis;

// Computes the model's effective receptive fields at the taps with the progress on stderr, appends
// them to `maps` and returns the wall seconds.
double erfCompute(fa::LoadedModel& model, const std::vector<std::string>& taps, const fa::ImageSource& source,
                  int batch, std::vector<std::vector<fa::ErfMap>>& maps) {
  const auto t0 = std::chrono::steady_clock::now();
  maps.push_back(fa::effectiveReceptiveFields(model, taps, source, batch, [&](int64_t done, int64_t total) {
    std::cerr << "erf " << model.config.id << ": " << done << "/" << total << " images\r" << std::flush;
    return true;
  }));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << "\n";
  return seconds;
}

// Writes one NPY per map beside the figure, prints each map's radii and returns the manifest's tap list.
nlohmann::json erfWriteMaps(const std::vector<fa::ErfMap>& modelMaps, const std::string& stem,
                            const std::string& key) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : modelMaps) {
    const std::string npy = stem + "." + key + "." + e.tap + ".npy";
    fs::model::writeNpy(npy, e.map);
    list.push_back({{"tap", e.tap},
                    {"npy", std::filesystem::path(npy).filename().string()},
                    {"centre_cell", {e.cellY, e.cellX}},
                    {"centre_px", {e.centreY, e.centreX}},
                    {"theoretical_rf", {{"global", e.rf.global}, {"size", e.rf.size}, {"jump", e.rf.jump},
                                        {"start", e.rf.start}}},
                    {"radius50_px", e.radius50},
                    {"radius90_px", e.radius90}});
    std::cout << std::fixed << std::setprecision(2) << key << " " << e.tap << ": TRF "
              << (e.rf.global ? std::string("global") : std::to_string(e.rf.size) + " px") << ", r50 " << e.radius50
              << " px, r90 " << e.radius90 << " px\n";
  }
  return list;
}

// The model's entry in the manifest.
nlohmann::json erfModelEntry(const fa::LoadedModel& model, double seconds, const nlohmann::json& list) {
  return {{"model", model.config.id}, {"weights", model.weightsPath},
          {"weights_sha256", weightsFingerprint(model)}, {"seconds", seconds}, {"taps", list}};
}

// Writes the manifest beside the figure: the images, the figure's file name, the library versions and the models.
void erfWriteManifest(const std::string& stem, const std::string& out, const fa::ImageSource& source,
                      const nlohmann::json& models) {
  const nlohmann::json manifest = {{"tool", "featurescope-cli erf"},
                                   {"images", source.description},
                                   {"image_count", source.count},
                                   {"images_sha256", source.contentHash},
                                   {"figure", std::filesystem::path(out).filename().string()},
                                   {"versions", fa::libraryVersions()},
                                   {"models", models}};
  fs::model::writeFileAtomically(stem + ".manifest.json", manifest.dump(2) + "\n");
}

int runErf(const Args& a) {
  if (!a.has("--out")) throw fs::model::UsageError("erf: --out FIG.png|.pdf|.svg is required");
  const std::string out = a.value("--out");
  fs::render::figureFormatForPath(out);
  fs::model::createFoldersFor(out);
  const double dpi = a.doubleValue("--dpi", fs::render::kDefaultDpi, fs::render::kMinDpi, fs::render::kMaxDpi);
  const int batch = a.intValue("--batch", 8, 1, 4096);
  const fa::ImageSource source = imageSourceFromArgs(a, "erf", 32);
  const std::vector<std::string> chosen = tapList(a);
  const std::string stem = outputStem(out);
  std::vector<std::string> names;
  std::vector<std::vector<fa::ErfMap>> maps;
  nlohmann::json models = nlohmann::json::array();
  for (const auto& arg : a.positional) {
    const fa::ModelSpec spec = fa::parseModelSpec(arg);
    fa::LoadedModel model = fa::loadModel(spec.idOrConfig, spec.weights, featvisSeed(a));
    const auto taps = chosen.empty() ? model.net->stages() : chosen;
    const double seconds = erfCompute(model, taps, source, batch, maps);
    names.push_back(fa::modelDisplayName(model));
    const std::string key = fa::modelShortId(spec.idOrConfig);
    const nlohmann::json list = erfWriteMaps(maps.back(), stem, key);
    std::cout << key << ": " << fs::analysis::counted(source.count, "image") << " in " << std::setprecision(2)
              << seconds << " s\n";
    models.push_back(erfModelEntry(model, seconds, list));
  }
  const std::string rendered = renderFigure(fa::erfFigure(names, maps, source.description), out, dpi);
  erfWriteManifest(stem, out, source, models);
  std::cout << rendered << "; maps in " << stem << ".*.npy, manifest " << stem << ".manifest.json\n";
  return 0;
}

const CommandRegistrar kErf{
    {"erf",
     "erf MODEL[:WEIGHTS]... (--dataset fashion-mnist [--dataset-dir D] | --images DIR) [--limit 32]\n"
     "    [--taps T1,T2,...] [--batch 8] [--dpi 300] --out FIG.png|.pdf|.svg\n"
     "  Effective receptive fields (Luo et al. 2016) at each model's stages (or the taps given): the mean\n"
     "  |gradient| of the centre position's activation (summed over channels) at the input, over the\n"
     "  first --limit images; the theoretical receptive field drawn on it and the radii holding 50% and\n"
     "  90% of the mass. Rows = models, columns = stages. Beside FIG: one NPY per map and a manifest.",
     {{"--out", "--dataset", "--dataset-dir", "--images", "--limit", "--taps", "--batch", "--dpi"}, {}, 1, -1},
     runErf}};

}  // namespace
}  // namespace fs::app
