#pragma once
// The inference worker: a QObject moved to its own QThread that owns the SessionService (and so
// every model). GUI-thread code calls the request functions below; each returns a request id and
// queues the job. A newer request with the same key supersedes queued stale ones (they are
// skipped), cancel() stops the running long job between steps, and every request ends with
// exactly one of its result signal / failed() / skipped, followed by finished(id).
#include "ui/session_types.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QThread>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace fs::ui {

class Worker : public QObject {
  Q_OBJECT

 public:
  Worker();
  ~Worker() override;  // stops and joins the thread

  // GUI thread: queue a job; returns its id.
  quint64 loadSlot(int slot, const QString& idOrConfig, const QString& weights);
  quint64 clearSlot(int slot);
  quint64 setImage(const cv::Mat& rgb, const QString& name);
  quint64 predict(int slot, int topK = 5);
  quint64 stageMaps(int slot, int k, const QString& rank);
  quint64 tapMaps(int slot, const QString& tap, const QString& rank);
  quint64 saliency(int slot, const fs::analysis::SaliencyParams& params, const QString& key);
  quint64 statistics(int slot, int bins = 40);
  quint64 cka(int slotA, int slotB, const QStringList& imagePaths);
  quint64 paperFigure(const fs::analysis::FeatureFigureOptions& options);
  quint64 exportManifest(const QString& exportPath, const fs::analysis::ExportRecord& record);
  quint64 batchExport(const fs::analysis::SessionBatchExport& request);
  quint64 evaluateTestSet(int slot, int limit);
  // Any thread: cancels the running job and every job queued so far.
  void cancel();

 Q_SIGNALS:
  void slotLoaded(quint64 id, const fs::analysis::SlotInfo& info);
  void imageSet(quint64 id);
  void predictionReady(quint64 id, const fs::analysis::SlotPrediction& prediction);
  void stageMapsReady(quint64 id, const fs::analysis::StageMaps& maps);
  void tapMapsReady(quint64 id, const fs::analysis::TapMaps& maps);
  void saliencyReady(quint64 id, const fs::analysis::SaliencyMapResult& result);
  void statisticsReady(quint64 id, const fs::analysis::SlotStatistics& stats);
  void ckaReady(quint64 id, const fs::analysis::SessionCka& cka);
  void figureReady(quint64 id, const fs::analysis::FigureLayout& layout);
  void manifestWritten(quint64 id, const QString& manifestPath);
  void batchExportDone(quint64 id, const fs::analysis::SessionBatchResult& result);
  void testSetReady(quint64 id, const fs::analysis::TestSetReport& report);
  void progress(quint64 id, double fraction, const QString& what);
  void failed(quint64 id, const QString& message);
  void finished(quint64 id);

 private:
  using Job = std::function<void(quint64 id, const std::atomic<bool>& cancel)>;
  quint64 post(const QString& key, const QString& what, Job job);
  void run(quint64 id, const QString& key, const QString& what, const Job& job);

  QThread thread_;
  std::unique_ptr<fs::analysis::SessionService> service_;  // used on thread_ only
  std::mutex mutex_;
  quint64 nextId_ = 1;
  quint64 cancelBefore_ = 0;             // jobs with id < this are cancelled
  std::map<QString, quint64> latest_;    // key -> newest id
  QString runningKey_;
  std::atomic<bool> cancel_{false};
};

}  // namespace fs::ui
