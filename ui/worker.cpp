#include "ui/worker.h"

#include "service/session.h"

#include <QCoreApplication>
#include <QMetaObject>

#include <exception>

namespace fs::ui {

using namespace fs::service;

void registerSessionTypes() {
  static const bool done = [] {
    qRegisterMetaType<fs::ui::JobResult>();
    qRegisterMetaType<cv::Mat>();
    qRegisterMetaType<fs::analysis::FigureLayout>();
    qRegisterMetaType<fs::service::SessionBatchResult>();
    qRegisterMetaType<fs::service::TestSetReport>();
    return true;
  }();
  (void)done;
}

QString jobKey(const JobRequest& request) {
  return std::visit(
      Overloaded{
          [](const job::LoadSlot& j) { return QStringLiteral("load:%1").arg(j.slot); },
          [](const job::ClearSlot&) { return QString(); },
          [](const job::OpenImage&) { return QStringLiteral("image"); },
          [](const job::Predict& j) { return QStringLiteral("predict:%1").arg(j.slot); },
          [](const job::StageMaps& j) { return QStringLiteral("stages:%1").arg(j.slot); },
          [](const job::TapMaps&) { return QStringLiteral("tap"); },
          [](const job::Saliency& j) {
            return j.use == job::SaliencyUse::Compare
                       ? QStringLiteral("compare:%1").arg(j.slot)
                       : QStringLiteral("sal:%1:%2").arg(j.slot).arg(QString::fromStdString(j.params.method));
          },
          [](const job::Statistics& j) { return QStringLiteral("stats:%1").arg(j.slot); },
          [](const job::Cka&) { return QStringLiteral("cka"); },
          [](const job::PaperFigure&) { return QStringLiteral("figure"); },
          [](const job::WriteManifest&) { return QString(); },
          [](const job::BatchExport&) { return QStringLiteral("batch"); },
          [](const job::TestSet&) { return QStringLiteral("testset"); },
          [](const job::Attention&) { return QStringLiteral("attention"); },
          [](const job::Exemplars& j) { return QStringLiteral("exemplars:%1").arg(j.request.slot); },
          [](const job::ChannelExemplars&) { return QStringLiteral("channel-exemplars"); },
          [](const job::VisualizeChannel&) { return QStringLiteral("visualize"); },
          [](const job::Erf& j) { return QStringLiteral("erf:%1").arg(j.request.slot); },
          [](const job::Selectivity&) { return QStringLiteral("selectivity"); },
          [](const job::Evaluate&) { return QStringLiteral("evaluate"); },
          [](const job::SanityCascade&) { return QStringLiteral("sanity"); },
      },
      request);
}

QString jobTitle(const JobRequest& request) {
  auto tr = [](const char* s) { return QCoreApplication::translate("fs::ui::Worker", s); };
  auto q = [](const std::string& s) { return QString::fromStdString(s); };
  return std::visit(
      Overloaded{
          [&](const job::LoadSlot& j) { return tr("Loading %1 into slot %2").arg(q(j.source)).arg(j.slot + 1); },
          [&](const job::ClearSlot& j) { return tr("Removing slot %1").arg(j.slot + 1); },
          [&](const job::OpenImage& j) {
            const std::string& n = j.request.path.empty() ? j.request.name : j.request.path;
            return j.request.testIndex >= 0 ? tr("Opening test image %1").arg(j.request.testIndex)
                                            : tr("Opening %1").arg(q(n));
          },
          [&](const job::Predict& j) { return tr("Prediction of slot %1").arg(j.slot + 1); },
          [&](const job::StageMaps& j) { return tr("Stage maps of slot %1").arg(j.slot + 1); },
          [&](const job::TapMaps& j) { return tr("Feature maps of %1").arg(q(j.tap)); },
          [&](const job::Saliency& j) { return tr("%1 saliency of slot %2").arg(q(j.params.method)).arg(j.slot + 1); },
          [&](const job::Statistics& j) { return tr("Statistics of slot %1").arg(j.slot + 1); },
          [&](const job::Cka& j) { return tr("CKA over %1 images").arg(j.images.size()); },
          [&](const job::PaperFigure&) { return tr("Building the figure"); },
          [&](const job::WriteManifest& j) { return tr("Writing the manifest of %1").arg(q(j.exportPath)); },
          [&](const job::BatchExport& j) { return tr("Exporting %1").arg(q(j.request.imagesDir)); },
          [&](const job::TestSet& j) { return tr("Evaluating %1 test images").arg(j.limit); },
          [&](const job::Attention& j) { return tr("Attention of %1").arg(q(j.unit)); },
          [&](const job::Exemplars& j) {
            const int n = j.request.data.limit;
            return tr("Exemplars of slot %1 over %2 images")
                .arg(j.request.slot + 1)
                .arg(n > 0 ? QString::number(n) : tr("all"));
          },
          [&](const job::ChannelExemplars& j) { return tr("Exemplars of %1 channel %2").arg(q(j.tap)).arg(j.channel); },
          [&](const job::VisualizeChannel& j) {
            return tr("Visualizing %1 channel %2").arg(q(j.request.tap)).arg(j.request.channel);
          },
          [&](const job::Erf& j) { return tr("Effective receptive fields of slot %1").arg(j.request.slot + 1); },
          [&](const job::Selectivity& j) { return tr("Selectivity of %1").arg(q(j.request.tap)); },
          [&](const job::Evaluate& j) {
            return tr("Scorecard of %1 model(s) x %2 method(s)").arg(j.request.slots.size()).arg(j.request.methods.size());
          },
          [&](const job::SanityCascade& j) {
            return tr("Sanity cascade of %1 in slot %2").arg(q(j.request.method)).arg(j.request.slot + 1);
          },
      },
      request);
}

namespace {

// One job on the worker thread; the matching service call. Throws on failure.
struct Execute {
  Session& s;
  const SessionProgress& progress;
  const std::atomic<bool>& cancel;

