#pragma once
// GUI-thread state of one analysis session: the current image, the model slots and the latest
// results, kept in sync with the Worker through typed jobs (ui/jobs.h). Panels read from here and
// listen to its signals: slotChanged when a slot is loaded or removed, resultChanged(slot, kind)
// when one result arrives, so a view repaints the cell that changed. User actions call its
// functions, which submit jobs. idle() fires when no request is pending (the "current analysis"
// is complete). Display settings live here too: changing them only repaints (no recomputation).
// GUI thread only.
#include "analysis/colormap.h"
#include "ui/worker.h"

#include <QImage>
#include <QObject>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <array>
#include <map>
#include <memory>
#include <optional>

namespace fs::ui {

class FeatureVisSession;

struct DisplayOptions {
  fs::analysis::Colormap colormap = fs::analysis::Colormap::Viridis;
  fs::analysis::SignMode sign = fs::analysis::SignMode::Signed;
  QString norm = QStringLiteral("tap");      // channel | tap | shared
  double clipPercentile = 99.5;
  double alpha = 0.55;

  // Feature maps: signed data on the default colormap reads better on a diverging one.
  fs::analysis::Colormap featureColormap() const {
    return sign == fs::analysis::SignMode::Signed && colormap == fs::analysis::Colormap::Viridis
               ? fs::analysis::Colormap::Diverging
               : colormap;
  }
  // Saliency overlays follow the method's convention (SaliencyMapResult::display: sign, clip and
  // colormap, the same as featurescope-cli saliency, the figure and the export); the panel sets
  // only their opacity.
  fs::analysis::DisplaySettings saliencySettings(const fs::analysis::DisplaySettings& method) const {
    fs::analysis::DisplaySettings ds = method;
    ds.alpha = alpha;
    return ds;
  }
};

// Which result of a slot changed (resultChanged).
enum class ResultKind { Prediction, StageMaps, CompareSaliency, Saliency, Statistics };

struct SlotState {
  bool loaded = false;
  fs::service::SlotInfo info;
  std::optional<fs::service::SlotPrediction> prediction;
  std::optional<fs::service::StageMaps> stages;
  std::optional<fs::service::SaliencyMapResult> compareSaliency;
  std::map<QString, fs::service::SaliencyMapResult> saliency;  // saliency view, by method
  std::optional<fs::service::SlotStatistics> statistics;
};

class AnalysisSession : public QObject {
  Q_OBJECT

 public:
  explicit AnalysisSession(QObject* parent = nullptr);
  ~AnalysisSession() override;

  // Images, decoded on the worker; imageChanged() when the image is there. Errors ->
  // errorOccurred (naming the file), the previous image stays.
  void openImageFile(const QString& path);
  void openImageBytes(const QByteArray& bytes, const QString& name);
  void setImage(const QImage& image, const QString& name);
  const cv::Mat& image() const { return image_; }
  QImage imageQ() const { return imageQ_; }
  QString imageName() const { return imageName_; }
  QString imagePath() const { return imagePath_; }  // the file shown; empty for pasted/test-set images

  // Model slots (0..3).
  void loadSlot(int slot, const QString& idOrConfig, const QString& weights = {});
  int addSlot(const QString& idOrConfig, const QString& weights = {});  // first free slot, or -1
  void removeSlot(int slot);
  // Moves a slot up (delta < 0) or down in the display order of every view.
  void moveSlot(int slot, int delta);
  const SlotState& slot(int i) const { return slots_[size_t(i)]; }
  QList<int> loadedSlots() const;  // in display order
  // "id" or "id|weights" per loaded slot, in display order (what QSettings keeps).
  QStringList slotSpecs() const;

  // What the views show.
  void setCompareOptions(int k, const QString& rank);
  int compareK() const { return compareK_; }
  QString compareRank() const { return compareRank_; }
  void setCompareMethod(const QString& method);
  QString compareMethod() const { return compareMethod_; }
  // The saliency view's matrix: methods x models for one target class, given by name and mapped
  // to each model's own label index (empty name, or a class a model lacks: that model's top-1).
  void setSaliencyMethods(const QStringList& methods, const QString& targetName,
                          const fs::service::SaliencyParams& params);
  QStringList saliencyMethods() const { return saliencyMethods_; }
  QString saliencyTargetName() const { return saliencyTargetName_; }
  const fs::service::SaliencyParams& saliencyParams() const { return saliencyParams_; }
  void setSaliencyViewActive(bool on);
  void requestTapMaps(int slot, const QString& tap, const QString& rank);
  const std::optional<fs::service::TapMaps>& tapMaps() const { return tapMaps_; }
  void setStatisticsActive(bool on);
  // The Attention view: one block's attention of a slot, recomputed with each new image.
  void requestAttention(int slot, const QString& unit);
  const std::optional<fs::service::AttentionMaps>& attention() const { return attention_; }
  // The Evaluate view's scorecard (evaluationChanged when it arrives) and the Saliency view's
  // sanity cascade of one slot and method on the current image (sanityCascadeChanged; dropped with
  // the image).
  // Without request.outDir, each run writes its scorecard files into a folder of the session's
  // (ModelScorecard::scorecardPath), kept until a later run's result arrives.
  void requestEvaluation(fs::service::EvaluationRequest request);
  const std::optional<fs::service::EvaluationResult>& evaluation() const { return evaluation_; }
  // mode: cascading or independent. A cancel (cancel()) stops it within one randomised unit and
  // keeps the previous cascade.
  void requestSanityCascade(int slot, const QString& method, const QString& mode = QStringLiteral("cascading"));
  const std::optional<fs::service::SanityCascadeMaps>& sanityCascade() const { return sanityCascade_; }
  void requestCka(int slotA, int slotB, const QStringList& imagePaths);
  const std::optional<fs::service::SessionCka>& cka() const { return cka_; }

