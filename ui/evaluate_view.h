#pragma once
// The Evaluate view (issue 14): a scorecard of saliency methods x metrics over a data set for the
// loaded models. Checkable lists of the slots, the methods (each model uses those that apply to
// it) and the metrics, the data (the Fashion-MNIST test set's first N images or the open image's
// folder), the scorecard's settings (as `featurescope-cli evaluate`: --curve-steps of the deletion
// and insertion curves, default 50; --substrate rise, black, zero or blur; --seed), Run /
// Cancel with a progress bar. The result (EvaluationService, the same numbers as
// `featurescope-cli evaluate`): a table with a row per model x method and a column per metric key,
// "mean [lo, hi]" with the bootstrap 95% CI and the rank in the tooltip, the better direction in the
// header; a QCustomPlot chart of the selected column (bars with CI whiskers); and for a clicked cell
// the images where that method did worst on that metric, each of which opens in the session and in
// the Compare or the Saliency view. GUI thread only.
#include "service/evaluation_service.h"

#include <QWidget>

class QCustomPlot;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QTableWidget;

namespace fs::ui {

class AnalysisSession;
class EvaluateSettings;

class EvaluateView : public QWidget {
  Q_OBJECT

 public:
  explicit EvaluateView(AnalysisSession* session, QWidget* parent = nullptr);

  // What the lists hold and which are checked (slots by index; methods and metrics by name).
  void setChoice(const QList<int>& slots, const QStringList& methods, const QStringList& metrics);
  void setFashionMnist(int images);  // the data: the first N test images ...
  void setOpenFolder();              // ... or the open image's folder
  // evaluate --curve-steps, --substrate (rise, black, zero, blur) and --seed.
  void setSettings(int curveSteps, const QString& substrate, int seed);
  fs::service::EvaluationRequest request() const;  // what Run submits
  void run();
  void cancel();

  // The result's table (rows model x method, columns metric keys) and chart; a cell's worst images.
  QTableWidget* table() const { return table_; }
  QCustomPlot* chart() const { return chart_; }
  QListWidget* worstList() const { return worst_; }
  void selectCell(int row, int column);
  // Opens worst image `i` in the session and asks for `view` ("compare" or "saliency").
  void openWorst(int i, const QString& view);

 Q_SIGNALS:
  void showViewRequested(const QString& name);

 private:
  void refreshSlots();
  void refreshMethods();
  void showResult();
  void drawChart(int column);
  void listWorst(int row, int column);
  QString folder() const;

  AnalysisSession* session_;
  QListWidget* slots_;
  QListWidget* methods_;
  QListWidget* metrics_;
  QRadioButton* fmnist_;
  QRadioButton* folder_;
  QSpinBox* count_;
  QLabel* folderLabel_;
  EvaluateSettings* settings_;
  QPushButton* run_;
  QPushButton* cancel_;
  QProgressBar* progress_;
  QLabel* summary_;
  QTableWidget* table_;
  QCustomPlot* chart_;
  QLabel* worstTitle_;
  QListWidget* worst_;
  QPushButton* openCompare_;
  QPushButton* openSaliency_;
  // Table row -> (model index in the result, method index).
  std::vector<std::pair<size_t, size_t>> rows_;
  std::vector<size_t> worstImages_;  // the listed images (indices into the row's model's images)
  size_t worstModel_ = 0, worstMethod_ = 0;
  bool running_ = false;
};

}  // namespace fs::ui
