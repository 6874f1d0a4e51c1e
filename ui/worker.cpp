#include "ui/worker.h"

#include <QMetaObject>

#include <exception>

namespace fs::ui {

using namespace fs::analysis;

void registerSessionTypes() {
  static const bool done = [] {
    qRegisterMetaType<SlotInfo>();
    qRegisterMetaType<SlotPrediction>();
    qRegisterMetaType<TapMaps>();
    qRegisterMetaType<StageMaps>();
    qRegisterMetaType<SaliencyParams>();
    qRegisterMetaType<SaliencyMapResult>();
    qRegisterMetaType<SlotStatistics>();
    qRegisterMetaType<SessionCka>();
    qRegisterMetaType<TestSetReport>();
    qRegisterMetaType<FigureLayout>();
    qRegisterMetaType<SessionBatchResult>();
    qRegisterMetaType<cv::Mat>();
    return true;
  }();
  (void)done;
}

Worker::Worker() {
  registerSessionTypes();
  thread_.setObjectName(QStringLiteral("fs-worker"));
  moveToThread(&thread_);
  thread_.start();
  // The service (and every model) is created and destroyed on the worker thread.
  QMetaObject::invokeMethod(this, [this] { service_ = std::make_unique<SessionService>(); },
                            Qt::BlockingQueuedConnection);
}

Worker::~Worker() {
  cancel();
  QMetaObject::invokeMethod(this, [this] { service_.reset(); }, Qt::BlockingQueuedConnection);
  thread_.quit();
  thread_.wait();
}

void Worker::cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancelBefore_ = nextId_;
  cancel_ = true;
}

quint64 Worker::post(const QString& key, const QString& what, Job job) {
  quint64 id = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    id = nextId_++;
    latest_[key] = id;
    if (!key.isEmpty() && key == runningKey_) cancel_ = true;  // supersede the running job
  }
  QMetaObject::invokeMethod(this, [this, id, key, what, job = std::move(job)] { run(id, key, what, job); },
                            Qt::QueuedConnection);
  return id;
}

void Worker::run(quint64 id, const QString& key, const QString& what, const Job& job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const bool stale = id < cancelBefore_ || (!key.isEmpty() && latest_[key] != id);
    if (stale) {
      Q_EMIT finished(id);
      return;
    }
    runningKey_ = key;
    cancel_ = false;
  }
  Q_EMIT progress(id, 0.0, what);
  try {
    job(id, cancel_);
  } catch (const std::exception& e) {
    Q_EMIT failed(id, QString::fromStdString(e.what()));
  } catch (...) {
    Q_EMIT failed(id, tr("unexpected error in %1").arg(what));
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    runningKey_.clear();
  }
  Q_EMIT finished(id);
}

quint64 Worker::loadSlot(int slot, const QString& idOrConfig, const QString& weights) {
  return post(QStringLiteral("load:%1").arg(slot), tr("Loading %1").arg(idOrConfig),
              [this, slot, m = idOrConfig.toStdString(), w = weights.toStdString()](quint64 id, const auto&) {
                Q_EMIT slotLoaded(id, service_->loadSlot(slot, m, w, 0));
              });
}

quint64 Worker::clearSlot(int slot) {
  return post(QString(), tr("Removing slot"), [this, slot](quint64, const auto&) { service_->clearSlot(slot); });
}

quint64 Worker::setImage(const cv::Mat& rgb, const QString& name) {
  return post(QStringLiteral("image"), tr("Opening %1").arg(name),
              [this, rgb, n = name.toStdString()](quint64 id, const auto&) {
                service_->setImage(rgb, n);
                Q_EMIT imageSet(id);
              });
}

quint64 Worker::predict(int slot, int topK) {
  return post(QStringLiteral("predict:%1").arg(slot), tr("Predicting"), [this, slot, topK](quint64 id, const auto&) {
    Q_EMIT predictionReady(id, service_->predict(slot, topK));
  });
}

quint64 Worker::stageMaps(int slot, int k, const QString& rank) {
  return post(QStringLiteral("stages:%1").arg(slot), tr("Stage feature maps"),
              [this, slot, k, r = rank.toStdString()](quint64 id, const auto&) {
                Q_EMIT stageMapsReady(id, service_->stageMaps(slot, k, r));
              });
}

quint64 Worker::tapMaps(int slot, const QString& tap, const QString& rank) {
  return post(QStringLiteral("tap"), tr("Feature maps of %1").arg(tap),
              [this, slot, t = tap.toStdString(), r = rank.toStdString()](quint64 id, const auto&) {
                Q_EMIT tapMapsReady(id, service_->tapMaps(slot, t, r));
              });
}

quint64 Worker::saliency(int slot, const SaliencyParams& params, const QString& key) {
  const QString what = tr("%1 saliency").arg(QString::fromStdString(params.method));
  return post(key, what, [this, slot, params, what](quint64 id, const std::atomic<bool>& cancel) {
    auto report = [this, id, what](double f) { Q_EMIT progress(id, f, what); };
    SaliencyMapResult r = service_->saliency(slot, params, report, &cancel);
    if (r.cancelled)
      Q_EMIT failed(id, tr("%1 cancelled").arg(what));
    else
      Q_EMIT saliencyReady(id, r);
  });
}

quint64 Worker::statistics(int slot, int bins) {
  return post(QStringLiteral("stats:%1").arg(slot), tr("Activation statistics"),
              [this, slot, bins](quint64 id, const auto&) { Q_EMIT statisticsReady(id, service_->statistics(slot, bins)); });
}

quint64 Worker::cka(int slotA, int slotB, const QStringList& imagePaths) {
  std::vector<std::string> paths;
  for (const QString& p : imagePaths) paths.push_back(p.toStdString());
  const QString what = tr("CKA over %1 images").arg(imagePaths.size());
  return post(QStringLiteral("cka"), what, [this, slotA, slotB, paths, what](quint64 id, const std::atomic<bool>& cancel) {
    auto report = [this, id, what](double f) { Q_EMIT progress(id, f, what); };
    SessionCka r = service_->cka(slotA, slotB, paths, report, &cancel);
    if (r.cancelled)
      Q_EMIT failed(id, tr("%1 cancelled").arg(what));
    else
      Q_EMIT ckaReady(id, r);
  });
}

quint64 Worker::paperFigure(const FeatureFigureOptions& options) {
  return post(QStringLiteral("figure"), tr("Building the figure"), [this, options](quint64 id, const auto&) {
    Q_EMIT figureReady(id, service_->paperFigure(options));
  });
}

quint64 Worker::exportManifest(const QString& exportPath, const ExportRecord& record) {
  return post(QString(), tr("Writing the export manifest"), [this, p = exportPath.toStdString(), record](quint64 id, const auto&) {
    service_->writeExportManifest(p, record);
    Q_EMIT manifestWritten(id, QString::fromStdString(p + ".manifest.json"));
  });
}

quint64 Worker::batchExport(const SessionBatchExport& request) {
  const QString what = tr("Exporting %1").arg(QString::fromStdString(request.imagesDir));
  return post(QStringLiteral("batch"), what, [this, request, what](quint64 id, const auto&) {
    auto report = [this, id, what](double f) { Q_EMIT progress(id, f, what); };
    Q_EMIT batchExportDone(id, service_->batchExport(request, report));
  });
}

quint64 Worker::evaluateTestSet(int slot, int limit) {
  return post(QStringLiteral("testset"), tr("Evaluating %1 test images").arg(limit), [this, slot, limit](quint64 id, const auto&) {
    Q_EMIT testSetReady(id, service_->evaluateTestSet(slot, limit));
  });
}

}  // namespace fs::ui
