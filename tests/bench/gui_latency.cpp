// GUI latency: the desktop app's main window (offscreen) with three full-size models loaded
// (convmlp_s, resnet50, mixer_b16 by default), then a 451x300 photo opened: the time until every
// compare-view map and the saliency column (Grad-CAM) are there and the worker is idle. The photo
// alternates with its mirror image so each open computes anew; median of N opens.
// usage: gui_latency [N] [MODEL...]   (ONEDNN_MAX_CPU_ISA=AVX2 emulates an AVX2 CPU)
#include "app/process_setup.h"
#include "model/threads.h"
#include "ui/analysis_session.h"
#include "ui/input_panel.h"
#include "ui/main_window.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QImage>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

bool waitUntil(const std::function<bool()>& done, int timeoutMs) {
  QElapsedTimer t;
  t.start();
  while (!done()) {
    if (t.elapsed() > timeoutMs) return false;
    QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    QThread::msleep(1);
  }
  return true;
}

bool complete(fs::ui::AnalysisSession* s, int models) {
  if (s->busy() || s->loadedSlots().size() != models) return false;
  for (int slot : s->loadedSlots()) {
    const auto& st = s->slot(slot);
    if (!st.prediction || !st.stages || !st.compareSaliency) return false;
  }
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  fs::app::ensureOpenMpWaitPolicy(argv);  // as both programs do
  fs::app::keepFreedMemoryForReuse();
  fs::model::configureThreads(0);  // as the desktop app does (app/main.cpp)
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QStandardPaths::setTestModeEnabled(true);
  QApplication app(argc, argv);
  const int opens = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  QStringList ids;
  for (int i = 2; i < argc; ++i) ids << QString::fromLocal8Bit(argv[i]);
  if (ids.isEmpty()) ids = {QStringLiteral("convmlp_s"), QStringLiteral("resnet50"), QStringLiteral("mixer_b16")};

  fs::ui::MainWindow window;
  window.resize(1600, 940);
  window.show();
  auto* session = window.session();
  QElapsedTimer load;
  load.start();
  for (const auto& id : ids) session->addSlot(id);
  if (!waitUntil([&] { return !session->busy() && session->loadedSlots().size() == ids.size(); }, 600000)) {
    std::fprintf(stderr, "gui_latency: the models did not load\n");
    return 1;
  }
  std::printf("models loaded in %lld ms\n", static_cast<long long>(load.elapsed()));

  QTemporaryDir dir;
  const QString photo = QStringLiteral(FS_SOURCE_DIR "/resources/samples/chelsea.png");
  const QString mirrored = dir.filePath(QStringLiteral("chelsea_mirrored.png"));
  QImage(photo).mirrored(true, false).save(mirrored);
  std::vector<double> times;
  for (int i = 0; i < opens + 1; ++i) {  // the first open warms up (primitive caches at this size)
    QElapsedTimer t;
    t.start();
    window.inputPanel()->openFile(i % 2 ? mirrored : photo);  // decoded on the worker
    if (!waitUntil([&] { return complete(session, ids.size()); }, 600000)) {
      std::fprintf(stderr, "gui_latency: the views did not complete\n");
      return 1;
    }
    const double ms = double(t.nsecsElapsed()) / 1e6;
    std::printf("open %d: %.0f ms%s\n", i, ms, i == 0 ? " (warm-up)" : "");
    if (i > 0) times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  std::printf("median %.0f ms over %zu opens (all compare maps + the Grad-CAM column, %lld models)\n",
              times[times.size() / 2], times.size(), static_cast<long long>(ids.size()));
  return 0;
}