  // Exports: the paper figure of the loaded slots (figureReady), a manifest next to an exported
  // file (manifestWritten), a folder through the batch engine (batchExportFinished).
  void requestPaperFigure(const fs::analysis::FeatureFigureOptions& options);
  void writeManifest(const QString& exportPath, const fs::service::ExportRecord& record);
  void batchExport(const fs::service::SessionBatchExport& request);

  // Fashion-MNIST test set: misclassified images of a slot (testSetReady), one image by index.
  void requestTestSet(int slot, int limit);
  void openTestImage(int index);

  void setDisplay(const DisplayOptions& d);
  const DisplayOptions& display() const { return display_; }

  // Feature visualisation: exemplars, activation maximisation, ERF, selectivity (ui/feature_vis_session.h).
  FeatureVisSession& featureVis() { return *featureVis_; }

  bool busy() const { return !pending_.isEmpty(); }
  void cancel();
  // A view's own failure (e.g. a file it could not save): errorOccurred, shown as every error is.
  void reportError(const QString& message) { Q_EMIT errorOccurred(message); }
  Worker& worker() { return *worker_; }

 Q_SIGNALS:
  void imageRequested();  // an image is being opened (decoded on the worker)
  void imageChanged();    // ... and is now the current image
  void slotChanged(int slot);  // loaded or removed
  void resultChanged(int slot, fs::ui::ResultKind kind);  // one of its results arrived or was dropped
  void tapMapsChanged();
  void attentionChanged();
  void saliencyMatrixChanged();  // other methods, target or parameters: the matrix starts over
  void ckaChanged();
  void evaluationChanged();
  void sanityCascadeChanged();
  void figureReady(const fs::analysis::FigureLayout& layout);
  void manifestWritten(const QString& manifestPath);
  void batchExportFinished(const fs::service::SessionBatchResult& result);
  void slotOrderChanged();
  void testSetReady(const fs::service::TestSetReport& report);
  void displayChanged();
  void progress(double fraction, const QString& what);
  void busyChanged(bool busy);
  void idle();
  void errorOccurred(const QString& message);

 private:
  friend class FeatureVisSession;  // submits its jobs
  void recompute(int slot);
  void persistSlots() const;
  void requestSaliencyMatrix(int slot);
  quint64 submit(JobRequest request, const QString& what = {});
  void onDone(quint64 id, const JobResult& result);
  void onFailed(quint64 id, const QString& message);
  void onFinished(quint64 id);
  void slotLoaded(quint64 id, const fs::service::SlotInfo& info);
  void imageOpened(const fs::service::OpenedImage& image);
  void saliencyArrived(const job::Saliency::Result& r);
  void evaluationArrived(const job::Evaluate::Result& e);

  // The Evaluate view's runs keep their scorecard files here, one folder per run, until a later
  // run's result arrives (saveScorecard copies them). Declared before worker_, so it outlives it.
  std::unique_ptr<QTemporaryDir> evaluationFiles_;
  QStringList evaluationRuns_;  // the run folders not yet removed, oldest first
  int evaluationRun_ = 0;
  std::unique_ptr<Worker> worker_;
  FeatureVisSession* featureVis_ = nullptr;  // child QObject
  cv::Mat image_;
  QImage imageQ_;
  QString imageName_;
  QString imagePath_;
  std::array<SlotState, fs::service::kMaxSlots> slots_;
  std::map<quint64, QString> requestWhat_;  // for error messages
  std::map<quint64, int> loadRequests_;     // load request -> slot
  std::map<quint64, QString> loadWeights_;  // load request -> the checkpoint the user chose
  std::array<QString, fs::service::kMaxSlots> slotWeights_;
  QList<int> order_;                        // display order of slot indices
  QSet<quint64> pending_;
  int compareK_ = 12;
  QString compareRank_ = QStringLiteral("first");
  QString compareMethod_ = QStringLiteral("gradcam");
  QStringList saliencyMethods_{QStringLiteral("gradcam"), QStringLiteral("gradient"), QStringLiteral("layercam")};
  QString saliencyTargetName_;
  fs::service::SaliencyParams saliencyParams_;
  bool saliencyActive_ = false, statisticsActive_ = false;
  std::optional<fs::service::TapMaps> tapMaps_;
  std::optional<fs::service::SessionCka> cka_;
  std::optional<fs::service::AttentionMaps> attention_;
  std::optional<fs::service::EvaluationResult> evaluation_;
  std::optional<fs::service::SanityCascadeMaps> sanityCascade_;
  int attentionSlot_ = -1;
  QString attentionUnit_;
  int tapSlot_ = -1;
  QString tapName_, tapRank_;
  DisplayOptions display_;
};

}  // namespace fs::ui