  JobResult operator()(const job::LoadSlot& j) const { return s.slots().load(j.slot, j.source, j.weights, 0); }
  JobResult operator()(const job::ClearSlot& j) const {
    s.slots().clear(j.slot);
    return job::ClearSlot::Result{j.slot};
  }
  JobResult operator()(const job::OpenImage& j) const { return s.images().open(j.request); }
  JobResult operator()(const job::Predict& j) const { return s.features().predict(j.slot, j.topK); }
  JobResult operator()(const job::StageMaps& j) const { return s.features().stageMaps(j.slot, j.k, j.rank); }
  JobResult operator()(const job::TapMaps& j) const { return s.features().tapMaps(j.slot, j.tap, j.rank); }
  JobResult operator()(const job::Saliency& j) const {
    job::Saliency::Result r{j.use, s.saliency().compute(j.slot, j.params, progress, &cancel)};
    if (r.map.cancelled) throw Cancelled();
    return r;
  }
  JobResult operator()(const job::Statistics& j) const { return s.features().statistics(j.slot, j.bins); }
  JobResult operator()(const job::Cka& j) const {
    SessionCka r = s.cka().compute(j.slotA, j.slotB, j.images, progress, &cancel);
    if (r.cancelled) throw Cancelled();
    return r;
  }
  JobResult operator()(const job::PaperFigure& j) const { return s.exports().paperFigure(j.options); }
  JobResult operator()(const job::WriteManifest& j) const {
    s.exports().writeManifest(j.exportPath, j.record);
    return job::WriteManifest::Result{j.exportPath + ".manifest.json"};
  }
  JobResult operator()(const job::BatchExport& j) const { return s.exports().batchExport(j.request, progress); }
  JobResult operator()(const job::TestSet& j) const { return s.testSet().evaluate(j.slot, j.limit); }
  JobResult operator()(const job::Attention& j) const { return s.attention().compute(j.slot, j.unit); }
  JobResult operator()(const job::Exemplars& j) const {
    return notCancelled(s.featureVis().exemplars(j.request, progress, &cancel));
  }
  JobResult operator()(const job::ChannelExemplars& j) const {
    return s.featureVis().channelExemplars(j.slot, j.tap, j.channel);
  }
  JobResult operator()(const job::VisualizeChannel& j) const {
    return notCancelled(s.featureVis().visualize(j.request, progress, &cancel));
  }
  JobResult operator()(const job::Erf& j) const { return notCancelled(s.featureVis().erf(j.request, progress, &cancel)); }
  JobResult operator()(const job::Selectivity& j) const {
    return notCancelled(s.featureVis().selectivity(j.request, progress, &cancel));
  }
  template <class R>
  static R notCancelled(R r) {
    if (r.cancelled) throw Cancelled();
    return r;
  }
  JobResult operator()(const job::Evaluate& j) const {
    EvaluationResult r = s.evaluation().run(j.request, progress, &cancel);
    if (r.cancelled) throw Cancelled();
    return r;
  }
  JobResult operator()(const job::SanityCascade& j) const {
    return notCancelled(s.sanity().cascade(j.request, progress, &cancel));  // stops within one randomised unit
  }

  struct Cancelled {};
};

}  // namespace

Worker::Worker() {
  registerSessionTypes();
  thread_.setObjectName(QStringLiteral("fs-worker"));
  moveToThread(&thread_);
  thread_.start();
  // The services (and every model) are created and destroyed on the worker thread.
  QMetaObject::invokeMethod(this, [this] { session_ = std::make_unique<Session>(); }, Qt::BlockingQueuedConnection);
}

Worker::~Worker() {
  cancel();
  QMetaObject::invokeMethod(this, [this] { session_.reset(); }, Qt::BlockingQueuedConnection);
  thread_.quit();
  thread_.wait();
}

void Worker::cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancelBefore_ = nextId_;
  cancel_ = true;
}

quint64 Worker::submit(JobRequest request) {
  const QString key = jobKey(request), what = jobTitle(request);
  quint64 id = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    id = nextId_++;
    latest_[key] = id;
    if (!key.isEmpty() && key == runningKey_) cancel_ = true;  // supersede the running job
  }
  QMetaObject::invokeMethod(
      this, [this, id, key, what, request = std::move(request)] { run(id, key, what, request); },
      Qt::QueuedConnection);
  return id;
}

void Worker::run(quint64 id, const QString& key, const QString& what, const JobRequest& request) {
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
  const SessionProgress report = [this, id, what](double f) { Q_EMIT progress(id, f, what); };
  try {
    Q_EMIT done(id, std::visit(Execute{*session_, report, cancel_}, request));
  } catch (const Execute::Cancelled&) {
    bool superseded = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      superseded = !key.isEmpty() && latest_[key] != id;
    }
    // A newer request of the same kind replaced it: nothing to report. Cancelled by the user: say so.
    if (!superseded) Q_EMIT failed(id, tr("%1 cancelled").arg(what));
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

}  // namespace fs::ui
