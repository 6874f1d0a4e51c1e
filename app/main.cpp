// featurescope: the desktop app. Parses the few GUI options, refuses politely without a display,
// and opens the main window on the bundled demo (or renders it to a file with --screenshot).
#include "analysis/versions.h"
#include "app/process_setup.h"
#include "model/threads.h"
#include "ui/analysis_session.h"
#include "ui/main_window.h"
#include "ui/settings_keys.h"

#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTimer>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: featurescope [--screenshot FILE [--view compare|features|saliency|stats]] [--version]\n"
               "  Opens the FeatureScope window on the bundled demo (three models side by side).\n"
               "  --screenshot FILE  render the window offscreen once the analysis completes, save it, exit\n"
               "  --view NAME        the view to show in the screenshot (default compare)\n");
}

bool displayAvailable() {
  return std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY") || std::getenv("QT_QPA_PLATFORM");
}

}  // namespace

int main(int argc, char** argv) {
  fs::app::ensureOpenMpWaitPolicy(argv);
  fs::app::keepFreedMemoryForReuse();
  // LibTorch starts with one intra-op thread per physical core it sees (one on these 2-vCPU
  // machines); the worker thread picks up this setting (README "Threads").
  fs::model::configureThreads(0);
  std::string screenshot, view = "compare";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--version") {
      std::printf("featurescope %s (%s, Qt %s)\n", FS_VERSION, fs::analysis::libraryVersions().c_str(), qVersion());
      return 0;
    } else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (a == "--screenshot" && i + 1 < argc) {
      screenshot = argv[++i];
    } else if (a == "--view" && i + 1 < argc) {
      view = argv[++i];
    } else {
      std::fprintf(stderr, "featurescope: unknown or incomplete option '%s'\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }
  if (view != "compare" && view != "features" && view != "saliency" && view != "stats") {
    std::fprintf(stderr, "featurescope: unknown view '%s' (compare, features, saliency, stats)\n", view.c_str());
    return 2;
  }
  if (!displayAvailable()) {
    if (screenshot.empty()) {
      std::fprintf(stderr,
                   "featurescope: no display available (DISPLAY and WAYLAND_DISPLAY are unset).\n"
                   "Run it under a virtual display:   xvfb-run -a featurescope\n"
                   "or render a screenshot headlessly: QT_QPA_PLATFORM=offscreen featurescope --screenshot shot.png\n"
                   "The command-line tool featurescope-cli needs no display.\n");
      return 1;
    }
    qputenv("QT_QPA_PLATFORM", "offscreen");  // a screenshot needs no display
  }

  // A screenshot shows the default layout, not the user's saved one.
  if (!screenshot.empty()) QStandardPaths::setTestModeEnabled(true);
  QApplication app(argc, argv);
  QCoreApplication::setOrganizationName(QLatin1String(fs::ui::kOrganisationName));
  QCoreApplication::setOrganizationDomain(QLatin1String(fs::ui::kOrganisationDomain));
  QCoreApplication::setApplicationName(QLatin1String(fs::ui::kApplicationName));
  QCoreApplication::setApplicationVersion(QStringLiteral(FS_VERSION));
  QGuiApplication::setDesktopFileName(QLatin1String(fs::ui::kAppId));

  fs::ui::MainWindow window;
  if (!screenshot.empty()) window.resize(1600, 940);
  window.show();
  window.openDemo(/*restoreSlots=*/screenshot.empty());
  if (screenshot.empty()) return app.exec();

  const QString viewName = QString::fromStdString(view);
  if (!window.showView(viewName)) {
    std::fprintf(stderr, "featurescope: the %s view is not available in this build\n", view.c_str());
    return 2;
  }
  const QString out = QString::fromStdString(screenshot);
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
