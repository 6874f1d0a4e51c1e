// featurescope: the desktop app. Parses and checks the command line (ui/launch_options.h: images,
// a folder or a workspace, --model ID[:WEIGHTS]...) before anything starts, refuses politely
// without a display, and opens the main window on them or on the bundled demo (or renders it to a
// file with --screenshot).
#include "analysis/versions.h"
#include "app/process_setup.h"
#include "model/threads.h"
#include "model/errors.h"
#include "ui/analysis_session.h"
#include "ui/launch_options.h"
#include "ui/main_window.h"
#include "ui/settings_keys.h"

#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTimer>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

bool displayAvailable() {
  return std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY") || std::getenv("QT_QPA_PLATFORM");
}

// Options, files and models are checked before anything starts: --help and --version need no
// display, and a bad file or model id ends here with exit code 2 (usage) or 3 (bad input).
// Returns the exit code when the program ends here, else -1.
int parseCommandLine(int argc, char** argv, fs::ui::LaunchOptions& options, fs::ui::LaunchPlan& plan) {
  try {
    options = fs::ui::parseLaunchOptions(std::vector<std::string>(argv + 1, argv + argc));
    if (options.help) {
      std::fputs(fs::ui::launchUsage().c_str(), stdout);
      return 0;
    }
    if (options.version) {
      std::printf("featurescope %s (%s, Qt %s)\n", FS_VERSION, fs::analysis::libraryVersions().c_str(), qVersion());
      return 0;
    }
    plan = fs::ui::planLaunch(options);
  } catch (const fs::model::UsageError& e) {
    std::fprintf(stderr, "featurescope: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "featurescope: %s\n", e.what());
    return 3;
  }
  return -1;
}

// Without a display a window cannot open: a screenshot renders offscreen, anything else is refused.
bool prepareDisplay(bool screenshot) {
  if (displayAvailable()) return true;
  if (!screenshot) {
    std::fprintf(stderr,
                 "featurescope: no display available (DISPLAY and WAYLAND_DISPLAY are unset).\n"
                 "Run it under a virtual display:   xvfb-run -a featurescope\n"
                 "or render a screenshot headlessly: QT_QPA_PLATFORM=offscreen featurescope --screenshot shot.png\n"
                 "The command-line tool featurescope-cli needs no display.\n");
    return false;
  }
  qputenv("QT_QPA_PLATFORM", "offscreen");  // a screenshot needs no display
  return true;
}

// The names QSettings, the desktop file and the metainfo share (ui/settings_keys.h).
void setApplicationIdentity() {
  QCoreApplication::setOrganizationName(QLatin1String(fs::ui::kOrganisationName));
  QCoreApplication::setOrganizationDomain(QLatin1String(fs::ui::kOrganisationDomain));
  QCoreApplication::setApplicationName(QLatin1String(fs::ui::kApplicationName));
  QCoreApplication::setApplicationVersion(QStringLiteral(FS_VERSION));
  QGuiApplication::setDesktopFileName(QLatin1String(fs::ui::kAppId));
}

// --screenshot: once the session is idle (250 ms without new work), the window is saved to `out`;
// 0 when it was written, 1 otherwise (or after 300 s without the analysis finishing).
int captureWhenIdle(QApplication& app, fs::ui::MainWindow& window, const QString& out) {
  int status = 1;
  auto* session = window.session();
  auto capture = [&] {
    if (session->busy()) return;
    QTimer::singleShot(250, &app, [&] {
      if (session->busy()) return;
      const QPixmap shot = window.grab();
      if (shot.save(out)) {
        std::printf("wrote %s (%dx%d)\n", qPrintable(out), shot.width(), shot.height());
        status = 0;
      } else {
        std::fprintf(stderr, "featurescope: could not write %s\n", qPrintable(out));
      }
      app.quit();
    });
  };
  QObject::connect(session, &fs::ui::AnalysisSession::idle, &app, capture);
  QTimer::singleShot(300000, &app, [&] {
    std::fprintf(stderr, "featurescope: the analysis did not finish within 300 s\n");
    app.quit();
  });
  app.exec();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  fs::app::ensureOpenMpWaitPolicy(argv);  // may re-execute the program: first, before any checks
  fs::ui::LaunchOptions options;
  fs::ui::LaunchPlan plan;
  if (const int exitCode = parseCommandLine(argc, argv, options, plan); exitCode >= 0) return exitCode;
  const std::string screenshot = options.screenshot.toStdString();
  if (!prepareDisplay(!screenshot.empty())) return 1;
  fs::app::keepFreedMemoryForReuse();
  // LibTorch starts with one intra-op thread per physical core it sees (one on these 2-vCPU
  // machines); the worker thread picks up this setting (README "Threads").
  fs::model::configureThreads(0);

  // A screenshot shows the default layout, not the user's saved one.
  if (!screenshot.empty()) QStandardPaths::setTestModeEnabled(true);
  QApplication app(argc, argv);
  setApplicationIdentity();
  if (!screenshot.empty()) {  // the test-mode settings may hold a layout from an earlier run
    QSettings settings;
    settings.remove(QLatin1String(fs::ui::keys::kGeometry.name));
    settings.remove(QLatin1String(fs::ui::keys::kState.name));
  }
  fs::ui::MainWindow window;
  if (!screenshot.empty()) window.resize(1600, 940);
  window.show();
  window.openLaunch(plan, /*restoreSlots=*/screenshot.empty());
  // --view chooses the view (a workspace brings its own; the screenshot's default is compare).
  const QString viewName = !options.view.isEmpty() ? options.view
                           : screenshot.empty() || !plan.workspace.isEmpty() ? QString()
                                                                             : QStringLiteral("compare");
  if (!viewName.isEmpty() && !window.showView(viewName)) {
    std::fprintf(stderr, "featurescope: the %s view is not available in this build\n", qPrintable(viewName));
    return 2;
  }
  if (screenshot.empty()) return app.exec();
  return captureWhenIdle(app, window, QString::fromStdString(screenshot));
}
