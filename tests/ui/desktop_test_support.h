#pragma once
// Shared by the desktop-integration and workspace tests: sample paths, waiting for the session,
// small files, fresh windows, and a readable Workspace in failure messages.
#include "ui/analysis_session.h"
#include "ui/launch_options.h"
#include "ui/main_window.h"
#include "ui/workspace.h"

#include <QFile>
#include <QTest>

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace fs::ui {
// Readable failures: gtest prints a Workspace with this.
inline void PrintTo(const Workspace& ws, std::ostream* os) {
  *os << "{image " << ws.image.toStdString() << ", folder " << ws.folder.toStdString() << ", view "
      << ws.view.toStdString() << ", slots";
  for (const WorkspaceSlot& s : ws.slots)
    *os << " [" << s.model.toStdString() << " " << s.weights.toStdString() << " " << s.sha256.left(8).toStdString() << "]";
  *os << ", display " << ws.colormap.toStdString() << "/" << ws.sign.toStdString() << "/" << ws.norm.toStdString() << "/"
      << ws.clipPercentile << "/" << ws.alpha << ", compare " << ws.compareChannels << "/"
      << ws.compareRank.toStdString() << "/" << ws.compareMethod.toStdString() << ", saliency "
      << ws.saliencyMethods.join(QLatin1Char(',')).toStdString() << " target '" << ws.saliencyTarget.toStdString()
      << "' tap '" << ws.tap.toStdString() << "' " << ws.parameters.samples << "/" << ws.parameters.sigma << "/"
      << ws.parameters.steps << "/" << ws.parameters.baseline << "/" << ws.parameters.window << "/"
      << ws.parameters.stride << "}";
}
}  // namespace fs::ui

namespace fs::ui::test {

inline constexpr int kWaitMs = 180000;

inline QString source(const char* rel) { return QStringLiteral(FS_SOURCE_DIR "/") + QLatin1String(rel); }
inline QString sample(const char* name) { return source("resources/samples/") + QLatin1String(name); }

// One event-loop turn first, so that a request queued just before has started.
inline bool waitIdle(AnalysisSession* s, int ms = kWaitMs) {
  QTest::qWait(1);
  return QTest::qWaitFor([s] { return !s->busy(); }, ms);
}

inline void writeFile(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  ASSERT_TRUE(f.open(QIODevice::WriteOnly)) << path.toStdString();
  f.write(bytes);
}

inline LaunchOptions parse(std::vector<std::string> args) { return parseLaunchOptions(args); }

inline std::vector<std::string> slotIds(AnalysisSession* s) {
  std::vector<std::string> out;
  for (int i : s->loadedSlots()) out.push_back(s->slot(i).info.modelId);
  return out;
}

inline std::unique_ptr<MainWindow> newWindow() {
  auto w = std::make_unique<MainWindow>();
  w->show();
  EXPECT_TRUE(QTest::qWaitForWindowExposed(w.get()));
  return w;
}

}  // namespace fs::ui::test
