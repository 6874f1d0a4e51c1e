#include "ui/analysis_session.h"

#include "render/image_conversion.h"
#include "ui/settings_keys.h"

#include <QFile>
#include <QFileInfo>

#include <cstring>
#include <exception>

namespace fs::ui {

using namespace fs::render;

using namespace fs::analysis;

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
  connect(w, &Worker::finished, this, &AnalysisSession::onFinished);
  connect(w, &Worker::failed, this, [this](quint64 id, const QString& message) {
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
  });
  connect(w, &Worker::progress, this, [this](quint64, double f, const QString& what) { Q_EMIT progress(f, what); });
  connect(w, &Worker::slotLoaded, this, [this](quint64 id, const SlotInfo& info) {
    slotWeights_[size_t(info.slot)] = loadWeights_[id];
    SlotState& s = slots_[size_t(info.slot)];
    s = SlotState{};
    s.loaded = true;
    s.info = info;
    if (!order_.contains(info.slot)) order_.push_back(info.slot);
    persistSlots();
    Q_EMIT slotChanged(info.slot);
    recompute(info.slot);
  });
  connect(w, &Worker::predictionReady, this, [this](quint64, const SlotPrediction& p) {
    slots_[size_t(p.slot)].prediction = p;
    Q_EMIT slotChanged(p.slot);
  });
  connect(w, &Worker::stageMapsReady, this, [this](quint64, const StageMaps& m) {
    slots_[size_t(m.slot)].stages = m;
    Q_EMIT slotChanged(m.slot);
  });
  connect(w, &Worker::saliencyReady, this, [this](quint64 id, const SaliencyMapResult& r) {
    SlotState& s = slots_[size_t(r.slot)];
    if (requestWhat_[id].startsWith(QStringLiteral("compare"))) s.compareSaliency = r;
    else s.saliency[QString::fromStdString(r.method)] = r;
    Q_EMIT slotChanged(r.slot);
  });
  connect(w, &Worker::statisticsReady, this, [this](quint64, const SlotStatistics& st) {
    slots_[size_t(st.slot)].statistics = st;
    Q_EMIT slotChanged(st.slot);
  });
  connect(w, &Worker::tapMapsReady, this, [this](quint64, const TapMaps& m) {
    tapMaps_ = m;
    Q_EMIT tapMapsChanged();
  });
  connect(w, &Worker::ckaReady, this, [this](quint64, const SessionCka& c) {
    cka_ = c;
    Q_EMIT ckaChanged();
  });
  connect(w, &Worker::figureReady, this, [this](quint64, const FigureLayout& l) { Q_EMIT figureReady(l); });
  connect(w, &Worker::manifestWritten, this, [this](quint64, const QString& p) { Q_EMIT manifestWritten(p); });
  connect(w, &Worker::testSetReady, this, [this](quint64, const TestSetReport& r) { Q_EMIT testSetReady(r); });
  connect(w, &Worker::batchExportDone, this,
          [this](quint64, const SessionBatchResult& r) { Q_EMIT batchExportFinished(r); });
}

AnalysisSession::~AnalysisSession() = default;

