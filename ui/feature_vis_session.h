#pragma once
// GUI-thread state of feature visualisation (issue 15), owned by AnalysisSession: which images the
// passes run over (the Fashion-MNIST test set's first N or the open image's folder), each slot's
// exemplar index, the inspected channel's exemplars, its activation maximisation, the stages' ERF,
// a tap's channel selectivity, and the mark (an exemplar's receptive field) on the image opened
// from an exemplar, cleared when another image opens. Jobs run on the session's worker
// (ui/jobs.h); results arrive through receive(). GUI thread only.
#include "service/feature_vis_types.h"

#include <QObject>
#include <QRectF>
#include <QString>

#include <map>
#include <optional>

namespace fs::ui {

class AnalysisSession;

class FeatureVisSession : public QObject {
  Q_OBJECT

 public:
  explicit FeatureVisSession(AnalysisSession& session);

  // The images: an empty folder means the Fashion-MNIST test set; limit = the first N (0: all).
  void setDataset(const QString& folder, int limit);
  const fs::service::FeatureDataset& dataset() const { return data_; }
  QString datasetText() const;  // e.g. "the first 1000 Fashion-MNIST test images"
  // Where exemplar indexes are kept: $FEATURESCOPE_CACHE_DIR when set, else
  // QStandardPaths::CacheLocation (the XDG cache, e.g. ~/.cache/<organisation>/FeatureScope).
  static QString cacheDir();

  void computeExemplars(int slot);
  // The slot's index, when it matches the slot's current model.
  const fs::service::ExemplarsReady* exemplars(int slot) const;
  void requestChannelExemplars(int slot, const QString& tap, int channel);
  const std::optional<fs::service::ChannelExemplars>& channelExemplars() const { return channel_; }
  // Opens the exemplar's image in the session (test image or file) and marks its receptive field.
  void openExemplar(const fs::service::ChannelExemplar& e);
  const std::optional<QRectF>& mark() const { return mark_; }  // original-image pixel edges

  void visualize(int slot, const QString& tap, int channel, int steps = 256);
  const std::optional<fs::service::ChannelVis>& visualization() const { return vis_; }

  void requestErf(int slot, int images);
  const fs::service::SlotErf* erf(int slot) const;

  void requestSelectivity(int slot, const QString& tap);
  // The selectivity of (slot, tap) over the current dataset, when computed.
  const fs::service::ChannelSelectivity* selectivity(int slot, const QString& tap) const;

  // From AnalysisSession::onDone.
  void receive(const fs::service::ExemplarsReady& r);
  void receive(const fs::service::ChannelExemplars& r);
  void receive(const fs::service::ChannelVis& r);
  void receive(const fs::service::SlotErf& r);
  void receive(const fs::service::ChannelSelectivity& r);

 Q_SIGNALS:
  void exemplarsChanged(int slot);
  void channelExemplarsChanged();
  void visualizationChanged();
  void erfChanged(int slot);
  void selectivityChanged();
  void markChanged();
  void datasetChanged();

 private:
  bool current(int slot, const std::string& modelId) const;
  void dropSlot(int slot);

  AnalysisSession& session_;
  fs::service::FeatureDataset data_;
  std::map<int, fs::service::ExemplarsReady> ready_;
  std::optional<fs::service::ChannelExemplars> channel_;
  std::optional<fs::service::ChannelVis> vis_;
  std::map<int, fs::service::SlotErf> erf_;
  std::optional<fs::service::ChannelSelectivity> selectivity_;
  fs::service::FeatureDataset selectivityData_;
  std::optional<fs::service::SelectivityRequest> selectivityPending_;  // until answered or idle
  std::optional<QRectF> mark_, pendingMark_;
};

}  // namespace fs::ui
