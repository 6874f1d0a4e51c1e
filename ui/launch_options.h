#pragma once
// featurescope's command line: `featurescope [FILE...] [--model ID[:WEIGHTS]]... [--screenshot F
// [--view V]]`. Parsing and checking need no QApplication (so --help and --version work without a
// display), and every file is checked before the window opens: fs::model::UsageError (exit 2)
// for a malformed command line, fs::model::InputError (exit 3) for a missing, unreadable or
// unknown file or model, each naming the file or model and the reason. MainWindow::openLaunch
// then opens the plan. Any thread.
#include "analysis/model_spec.h"

#include <QString>
#include <QStringList>

#include <string>
#include <vector>

namespace fs::ui {

// The views by name (--view, workspaces, MainWindow::showView), in tab order.
const QStringList& viewNames();

struct LaunchOptions {
  bool help = false;
  bool version = false;
  QString screenshot;                            // --screenshot FILE
  QString view = QStringLiteral("compare");      // --view: one of viewNames()
  QStringList files;                             // positional FILE arguments, as given
  std::vector<fs::analysis::ModelSpec> models;   // --model ID[:WEIGHTS], in order
};

// What to open: one workspace, or one folder, or images (several fill the image strip); models
// fill the slots in order (none: the last session's slots, else the demo models).
struct LaunchPlan {
  QString workspace;
  QString folder;
  QStringList images;
  std::vector<fs::analysis::ModelSpec> models;
};

// The --help text (help2man reads it: a usage line, a paragraph, then one line per option).
std::string launchUsage();
// Parses argv[1..] (UsageError). --help and --version win over everything else.
LaunchOptions parseLaunchOptions(const std::vector<std::string>& args);
// Classifies and checks the files and models (InputError / UsageError); absolute paths out.
LaunchPlan planLaunch(const LaunchOptions& options);

}  // namespace fs::ui
