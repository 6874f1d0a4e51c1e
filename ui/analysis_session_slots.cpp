// AnalysisSession's model slots: loading (and the answer), adding, removing and reordering them,
// and the loaded slots remembered in the settings.
#include "ui/analysis_session.h"

#include "ui/settings_keys.h"

#include <QFileInfo>
#include <QSettings>

namespace fs::ui {

void AnalysisSession::slotLoaded(quint64 id, const SlotInfo& info) {
  slotWeights_[size_t(info.slot)] = loadWeights_[id];
  SlotState& s = slots_[size_t(info.slot)];
  s = SlotState{};
  s.loaded = true;
  s.info = info;
  if (!order_.contains(info.slot)) order_.push_back(info.slot);
  persistSlots();
  Q_EMIT slotChanged(info.slot);
  recompute(info.slot);
}

void AnalysisSession::loadSlot(int slot, const QString& idOrConfig, const QString& weights) {
  const QString what = weights.isEmpty()
                           ? tr("Loading %1 into slot %2").arg(idOrConfig).arg(slot + 1)
                           : tr("Loading %1 with %2 into slot %3 (the previous model stays loaded)")
                                 .arg(idOrConfig, QFileInfo(weights).fileName())
                                 .arg(slot + 1);
  const quint64 id = submit(job::LoadSlot{slot, idOrConfig.toStdString(), weights.toStdString()}, what);
  loadRequests_[id] = slot;
  loadWeights_[id] = weights;
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
  submit(job::ClearSlot{slot});
  if (slot == attentionSlot_ && attention_) {
    attention_.reset();
    Q_EMIT attentionChanged();
  }
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

}  // namespace fs::ui
