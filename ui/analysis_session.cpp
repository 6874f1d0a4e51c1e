#include "ui/analysis_session.h"

#include "ui/image_conversion.h"

#include <QFile>
#include <QFileInfo>

#include <cstring>
#include <exception>

namespace fs::ui {

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
    Q_EMIT errorOccurred(QStringLiteral("%1 failed: %2").arg(what, message));
  });
  connect(w, &Worker::progress, this, [this](quint64, double f, const QString& what) { Q_EMIT progress(f, what); });
  connect(w, &Worker::slotLoaded, this, [this](quint64, const SlotInfo& info) {
    SlotState& s = slots_[size_t(info.slot)];
    s = SlotState{};
    s.loaded = true;
    s.info = info;
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
  track(id);
}

int AnalysisSession::addSlot(const QString& idOrConfig) {
  for (int i = 0; i < kMaxSlots; ++i) {
    if (!slots_[size_t(i)].loaded) {
      slots_[size_t(i)].loaded = true;  // reserved until the load answers
      slots_[size_t(i)].info.modelId = idOrConfig.toStdString();
      slots_[size_t(i)].info.slot = i;
      loadSlot(i, idOrConfig);
      return i;
    }
  }
  Q_EMIT errorOccurred(tr("All %1 model slots are in use: remove one first.").arg(kMaxSlots));
  return -1;
}

void AnalysisSession::removeSlot(int slot) {
  slots_[size_t(slot)] = SlotState{};
  track(worker_->clearSlot(slot));
  Q_EMIT slotChanged(slot);
}

QList<int> AnalysisSession::loadedSlots() const {
  QList<int> out;
  for (int i = 0; i < kMaxSlots; ++i)
    if (slots_[size_t(i)].loaded && !slots_[size_t(i)].info.taps.empty()) out.push_back(i);
  return out;
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
    p.target = saliencyTarget_ < int(slots_[size_t(slot)].info.labels.size()) ? saliencyTarget_ : -1;
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

void AnalysisSession::setSaliencyMethods(const QStringList& methods, int target, const SaliencyParams& params) {
  saliencyMethods_ = methods;
  saliencyTarget_ = target;
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

}  // namespace fs::ui
