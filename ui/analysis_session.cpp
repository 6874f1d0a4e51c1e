#include "ui/analysis_session.h"

#include "render/image_conversion.h"
#include "service/saliency_service.h"
#include "ui/feature_vis_session.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cstring>
#include <exception>

namespace fs::ui {

using namespace fs::render;

using namespace fs::analysis;
using namespace fs::service;

namespace {
cv::Mat fromQImage(const QImage& image) {
  const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
  cv::Mat m(rgb.height(), rgb.width(), CV_8UC3);
  for (int y = 0; y < rgb.height(); ++y) std::memcpy(m.ptr(y), rgb.constScanLine(y), size_t(rgb.width()) * 3);
  return m;
}
}  // namespace

AnalysisSession::AnalysisSession(QObject* parent) : QObject(parent), worker_(std::make_unique<Worker>()) {
  Worker* w = worker_.get();
  connect(w, &Worker::done, this, &AnalysisSession::onDone);
  connect(w, &Worker::failed, this, &AnalysisSession::onFailed);
  connect(w, &Worker::finished, this, &AnalysisSession::onFinished);
  connect(w, &Worker::progress, this, [this](quint64, double f, const QString& what) { Q_EMIT progress(f, what); });
  featureVis_ = new FeatureVisSession(*this);
}

AnalysisSession::~AnalysisSession() = default;

quint64 AnalysisSession::submit(JobRequest request, const QString& what) {
  if (std::holds_alternative<job::OpenImage>(request)) Q_EMIT imageRequested();
  const QString title = what.isEmpty() ? jobTitle(request) : what;
  const quint64 id = worker_->submit(std::move(request));
  requestWhat_[id] = title;
  const bool wasBusy = busy();
  pending_.insert(id);
  if (!wasBusy) Q_EMIT busyChanged(true);
  return id;
}

// Every answer, by its type: kept where the views read it, and announced.
void AnalysisSession::onDone(quint64 id, const JobResult& result) {
  const auto slotResult = [this](auto& kept, const auto& value, int slot, ResultKind kind) {
    kept = value;
    Q_EMIT resultChanged(slot, kind);
  };
  std::visit(Overloaded{
                 [&](const job::LoadSlot::Result& info) { slotLoaded(id, info); },
                 [&](const job::ClearSlot::Result&) {},
                 [&](const job::OpenImage::Result& image) { imageOpened(image); },
                 [&](const job::Predict::Result& p) {
                   slotResult(slots_[size_t(p.slot)].prediction, p, p.slot, ResultKind::Prediction);
                 },
                 [&](const job::StageMaps::Result& m) {
                   slotResult(slots_[size_t(m.slot)].stages, m, m.slot, ResultKind::StageMaps);
                 },
                 [&](const job::Saliency::Result& r) { saliencyArrived(r); },
                 [&](const job::Statistics::Result& st) {
                   slotResult(slots_[size_t(st.slot)].statistics, st, st.slot, ResultKind::Statistics);
                 },
                 [&](const job::TapMaps::Result& m) { tapMaps_ = m; Q_EMIT tapMapsChanged(); },
                 [&](const job::Cka::Result& c) { cka_ = c; Q_EMIT ckaChanged(); },
                 [&](const job::PaperFigure::Result& l) { Q_EMIT figureReady(l); },
                 [&](const job::WriteManifest::Result& m) { Q_EMIT manifestWritten(QString::fromStdString(m.manifestPath)); },
                 [&](const job::BatchExport::Result& r) { Q_EMIT batchExportFinished(r); },
                 [&](const job::TestSet::Result& r) { Q_EMIT testSetReady(r); },
                 [&](const job::Attention::Result& a) { attention_ = a; Q_EMIT attentionChanged(); },
                 [&](const job::Exemplars::Result& r) { featureVis_->receive(r); },
                 [&](const job::ChannelExemplars::Result& r) { featureVis_->receive(r); },
                 [&](const job::VisualizeChannel::Result& r) { featureVis_->receive(r); },
                 [&](const job::Erf::Result& r) { featureVis_->receive(r); },
                 [&](const job::Selectivity::Result& r) { featureVis_->receive(r); },
                 [&](const job::Evaluate::Result& e) { evaluationArrived(e); },
                 [&](const job::SanityCascade::Result& c) {
                   if (c.image != imageName_.toStdString()) return;  // answers an image no longer shown
                   sanityCascade_ = c;
                   Q_EMIT sanityCascadeChanged();
                 },
             },
             result);
}

// A saliency map for the Compare view's slot, or for the Saliency view's matrix while it still
// shows that method.
void AnalysisSession::saliencyArrived(const job::Saliency::Result& r) {
  SlotState& s = slots_[size_t(r.map.slot)];
  if (r.use == job::SaliencyUse::Compare) {
    s.compareSaliency = r.map;
    Q_EMIT resultChanged(r.map.slot, ResultKind::CompareSaliency);
    return;
  }
  const QString method = QString::fromStdString(r.map.method);
  if (!saliencyMethods_.contains(method)) return;  // answers a matrix no longer shown
  s.saliency[method] = r.map;
  Q_EMIT resultChanged(r.map.slot, ResultKind::Saliency);
}

void AnalysisSession::onFailed(quint64 id, const QString& message) {
  auto it = requestWhat_.find(id);
  const QString what = it == requestWhat_.end() ? tr("Analysis") : it->second;
  auto load = loadRequests_.find(id);
  if (load != loadRequests_.end()) {  // a slot reserved by addSlot that never loaded is freed again
    SlotState& s = slots_[size_t(load->second)];
    if (s.info.taps.empty()) {
      s = SlotState{};
      order_.removeAll(load->second);
      Q_EMIT slotChanged(load->second);
    }
  }
  Q_EMIT errorOccurred(QStringLiteral("%1 failed: %2").arg(what, message));
}

void AnalysisSession::onFinished(quint64 id) {
  pending_.remove(id);
  requestWhat_.erase(id);
  loadRequests_.erase(id);
  loadWeights_.erase(id);
  if (pending_.isEmpty()) {
    Q_EMIT busyChanged(false);
    Q_EMIT idle();
  }
}

void AnalysisSession::imageOpened(const OpenedImage& image) {
  image_ = image.rgb;
  imageQ_ = toQImage(image_);
  imageName_ = QString::fromStdString(image.name);
  imagePath_ = QString::fromStdString(image.path);
  for (SlotState& s : slots_) {  // results of the previous image are gone
    s.prediction.reset();
    s.stages.reset();
    s.compareSaliency.reset();
    s.saliency.clear();
    s.statistics.reset();
  }
  sanityCascade_.reset();  // the cascade of the previous image
  Q_EMIT imageChanged();
  for (int i : loadedSlots()) recompute(i);
}

void AnalysisSession::openImageFile(const QString& path) {
  job::OpenImage j;
  j.request.path = path.toStdString();
  submit(std::move(j), tr("Opening %1").arg(QFileInfo(path).fileName()));
}

void AnalysisSession::openImageBytes(const QByteArray& bytes, const QString& name) {
  job::OpenImage j;
  j.request.bytes.assign(bytes.begin(), bytes.end());
  j.request.name = name.toStdString();
  submit(std::move(j), tr("Opening %1").arg(name));
}

void AnalysisSession::setImage(const QImage& image, const QString& name) {
  if (image.isNull()) {
    Q_EMIT errorOccurred(tr("The clipboard or drop did not contain an image."));
    return;
  }
  job::OpenImage j;
  j.request.rgb = fromQImage(image);
  j.request.name = name.toStdString();
  submit(std::move(j), tr("Opening %1").arg(name));
}

void AnalysisSession::recompute(int slot) {
  if (image_.empty() || !slots_[size_t(slot)].loaded) return;
  const QString model = QString::fromStdString(slots_[size_t(slot)].info.modelId);
  submit(job::Predict{slot, 5}, tr("Prediction of %1").arg(model));
  submit(job::StageMaps{slot, compareK_, compareRank_.toStdString()}, tr("Stage maps of %1").arg(model));
  job::Saliency compare{slot, {}, job::SaliencyUse::Compare};
  compare.params.method = compareMethod_.toStdString();
  if (SaliencyService::applies(compare.params.method, slots_[size_t(slot)].info))
    submit(compare, tr("Compare saliency (%1) of %2").arg(compareMethod_, model));
  if (saliencyActive_) requestSaliencyMatrix(slot);
  if (statisticsActive_) submit(job::Statistics{slot, 40}, tr("Statistics of %1").arg(model));
  if (slot == tapSlot_) requestTapMaps(tapSlot_, tapName_, tapRank_);
  if (slot == attentionSlot_) requestAttention(attentionSlot_, attentionUnit_);
}

void AnalysisSession::requestAttention(int slot, const QString& unit) {
  attentionSlot_ = slot, attentionUnit_ = unit;
  if (image_.empty() || slot < 0 || !slots_[size_t(slot)].loaded || unit.isEmpty()) return;
  submit(job::Attention{slot, unit.toStdString()});
}

void AnalysisSession::requestEvaluation(fs::service::EvaluationRequest request) {
  if (request.outDir.empty()) {
    if (!evaluationFiles_) evaluationFiles_ = std::make_unique<QTemporaryDir>();
    const QString dir = evaluationFiles_->filePath(QStringLiteral("run-%1").arg(++evaluationRun_));
    if (evaluationFiles_->isValid() && QDir().mkpath(dir)) {  // else the service's own temporary folder
      request.outDir = dir.toStdString();
      evaluationRuns_ << dir;
    }
  }
  submit(job::Evaluate{request});
}

// The scorecard, and the files of the runs before it removed.
void AnalysisSession::evaluationArrived(const job::Evaluate::Result& e) {
  evaluation_ = e;
  for (const auto& m : e.models) {
    if (m.scorecardPath.empty()) continue;
    const qsizetype at = evaluationRuns_.indexOf(QFileInfo(QString::fromStdString(m.scorecardPath)).absolutePath());
    for (qsizetype i = 0; i < at; ++i) QDir(evaluationRuns_.takeFirst()).removeRecursively();
    break;
  }
  Q_EMIT evaluationChanged();
}

void AnalysisSession::requestSanityCascade(int slot, const QString& method, const QString& mode) {
  if (image_.empty() || slot < 0 || !slots_[size_t(slot)].loaded) return;
  job::SanityCascade j;
  j.request.slot = slot;
  j.request.method = method.toStdString();
  j.request.mode = mode.toStdString();
  j.request.parameters = saliencyParams_;  // the Saliency view's parameters
  submit(j);
}

void AnalysisSession::requestSaliencyMatrix(int slot) {
  const QString model = QString::fromStdString(slots_[size_t(slot)].info.modelId);
  for (const QString& m : saliencyMethods_) {
    if (!SaliencyService::applies(m.toStdString(), slots_[size_t(slot)].info)) continue;  // the cell says so
    job::Saliency j{slot, saliencyParams_, job::SaliencyUse::Matrix};
    j.params.method = m.toStdString();
    j.params.target = -1;
    const auto& labels = slots_[size_t(slot)].info.labels;
    for (size_t c = 0; c < labels.size() && !saliencyTargetName_.isEmpty(); ++c)
      if (QString::fromStdString(labels[c]) == saliencyTargetName_) j.params.target = int(c);
    j.params.curves = true;
    submit(j, tr("%1 saliency of %2").arg(m, model));
  }
}

void AnalysisSession::setCompareOptions(int k, const QString& rank) {
  compareK_ = k;
  compareRank_ = rank;
  for (int i : loadedSlots()) submit(job::StageMaps{i, compareK_, compareRank_.toStdString()});
}

void AnalysisSession::setCompareMethod(const QString& method) {
  compareMethod_ = method;
  for (int i : loadedSlots()) {
    slots_[size_t(i)].compareSaliency.reset();  // the previous method's map is not this one's
    Q_EMIT resultChanged(i, ResultKind::CompareSaliency);
    recompute(i);
  }
}

void AnalysisSession::setSaliencyMethods(const QStringList& methods, const QString& targetName,
                                         const SaliencyParams& params) {
  saliencyMethods_ = methods;
  saliencyTargetName_ = targetName;
  saliencyParams_ = params;
  for (int i : loadedSlots()) slots_[size_t(i)].saliency.clear();
  Q_EMIT saliencyMatrixChanged();
  for (int i : loadedSlots())
    if (saliencyActive_ && !image_.empty()) requestSaliencyMatrix(i);
}

void AnalysisSession::setSaliencyViewActive(bool on) {
  const bool start = on && !saliencyActive_;
  saliencyActive_ = on;
  if (start && !image_.empty())
    for (int i : loadedSlots())
      if (slots_[size_t(i)].saliency.empty()) requestSaliencyMatrix(i);
}

void AnalysisSession::setStatisticsActive(bool on) {
  const bool start = on && !statisticsActive_;
  statisticsActive_ = on;
  if (start && !image_.empty())
    for (int i : loadedSlots()) submit(job::Statistics{i, 40});
}

void AnalysisSession::requestTapMaps(int slot, const QString& tap, const QString& rank) {
  tapSlot_ = slot, tapName_ = tap, tapRank_ = rank;
  if (image_.empty() || slot < 0 || !slots_[size_t(slot)].loaded || tap.isEmpty()) return;
  submit(job::TapMaps{slot, tap.toStdString(), rank.toStdString()});
}

void AnalysisSession::setDisplay(const DisplayOptions& d) {
  display_ = d;
  Q_EMIT displayChanged();
}

void AnalysisSession::cancel() { worker_->cancel(); }

void AnalysisSession::requestCka(int slotA, int slotB, const QStringList& imagePaths) {
  job::Cka j{slotA, slotB, {}};
  for (const QString& p : imagePaths) j.images.push_back(p.toStdString());
  submit(std::move(j));
}

void AnalysisSession::requestPaperFigure(const FeatureFigureOptions& options) {
  submit(job::PaperFigure{options});
}

void AnalysisSession::writeManifest(const QString& exportPath, const ExportRecord& record) {
  submit(job::WriteManifest{exportPath.toStdString(), record},
         tr("Writing the manifest of %1").arg(QFileInfo(exportPath).fileName()));
}

void AnalysisSession::batchExport(const SessionBatchExport& request) {
  submit(job::BatchExport{request}, tr("Folder export"));
}

void AnalysisSession::requestTestSet(int slot, int limit) {
  submit(job::TestSet{slot, limit}, tr("Test-set evaluation"));
}

void AnalysisSession::openTestImage(int index) {
  job::OpenImage j;
  j.request.testIndex = index;
  submit(std::move(j));
}

}  // namespace fs::ui
