#include "ui/launch_options.h"

#include "service/types.h"
#include "model/errors.h"
#include "ui/input_panel.h"
#include "ui/model_slots_panel.h"
#include "ui/workspace.h"
#include "service/image_source.h"
#include "service/model_slots.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>

namespace fs::ui {

const QStringList& viewNames() {
  static const QStringList names{QStringLiteral("compare"), QStringLiteral("features"), QStringLiteral("saliency"),
                                 QStringLiteral("attention"), QStringLiteral("stats"),
                                 QStringLiteral("evaluate")};
  return names;
}


using fs::model::InputError;
using fs::model::UsageError;

namespace {

std::string str(const QString& s) { return s.toStdString(); }

bool hasSuffix(const QFileInfo& info, const QStringList& patterns) {
  return patterns.contains(QStringLiteral("*.") + info.suffix().toLower());
}

void checkModel(const fs::analysis::ModelSpec& m) {
  const auto ids = fs::service::ModelSlots::registeredIds();
  const QFileInfo config(QString::fromStdString(m.idOrConfig));
  if (std::find(ids.begin(), ids.end(), m.idOrConfig) == ids.end() && !config.isFile())
    throw InputError("--model " + m.idOrConfig +
                     ": not a registered model id (featurescope-cli models lists them) and no such JSON config file");
  if (!m.idOrConfig.empty() && config.isFile() && !config.isReadable())
    throw InputError(m.idOrConfig + ": cannot read the JSON config (permission denied)");
  if (m.weights.empty()) return;
  const QFileInfo w(QString::fromStdString(m.weights));
  if (!w.exists()) throw InputError(m.weights + ": no such checkpoint file (--model " + m.idOrConfig + ")");
  if (!w.isFile() || !w.isReadable()) throw InputError(m.weights + ": not a readable checkpoint file");
}

}  // namespace

std::string launchUsage() {
  return "usage: featurescope [FILE...] [--model ID[:WEIGHTS]]... [--screenshot PNG [--view VIEW]]\n"
         "\n"
         "Opens the FeatureScope window: each FILE is an image (png, jpg, jpeg, bmp, tif, tiff, webp), a\n"
         "folder of images or a .featurescope workspace. Several images fill the image strip. Without FILE\n"
         "the bundled demo image opens; without --model the last session's models, else the demo models.\n"
         "\n"
         "  --model ID[:WEIGHTS]  load a model into the next slot (up to 4): a registered id or a JSON\n"
         "                        config, optionally a checkpoint (.safetensors, .pth)\n"
         "  --view VIEW           the view to show: compare, features, saliency, attention, stats\n"
         "                        or evaluate\n"
         "  --screenshot PNG      render the window offscreen once the analysis completes, save it, exit\n"
         "  --help                print this help and exit\n"
         "  --version             print the version and exit\n"
         "\n"
         "Exit codes: 0 ok, 1 no display, 2 usage error, 3 bad input (a missing or unreadable file, a\n"
         "corrupt image, a malformed workspace, an unknown model id). featurescope-cli needs no display.\n";
}

LaunchOptions parseLaunchOptions(const std::vector<std::string>& args) {
  LaunchOptions o;
  o.view.clear();
  for (const std::string& a : args) {  // --help and --version win over everything else
    if (a == "--") break;
    o.help = o.help || a == "-h" || a == "--help";
    o.version = o.version || a == "--version";
  }
  if (o.help || o.version) return o;
  bool optionsEnded = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (optionsEnded || a.empty() || a[0] != '-' || a == "-") {
      o.files << QString::fromStdString(a);
      continue;
    }
    if (a == "--") {
      optionsEnded = true;
      continue;
    }
    std::string value;
    if (const auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (a == "--model" || a == "--screenshot" || a == "--view") {
      if (i + 1 >= args.size()) throw UsageError("option " + a + " needs a value");
      value = args[++i];
    }
    if (a == "--model") o.models.push_back(fs::analysis::parseModelSpec(value));
    else if (a == "--screenshot") o.screenshot = QString::fromStdString(value);
    else if (a == "--view") o.view = QString::fromStdString(value);
    else throw UsageError("unknown option '" + args[i] + "' (see featurescope --help)");
  }
  if (!o.view.isEmpty() && !viewNames().contains(o.view))
    throw UsageError("unknown view '" + str(o.view) + "' (" + str(viewNames().join(QStringLiteral(", "))) + ")");
  if (o.models.size() > size_t(fs::service::kMaxSlots))
    throw UsageError(std::to_string(o.models.size()) + " --model options, but there are only " +
                     std::to_string(fs::service::kMaxSlots) + " model slots");
  return o;
}

LaunchPlan planLaunch(const LaunchOptions& options) {
  LaunchPlan plan;
  plan.models = options.models;
  QStringList workspaces, folders;
  for (const QString& f : options.files) {
    const QFileInfo info(f);
    if (!info.exists()) throw InputError(str(f) + ": no such file or folder");
    if (info.isDir()) folders << info.absoluteFilePath();
    else if (info.suffix() == QLatin1String(kWorkspaceSuffix)) workspaces << info.absoluteFilePath();
    else if (hasSuffix(info, InputPanel::imageFilters())) plan.images << info.absoluteFilePath();
    else if (ModelSlotsPanel::isCheckpoint(f))
      throw UsageError(str(f) + ": a checkpoint, not an image; load it into a model slot with --model ID:" + str(f));
    else
      throw InputError(str(f) + ": not an image (png, jpg, jpeg, bmp, tif, tiff, webp), a folder or a ." +
                       kWorkspaceSuffix + " workspace");
  }
  if (workspaces.size() > 1 || (!workspaces.isEmpty() && (!folders.isEmpty() || !plan.images.isEmpty())))
    throw UsageError("a workspace opens on its own (no other FILE with it)");
  if (!workspaces.isEmpty() && !plan.models.empty())
    throw UsageError("a workspace brings its own models (no --model with it)");
  if (folders.size() > 1 || (!folders.isEmpty() && !plan.images.isEmpty()))
    throw UsageError("give one folder, or images, not both");

  if (!workspaces.isEmpty()) {
    try {
      readWorkspace(workspaces.front());  // malformed: refused before the window opens
    } catch (const WorkspaceError& e) {
      throw InputError(e.what());
    }
    plan.workspace = workspaces.front();
  }
  if (!folders.isEmpty()) {
    const QDir dir(folders.front());
    if (!QFileInfo(folders.front()).isReadable()) throw InputError(str(folders.front()) + ": cannot read the folder");
    if (dir.entryList(InputPanel::imageFilters(), QDir::Files).isEmpty())
      throw InputError(str(folders.front()) + ": no images (png, jpg, jpeg, bmp, tif, tiff, webp) in this folder");
    plan.folder = folders.front();
  }
  for (const QString& image : plan.images) fs::service::loadImageFile(str(image));  // InputError
  for (const auto& m : plan.models) checkModel(m);
  return plan;
}

}  // namespace fs::ui
