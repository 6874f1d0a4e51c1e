// Helpers of the feature-visualisation commands (app/cli_featvis.h).
#include "app/cli_featvis.h"

#include "analysis/fashion_mnist.h"
#include "analysis/sha256.h"
#include "model/errors.h"
#include "render/figure_renderer.h"

#include <QGuiApplication>

#include <filesystem>
#include <memory>
#include <sstream>

namespace fs::app {

uint64_t featvisSeed(const Args& a) { return static_cast<uint64_t>(a.intValue("--seed", 0, 0, 2147483647)); }

fs::analysis::ImageSource imageSourceFromArgs(const Args& a, const std::string& command, int defaultLimit) {
  const int limit = a.intValue("--limit", defaultLimit, 0, 100000000);
  if (a.has("--dataset") == a.has("--images"))
    throw fs::model::UsageError(command + ": give exactly one of --dataset fashion-mnist or --images DIR");
  if (a.has("--images")) return fs::analysis::imageFolderSource(a.value("--images"), limit);
  if (a.value("--dataset") != "fashion-mnist")
    throw fs::model::UsageError(command + ": unknown --dataset '" + a.value("--dataset") + "' (valid: fashion-mnist)");
  return fs::analysis::fashionMnistSource(a.value("--dataset-dir", fs::analysis::defaultFashionMnistDir()), limit);
}

std::vector<std::string> tapList(const Args& a) {
  std::vector<std::string> taps;
  for (const auto& v : a.all("--taps"))
    for (const auto& t : splitList(v)) taps.push_back(t);
  return taps;
}

std::string weightsFingerprint(const fs::analysis::LoadedModel& m) {
  if (m.weightsPath.empty()) return "random-init-seed-" + std::to_string(m.seed);
  return fs::analysis::sha256File(m.weightsPath);
}

std::string outputStem(const std::string& out) {
  const std::filesystem::path p(out);
  return (p.parent_path() / p.stem()).string();
}

std::string renderFigure(fs::analysis::FigureLayout layout, const std::string& out, double dpi) {
  std::unique_ptr<QGuiApplication> app;
  if (!QGuiApplication::instance()) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    static int argc = 1;
    static char name[] = "featurescope-cli";
    static char* argv[] = {name, nullptr};
    app = std::make_unique<QGuiApplication>(argc, argv);
  }
  const fs::render::FigureRenderer renderer(std::move(layout));
  renderer.write(out, dpi);
  std::ostringstream s;
  s << "wrote " << out << " (" << renderer.sizePoints().width() << " x " << renderer.sizePoints().height() << " pt)";
  return s.str();
}

}  // namespace fs::app
