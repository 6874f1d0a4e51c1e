// atlas: the weights atlas of one model (analysis/features/weights_atlas.h) as a figure, one NPY
// per panel with the exact parameter values, and a manifest that says where each value came from.
#include "analysis/features/weights_atlas.h"
#include "analysis/versions.h"
#include "app/cli_commands.h"
#include "app/cli_featvis.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "model/npy.h"
#include "render/figure_renderer.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

namespace fs::app {
namespace {
namespace fa = fs::analysis;

int runAtlas(const Args& a) {
  if (!a.has("--out")) throw fs::model::UsageError("atlas: --out FIG.png|.pdf|.svg is required");
  const std::string out = a.value("--out");
  fs::render::figureFormatForPath(out);  // InputError for an unknown extension, before any work
  fs::model::createFoldersFor(out);
  const int maxTiles = a.intValue("--max-tiles", 64, 1, 4096);
  const double dpi = a.doubleValue("--dpi", fs::render::kDefaultDpi, fs::render::kMinDpi, fs::render::kMaxDpi);
  const fa::LoadedModel model = fa::loadModel(a.positional[0], a.value("--weights"), featvisSeed(a));
  const std::vector<fa::AtlasPanel> panels = fa::weightsAtlas(model);
  const std::string stem = outputStem(out);
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < panels.size(); ++i) {
    const auto& p = panels[i];
    const std::string npy = stem + ".panel" + std::to_string(i) + ".npy";
    fs::model::writeNpy(npy, p.values);
    list.push_back({{"title", p.title},
                    {"parameter", p.parameter},
                    {"kind", fa::atlasKindName(p.kind)},
                    {"npy", std::filesystem::path(npy).filename().string()},
                    {"shape", p.values.sizes().vec()},
                    {"order", p.order},
                    {"grid_side", p.gridSide}});
  }
  const std::string rendered = renderFigure(fa::atlasFigure(model, panels, maxTiles), out, dpi);
  const nlohmann::json manifest = {{"tool", "featurescope-cli atlas"},
                                   {"model", model.config.id},
                                   {"family", model.config.family},
                                   {"weights", model.weightsPath},
                                   {"weights_sha256", weightsFingerprint(model)},
                                   {"figure", std::filesystem::path(out).filename().string()},
                                   {"max_tiles", maxTiles},
                                   {"versions", fa::libraryVersions()},
                                   {"panels", list}};
  fs::model::writeFileAtomically(stem + ".manifest.json", manifest.dump(2) + "\n");
  std::cout << rendered << "; " << panels.size() << " panels, values in " << stem << ".panel*.npy, manifest "
            << stem << ".manifest.json\n";
  return 0;
}

const CommandRegistrar kAtlas{
    {"atlas",
     "atlas MODEL [--weights F] [--max-tiles 64] [--dpi 300] --out FIG.png|.pdf|.svg\n"
     "  The weights atlas: first-layer filters as RGB tiles (ResNet conv1, the ConvMLP tokenizer's first\n"
     "  convolution), ConvMLP's depthwise 3x3 kernels per block, MLP-Mixer's token-mixing units (first\n"
     "  three blocks, paired by opposite phase and sorted by frequency, Tolstikhin et al. 2021) and\n"
     "  ResMLP's cross-patch rows per block (Touvron et al. 2021). Beside FIG: FIG-stem.panelI.npy (each\n"
     "  panel's exact parameter values, [tiles, C, h, w]) and FIG-stem.manifest.json (parameter names,\n"
     "  tile order, the weights' SHA-256).",
     {{"--weights", "--out", "--max-tiles", "--dpi"}, {}, 1, 1},
     runAtlas}};

}  // namespace
}  // namespace fs::app