void AnalysisSession::track(quint64 id) {
  const bool wasBusy = busy();
  pending_.insert(id);
  if (!wasBusy) Q_EMIT busyChanged(true);
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

bool AnalysisSession::openImageFile(const QString& path) {
  try {
    cv::Mat rgb = SessionService::loadImageFile(path.toStdString());
    image_ = rgb;
  } catch (const std::exception& e) {
    Q_EMIT errorOccurred(tr("Could not open the image: %1").arg(QString::fromStdString(e.what())));
    return false;
  }
  imageQ_ = toQImage(image_);
  imageName_ = QFileInfo(path).fileName();
  imagePath_ = QFileInfo(path).absoluteFilePath();
  const quint64 id = worker_->setImage(image_, imageName_);
  requestWhat_[id] = tr("Opening %1").arg(imageName_);
  track(id);
  Q_EMIT imageChanged();
  for (int i : loadedSlots()) recompute(i);
  return true;
}

bool AnalysisSession::openImageBytes(const QByteArray& bytes, const QString& name) {
  try {
    std::vector<uint8_t> data(bytes.begin(), bytes.end());
    image_ = SessionService::decodeImage(data, name.toStdString());
  } catch (const std::exception& e) {
    Q_EMIT errorOccurred(tr("Could not open the image: %1").arg(QString::fromStdString(e.what())));
    return false;
  }
  setImage(toQImage(image_), name);
  return true;
}

void AnalysisSession::setImage(const QImage& image, const QString& name) {
  if (image.isNull()) {
    Q_EMIT errorOccurred(tr("The clipboard or drop did not contain an image."));
    return;
  }
  image_ = fromQImage(image);
  imageQ_ = toQImage(image_);
  imageName_ = name;
  imagePath_.clear();
  const quint64 id = worker_->setImage(image_, name);
  requestWhat_[id] = tr("Opening %1").arg(name);
  track(id);
  Q_EMIT imageChanged();
  for (int i : loadedSlots()) recompute(i);
}

void AnalysisSession::loadSlot(int slot, const QString& idOrConfig, const QString& weights) {
  const quint64 id = worker_->loadSlot(slot, idOrConfig, weights);
  requestWhat_[id] = weights.isEmpty()
                         ? tr("Loading %1 into slot %2").arg(idOrConfig).arg(slot + 1)
                         : tr("Loading %1 with %2 into slot %3 (the previous model stays loaded)")
                               .arg(idOrConfig, QFileInfo(weights).fileName())
                               .arg(slot + 1);
  loadRequests_[id] = slot;
  loadWeights_[id] = weights;
  track(id);
}

int AnalysisSession::addSlot(const QString& idOrConfig, const QString& weights) {
  for (int i = 0; i < kMaxSlots; ++i) {
    if (!slots_[size_t(i)].loaded) {
      slots_[size_t(i)].loaded = true;  // reserved until the load answers
      slots_[size_t(i)].info.modelId = idOrConfig.toStdString();
      slots_[size_t(i)].info.slot = i;
      loadSlot(i, idOrConfig, weights);
      return i;
    }
  }
  Q_EMIT errorOccurred(tr("All %1 model slots are in use: remove one first.").arg(kMaxSlots));
  return -1;
}

void AnalysisSession::removeSlot(int slot) {
  slots_[size_t(slot)] = SlotState{};
  order_.removeAll(slot);
  track(worker_->clearSlot(slot));
  persistSlots();
  Q_EMIT slotChanged(slot);
}

void AnalysisSession::moveSlot(int slot, int delta) {
  const int from = order_.indexOf(slot);
  const int to = from + delta;
  if (from < 0 || to < 0 || to >= order_.size()) return;
  order_.move(from, to);
  persistSlots();
  Q_EMIT slotOrderChanged();
  Q_EMIT slotChanged(slot);
}

QList<int> AnalysisSession::loadedSlots() const {
  QList<int> out;
  for (int i : order_)
    if (slots_[size_t(i)].loaded && !slots_[size_t(i)].info.taps.empty()) out.push_back(i);
  return out;
}

QStringList AnalysisSession::slotSpecs() const {
  QStringList out;
  for (int i : loadedSlots()) {
    // Bundled weights load by themselves; only a checkpoint the user chose is remembered.
    QString spec = QString::fromStdString(slots_[size_t(i)].info.source);
    if (!slotWeights_[size_t(i)].isEmpty()) spec += QLatin1Char('|') + slotWeights_[size_t(i)];
    out << spec;
  }
  return out;
}

void AnalysisSession::persistSlots() const {
  QSettings s;
  keys::kModelSlots.write(s, slotSpecs());
}

void AnalysisSession::recompute(int slot) {
  if (image_.empty() || !slots_[size_t(slot)].loaded) return;
  const QString model = QString::fromStdString(slots_[size_t(slot)].info.modelId);
  quint64 id = worker_->predict(slot);
  requestWhat_[id] = tr("Prediction of %1").arg(model);
  track(id);
  id = worker_->stageMaps(slot, compareK_, compareRank_);
  requestWhat_[id] = tr("Stage maps of %1").arg(model);
  track(id);
  SaliencyParams p;
  p.method = compareMethod_.toStdString();
  id = worker_->saliency(slot, p, QStringLiteral("compare:%1").arg(slot));
  requestWhat_[id] = tr("compare saliency (%1) of %2").arg(compareMethod_, model);
  track(id);
  if (saliencyActive_) requestSaliencyMatrix(slot);
  if (statisticsActive_) {
    id = worker_->statistics(slot);
    requestWhat_[id] = tr("Statistics of %1").arg(model);
    track(id);
  }
  if (slot == tapSlot_) requestTapMaps(tapSlot_, tapName_, tapRank_);
}

void AnalysisSession::requestSaliencyMatrix(int slot) {
  const QString model = QString::fromStdString(slots_[size_t(slot)].info.modelId);
  for (const QString& m : saliencyMethods_) {
    SaliencyParams p = saliencyParams_;
    p.method = m.toStdString();
    p.target = -1;
    const auto& labels = slots_[size_t(slot)].info.labels;
    for (size_t c = 0; c < labels.size() && !saliencyTargetName_.isEmpty(); ++c)
      if (QString::fromStdString(labels[c]) == saliencyTargetName_) p.target = int(c);
    p.curves = true;
    const quint64 id = worker_->saliency(slot, p, QStringLiteral("sal:%1:%2").arg(slot).arg(m));
    requestWhat_[id] = tr("%1 saliency of %2").arg(m, model);
    track(id);
  }
}

void AnalysisSession::setCompareOptions(int k, const QString& rank) {
  compareK_ = k;
  compareRank_ = rank;
  for (int i : loadedSlots()) {
    const quint64 id = worker_->stageMaps(i, compareK_, compareRank_);
    requestWhat_[id] = tr("Stage maps");
    track(id);
  }
}

void AnalysisSession::setCompareMethod(const QString& method) {
  compareMethod_ = method;
  for (int i : loadedSlots()) recompute(i);
}

void AnalysisSession::setSaliencyMethods(const QStringList& methods, const QString& targetName,
                                         const SaliencyParams& params) {
  saliencyMethods_ = methods;
  saliencyTargetName_ = targetName;
  saliencyParams_ = params;
  for (int i : loadedSlots()) {
    slots_[size_t(i)].saliency.clear();
    Q_EMIT slotChanged(i);
    if (saliencyActive_ && !image_.empty()) requestSaliencyMatrix(i);
  }
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
    for (int i : loadedSlots()) {
      const quint64 id = worker_->statistics(i);
      requestWhat_[id] = tr("Statistics");
      track(id);
    }
}

void AnalysisSession::requestTapMaps(int slot, const QString& tap, const QString& rank) {
  tapSlot_ = slot, tapName_ = tap, tapRank_ = rank;
  if (image_.empty() || slot < 0 || !slots_[size_t(slot)].loaded || tap.isEmpty()) return;
  const quint64 id = worker_->tapMaps(slot, tap, rank);
  requestWhat_[id] = tr("Feature maps of %1").arg(tap);
  track(id);
}

void AnalysisSession::setDisplay(const DisplayOptions& d) {
  display_ = d;
  Q_EMIT displayChanged();
}

void AnalysisSession::cancel() { worker_->cancel(); }

void AnalysisSession::requestCka(int slotA, int slotB, const QStringList& imagePaths) {
  const quint64 id = worker_->cka(slotA, slotB, imagePaths);
  requestWhat_[id] = tr("CKA");
  track(id);
}

void AnalysisSession::requestPaperFigure(const FeatureFigureOptions& options) {
  const quint64 id = worker_->paperFigure(options);
  requestWhat_[id] = tr("Building the figure");
  track(id);
}

void AnalysisSession::writeManifest(const QString& exportPath, const ExportRecord& record) {
  const quint64 id = worker_->exportManifest(exportPath, record);
  requestWhat_[id] = tr("Writing the manifest of %1").arg(QFileInfo(exportPath).fileName());
  track(id);
}

void AnalysisSession::batchExport(const SessionBatchExport& request) {
  const quint64 id = worker_->batchExport(request);
  requestWhat_[id] = tr("Folder export");
  track(id);
}

void AnalysisSession::requestTestSet(int slot, int limit) {
  const quint64 id = worker_->evaluateTestSet(slot, limit);
  requestWhat_[id] = tr("Test-set evaluation");
  track(id);
}

bool AnalysisSession::openTestImage(int index) {
  cv::Mat rgb;
  int label = -1;
  try {
    rgb = SessionService::testSetImage(index, &label);
  } catch (const std::exception& e) {
    Q_EMIT errorOccurred(tr("Could not open the test image: %1").arg(QString::fromStdString(e.what())));
    return false;
  }
  setImage(toQImage(rgb), QStringLiteral("fashion-mnist test #%1 (class %2)").arg(index).arg(label));
  return true;
}

}  // namespace fs::ui
