// scorecard-figure: the figure of one or more evaluate scorecards (per model x method and metric the
// mean and bootstrap 95% CI; the agreement matrices), with a manifest; also behind evaluate --figure.
#include "app/cli_scorecard_figure.h"

#include "app/cli_commands.h"
#include "model/errors.h"
#include "render/figure_renderer.h"
#include "render/scorecard_figure_file.h"

#include <QGuiApplication>

#include <iostream>
#include <memory>

namespace fs::app {
namespace fa = fs::analysis;

namespace {
// A QGuiApplication for the fonts while a figure is drawn, when none exists (offscreen unless the
// caller chose a platform); null when one exists.
std::unique_ptr<QGuiApplication> fontsApplication() {
  if (QGuiApplication::instance()) return nullptr;
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static int argc = 1;
  static char name[] = "featurescope-cli", *argv[] = {name, nullptr};
  return std::make_unique<QGuiApplication>(argc, argv);
}
}  // namespace

std::string writeFigure(const fa::FigureLayout& layout, const std::string& out, double dpi) {
  const auto app = fontsApplication();
  const fs::render::FigureRenderer renderer(layout);
  renderer.write(out, dpi);
  const QSizeF pt = renderer.sizePoints();
  return std::to_string(int(pt.width())) + " x " + std::to_string(int(pt.height())) + " pt";
}

std::string writeScorecardFigure(const std::vector<std::string>& scorecards, const std::string& out, double dpi,
                                 const std::string& title) {
  const auto app = fontsApplication();
  return fs::render::writeScorecardFigure(scorecards, out, dpi, title, "featurescope-cli scorecard-figure");
}

namespace {

int runScorecardFigure(const Args& a) {
  if (!a.has("--out")) throw fs::model::UsageError("scorecard-figure: --out FIG.png|.pdf|.svg is required");
  const double dpi = a.doubleValue("--dpi", fs::render::kDefaultDpi, fs::render::kMinDpi, fs::render::kMaxDpi);
  std::cout << writeScorecardFigure(a.positional, a.value("--out"), dpi, a.value("--title", "Saliency scorecard"))
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
