#include "render/scorecard_figure_file.h"

#include "analysis/scorecard_figure.h"
#include "analysis/sha256.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "render/figure_renderer.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs::render {
namespace fa = fs::analysis;
using nlohmann::json;

namespace {
// What the manifest says of one scorecard: its file and SHA-256, the model and the run's settings.
json manifestEntry(const std::string& path, const std::string& text, const json& doc) {
  json e{{"scorecard", path}, {"scorecard_sha256", fa::sha256Hex(text)}};
  for (const char* k : {"methods", "metrics", "method_parameters", "steps", "baseline", "sanity_seed", "target",
                        "images_dir", "dataset", "limit", "images_total", "summary"})
    if (doc.contains(k)) e[k] = doc[k];
  e["model"] = {{"id", doc["model"].value("id", "")}, {"family", doc["model"].value("family", "")},
                {"weights", doc["model"].value("weights", json(nullptr))},
                {"weights_sha256", doc["model"].value("weights_sha256", json(nullptr))},
                {"seed", doc["model"].value("seed", json(nullptr))}};
  return e;
}
}  // namespace

std::string writeScorecardFigure(const std::vector<std::string>& scorecards, const std::string& out, double dpi,
                                 const std::string& title, const std::string& tool) {
  figureFormatForPath(out);  // InputError for an unknown extension, before any work
  std::vector<fa::ScorecardFigureInput> inputs;
  json entries = json::array();
  for (const std::string& path : scorecards) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw fs::model::InputError(path + ": cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    const json doc = json::parse(text.str(), nullptr, false);
    if (!doc.is_object() || !doc.contains("model") || !doc["model"].is_object())
      throw fs::model::InputError(path + ": not an evaluate scorecard");
    inputs.push_back({doc["model"].value("id", path), text.str(), path});
    entries.push_back(manifestEntry(path, text.str(), doc));
  }
  const FigureRenderer renderer(fa::buildScorecardFigure(inputs, title));
  renderer.write(out, dpi);
  const QSizeF pt = renderer.sizePoints();
  const std::filesystem::path p(out);
  const std::string manifest = (p.parent_path() / (p.stem().string() + ".manifest.json")).string();
  const json m{{"tool", tool}, {"version", FS_VERSION}, {"figure", out},
               {"figure_sha256", fa::sha256File(out)}, {"dpi", dpi}, {"title", title}, {"scorecards", entries},
               {"statistics", "mean over the done images, percentile bootstrap 95% CI (1000 resamples seeded by the "
                              "scorecard's sanity_seed), rank per metric (1 = best), Kendall's tau-b agreement"}};
  fs::model::writeFileAtomically(manifest, m.dump(2) + "\n");
  return "wrote " + out + " (" + std::to_string(int(pt.width())) + " x " + std::to_string(int(pt.height())) +
         " pt) and " + manifest;
}

}  // namespace fs::render
