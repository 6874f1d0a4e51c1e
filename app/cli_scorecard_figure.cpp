// scorecard-figure: the figure of one or more evaluate scorecards (per model x method and metric the
// mean and bootstrap 95% CI; the agreement matrices), with a manifest; also behind evaluate --figure.
#include "app/cli_scorecard_figure.h"

#include "analysis/scorecard_figure.h"
#include "analysis/sha256.h"
#include "app/cli_commands.h"
#include "model/atomic_file.h"
#include "model/errors.h"
#include "render/figure_renderer.h"

#include <QGuiApplication>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace fs::app {
namespace fa = fs::analysis;
using nlohmann::json;

std::string writeFigure(const fa::FigureLayout& layout, const std::string& out, double dpi) {
  std::unique_ptr<QGuiApplication> app;
  if (!QGuiApplication::instance()) {  // fonts; offscreen unless the caller chose a platform
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    static int argc = 1;
    static char name[] = "featurescope-cli", *argv[] = {name, nullptr};
    app = std::make_unique<QGuiApplication>(argc, argv);
  }
  const fs::render::FigureRenderer renderer(layout);
  renderer.write(out, dpi);
  const QSizeF pt = renderer.sizePoints();
  return std::to_string(int(pt.width())) + " x " + std::to_string(int(pt.height())) + " pt";
}

std::string writeScorecardFigure(const std::vector<std::string>& scorecards, const std::string& out, double dpi,
                                 const std::string& title) {
  fs::render::figureFormatForPath(out);  // InputError for an unknown extension, before any work
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
    json e{{"scorecard", path}, {"scorecard_sha256", fa::sha256Hex(text.str())}};
    for (const char* k : {"methods", "metrics", "method_parameters", "steps", "baseline", "sanity_seed", "target",
                          "images_dir", "dataset", "limit", "images_total", "summary"})
      if (doc.contains(k)) e[k] = doc[k];
    e["model"] = {{"id", doc["model"].value("id", "")}, {"family", doc["model"].value("family", "")},
                  {"weights", doc["model"].value("weights", json(nullptr))},
                  {"weights_sha256", doc["model"].value("weights_sha256", json(nullptr))},
                  {"seed", doc["model"].value("seed", json(nullptr))}};
    entries.push_back(e);
  }
  const fa::FigureLayout layout = fa::buildScorecardFigure(inputs, title);
  const std::string size = writeFigure(layout, out, dpi);
  const std::filesystem::path p(out);
  const std::string manifest = (p.parent_path() / (p.stem().string() + ".manifest.json")).string();
  const json m{{"tool", "featurescope-cli scorecard-figure"}, {"version", FS_VERSION}, {"figure", out},
               {"figure_sha256", fa::sha256File(out)}, {"dpi", dpi}, {"title", title}, {"scorecards", entries},
               {"statistics", "mean over the done images, percentile bootstrap 95% CI (1000 resamples seeded by the "
                              "scorecard's sanity_seed), rank per metric (1 = best), Kendall's tau-b agreement"}};
  fs::model::writeFileAtomically(manifest, m.dump(2) + "\n");
  return "wrote " + out + " (" + size + ") and " + manifest;
}

namespace {

int runScorecardFigure(const Args& a) {
  if (!a.has("--out")) throw fs::model::UsageError("scorecard-figure: --out FIG.png|.pdf|.svg is required");
  std::cout << writeScorecardFigure(a.positional, a.value("--out"), a.doubleValue("--dpi", 300, 10, 1200),
                                    a.value("--title", "Saliency scorecard"))
            << "\n";
  return 0;
}

const CommandRegistrar kScorecardFigure{
    {"scorecard-figure",
     "scorecard-figure SCORECARD.json... --out FIG.png|.pdf|.svg [--dpi N] [--title T]\n"
     "  The figure of evaluate scorecards (evaluate --out FILE.json, or merge's FILE.json): one row per model x\n"
     "  method, one column per metric, each cell the mean (dot, coloured on the column's scale) and the bootstrap\n"
     "  95% CI (line) with the numbers and the rank; then per model the agreement matrix (Kendall's tau-b\n"
     "  between the metrics' method rankings). Writes FIG_STEM.manifest.json beside: each scorecard's SHA-256,\n"
     "  the models' weights SHA-256, methods, method parameters, curve settings and seed. PNG at --dpi\n"
     "  (default 300). evaluate --figure FIG does the same at the end of a run.",
     {{"--out", "--dpi", "--title"}, {}, 1, -1},
     runScorecardFigure}};

}  // namespace
}  // namespace fs::app
