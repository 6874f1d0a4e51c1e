// figure: the ConvMLP paper's stage-wise feature-map figure for several models, rendered to
// PNG/PDF/SVG. The only command that needs Qt (fonts, painting); it runs headless ("offscreen").
#include "analysis/batch_export.h"
#include "analysis/figure_layout.h"
#include "analysis/image_io.h"
#include "analysis/model_loader.h"
#include "app/cli_commands.h"
#include "app/cli_input.h"
#include "model/errors.h"
#include "render/figure_renderer.h"

#include <QGuiApplication>

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace fs::app {
namespace {
namespace fa = fs::analysis;
using fs::model::UsageError;

std::vector<std::vector<std::string>> stageLists(const Args& a) {
  std::vector<std::vector<std::string>> lists;
  for (const auto& value : a.all("--stages")) {
    if (value == "auto") continue;
    std::vector<std::string> taps;
    std::stringstream in(value);
    for (std::string t; std::getline(in, t, ',');)
      if (!t.empty()) taps.push_back(t);
    if (taps.empty()) throw UsageError("figure: --stages expects auto or T1,T2,...");
    lists.push_back(taps);
  }
  return lists;
}

fa::FeatureFigureOptions figureOptions(const Args& a) {
  fa::FeatureFigureOptions o;
  o.stages = stageLists(a);
  o.channels = a.intValue("--channels", 12, 1, 256);
  o.rank = a.value("--rank", "first");
  o.norm = a.value("--norm", "channel");
  o.colormap = a.value("--colormap", "gray");
  o.saliency = a.value("--saliency");
  o.saliencyParameters = saliencyOptionsFromArgs(a, "figure");  // the same method options as saliency/export
  o.title = a.value("--title");
  o.imageName = std::filesystem::path(a.value("--image")).filename().string();
  if (o.rank != "first" && o.rank != "mean" && o.rank != "max" && o.rank != "contribution")
    throw UsageError("figure: unknown --rank '" + o.rank + "' (valid: first, mean, max, contribution)");
  if (o.norm != "channel" && o.norm != "tap" && o.norm != "shared")
    throw UsageError("figure: unknown --norm '" + o.norm + "' (valid: channel, tap, shared)");
  return o;
}

struct Stopwatch {
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last).count();
    last = now;
    return s;
  }
};

// Qt needs an application object for fonts; headless unless the caller chose a platform.
std::unique_ptr<QGuiApplication> headlessApplication() {
  if (QGuiApplication::instance()) return nullptr;
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static int argc = 1;
  static char name[] = "featurescope-cli";
  static char* argv[] = {name, nullptr};
  return std::make_unique<QGuiApplication>(argc, argv);
}

int runFigure(const Args& a) {
  const auto specs = a.all("--model");
  if (specs.empty()) throw UsageError("figure: give at least one --model ID[:WEIGHTS]");
  if (!a.has("--image") || !a.has("--out")) throw UsageError("figure: --image F and --out FILE are required");
  const std::string out = a.value("--out");
  fs::render::figureFormatForPath(out);
  const double dpi = a.doubleValue("--dpi", fs::render::kDefaultDpi, fs::render::kMinDpi, fs::render::kMaxDpi);
  const fa::FeatureFigureOptions options = figureOptions(a);
  const auto seed = static_cast<uint64_t>(a.intValue("--seed", 0, 0, 2147483647));
  Stopwatch clock;
  const cv::Mat image = fa::loadImageRgb(a.value("--image"));
  std::vector<fa::LoadedModel> models;
  for (const auto& s : specs) {
    const fa::ModelSpec spec = fa::parseModelSpec(s);
    models.push_back(fa::loadModel(spec.idOrConfig, spec.weights, seed));
  }
  const double loadS = clock.lap();
  std::vector<fa::LoadedModel*> pointers;
  for (auto& m : models) pointers.push_back(&m);
  fa::FigureLayout layout = fa::buildFeatureFigure(pointers, image, options);
  const double computeS = clock.lap();
  const auto app = headlessApplication();
  const fs::render::FigureRenderer renderer(std::move(layout));
  renderer.write(out, dpi);
  const QSizeF pt = renderer.sizePoints();
  std::cout << "wrote " << out << " (" << pt.width() << " x " << pt.height() << " pt";
  if (fs::render::figureFormatForPath(out) == fs::render::FigureFormat::Png)
    std::cout << ", " << renderer.pixelSize(dpi).width() << " x " << renderer.pixelSize(dpi).height() << " px at "
              << dpi << " dpi";
  std::cout << std::fixed << std::setprecision(2) << "; load " << loadS << " s, compute " << computeS << " s, render "
            << clock.lap() << " s)\n";
  return 0;
}

Command figureCommand() {
  Command c{"figure",
            "figure --model ID[:WEIGHTS] ... --image F [--stages auto|T1,T2,...] [--channels 12]\n"
            "       [--rank first|mean|max|contribution] [--saliency M [method options]] [--colormap N]\n"
            "       [--norm channel|tap|shared] [--dpi N] [--title T] --out FILE.png|.pdf|.svg\n"
            "  The ConvMLP paper's feature-map figure: one row per model, one column per stage (each model's\n"
            "  stages, or the taps given; repeat --stages once per model for per-model taps), the first (or top)\n"
            "  K channels per cell. --norm shared puts all models of a column on one scale with a colour bar;\n"
            "  --saliency adds a column with that method's map (top-1 class, the method options as in\n"
            "  saliency) over the input. PNG at --dpi (default 300).\n" +
                saliencyMethodsHelp(),
            {{"--model", "--image", "--stages", "--channels", "--rank", "--saliency", "--colormap", "--norm", "--dpi",
              "--title", "--out"},
             {},
             0,
             0},
            runFigure};
  for (const std::string& o : saliencyOptionNames())
    if (o != "--tap") c.options.values.insert(o);
  return c;
}

const CommandRegistrar kFigure{figureCommand()};

}  // namespace
}  // namespace fs::app
