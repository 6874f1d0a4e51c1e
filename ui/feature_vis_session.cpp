#include "ui/feature_vis_session.h"

#include "ui/analysis_session.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace fs::ui {

using namespace fs::service;

FeatureVisSession::FeatureVisSession(AnalysisSession& session) : QObject(&session), session_(session) {
  connect(&session_, &AnalysisSession::slotChanged, this, [this](int slot) {
    const SlotState& s = session_.slot(slot);
    auto it = ready_.find(slot);
    if (!s.loaded || (it != ready_.end() && it->second.modelId != s.info.modelId)) dropSlot(slot);
  });
  // An image opened from an exemplar carries its mark; any other image clears it. imageRequested
  // comes synchronously from submit(), before openExemplar() sets the pending mark.
  connect(&session_, &AnalysisSession::idle, this, [this] { selectivityPending_.reset(); });  // failed or cancelled
  connect(&session_, &AnalysisSession::imageRequested, this, [this] { pendingMark_.reset(); });
  connect(&session_, &AnalysisSession::imageChanged, this, [this] {
    mark_ = pendingMark_;
    pendingMark_.reset();
    Q_EMIT markChanged();
  });
}

void FeatureVisSession::setDataset(const QString& folder, int limit) {
  FeatureDataset d{folder.toStdString(), limit};
  if (d.folder == data_.folder && d.limit == data_.limit) return;
  data_ = d;
  Q_EMIT datasetChanged();
}

QString FeatureVisSession::datasetText() const {
  const QString n = data_.limit > 0 ? tr("the first %1").arg(data_.limit) : tr("all");
  if (data_.folder.empty()) return tr("%1 Fashion-MNIST test images").arg(n);
  return tr("%1 images of %2").arg(n, QDir::toNativeSeparators(QString::fromStdString(data_.folder)));
}

QString FeatureVisSession::cacheDir() {
  const QString chosen = qEnvironmentVariable("FEATURESCOPE_CACHE_DIR");
  if (!chosen.isEmpty()) return chosen;
  QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
  if (dir.isEmpty()) dir = QDir::tempPath() + QStringLiteral("/featurescope-cache");
  return dir;
}

bool FeatureVisSession::current(int slot, const std::string& modelId) const {
  return slot >= 0 && slot < kMaxSlots && session_.slot(slot).loaded && session_.slot(slot).info.modelId == modelId;
}

void FeatureVisSession::dropSlot(int slot) {
  ready_.erase(slot);
  erf_.erase(slot);
  if (channel_ && channel_->slot == slot) channel_.reset();
  if (vis_ && vis_->slot == slot) vis_.reset();
  if (selectivity_ && selectivity_->slot == slot) selectivity_.reset();
  Q_EMIT exemplarsChanged(slot);
  Q_EMIT channelExemplarsChanged();
  Q_EMIT visualizationChanged();
  Q_EMIT erfChanged(slot);
  Q_EMIT selectivityChanged();
}

void FeatureVisSession::computeExemplars(int slot) {
  ExemplarsRequest r;
  r.slot = slot, r.data = data_, r.k = 9, r.cacheDir = cacheDir().toStdString();
  session_.submit(job::Exemplars{r});
}

const ExemplarsReady* FeatureVisSession::exemplars(int slot) const {
  auto it = ready_.find(slot);
  return it != ready_.end() && current(slot, it->second.modelId) ? &it->second : nullptr;
}

void FeatureVisSession::requestChannelExemplars(int slot, const QString& tap, int channel) {
  if (!exemplars(slot) || tap.isEmpty() || channel < 0) return;
  job::ChannelExemplars j;
  j.slot = slot, j.tap = tap.toStdString(), j.channel = channel;
  session_.submit(j);
}

void FeatureVisSession::openExemplar(const ChannelExemplar& e) {
  if (e.testIndex >= 0)
    session_.openTestImage(e.testIndex);
  else
    session_.openImageFile(QString::fromStdString(e.path));
  pendingMark_ = QRectF(QPointF(e.originalBox[0], e.originalBox[1]), QPointF(e.originalBox[2], e.originalBox[3]));
}

void FeatureVisSession::visualize(int slot, const QString& tap, int channel, int steps) {
  ChannelVisRequest r;
  r.slot = slot, r.tap = tap.toStdString(), r.channel = channel, r.steps = steps;
  session_.submit(job::VisualizeChannel{r});
}

void FeatureVisSession::requestErf(int slot, int images) {
  ErfRequest r;
  r.slot = slot, r.data = FeatureDataset{data_.folder, images};
  session_.submit(job::Erf{r});
}

const SlotErf* FeatureVisSession::erf(int slot) const {
  auto it = erf_.find(slot);
  return it != erf_.end() && current(slot, it->second.modelId) ? &it->second : nullptr;
}

void FeatureVisSession::requestSelectivity(int slot, const QString& tap) {
  if (slot < 0 || tap.isEmpty()) return;
  const SelectivityRequest r{slot, tap.toStdString(), data_};
  const auto& p = selectivityPending_;
  if (p && p->slot == slot && p->tap == r.tap && p->data.folder == data_.folder && p->data.limit == data_.limit) return;
  selectivityData_ = data_;  // a newer request supersedes an older one: the answer is this one's
  selectivityPending_ = r;
  session_.submit(job::Selectivity{r});
}

const ChannelSelectivity* FeatureVisSession::selectivity(int slot, const QString& tap) const {
  if (!selectivity_ || selectivity_->slot != slot || selectivity_->tap != tap.toStdString()) return nullptr;
  if (selectivityData_.folder != data_.folder || selectivityData_.limit != data_.limit) return nullptr;
  return &*selectivity_;
}

void FeatureVisSession::receive(const ExemplarsReady& r) {
  if (!current(r.slot, r.modelId)) return;
  ready_[r.slot] = r;
  Q_EMIT exemplarsChanged(r.slot);
}

void FeatureVisSession::receive(const ChannelExemplars& r) {
  channel_ = r;
  Q_EMIT channelExemplarsChanged();
}

void FeatureVisSession::receive(const ChannelVis& r) {
  vis_ = r;
  Q_EMIT visualizationChanged();
}

void FeatureVisSession::receive(const SlotErf& r) {
  if (!current(r.slot, r.modelId)) return;
  erf_[r.slot] = r;
  Q_EMIT erfChanged(r.slot);
}

void FeatureVisSession::receive(const ChannelSelectivity& r) {
  selectivity_ = r;
  selectivityPending_.reset();
  Q_EMIT selectivityChanged();
}

}  // namespace fs::ui
