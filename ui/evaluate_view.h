#pragma once
// The Evaluate view (issue 14): a scorecard of saliency methods x metrics over a data set for the
// loaded models. Checkable lists of the slots, the methods (each model uses those that apply to
// it) and the metrics, the data (the Fashion-MNIST test set's first N images or the open image's
// folder), the scorecard's settings (as `featurescope-cli evaluate`: --curve-steps of the deletion
// and insertion curves, default 50; --substrate rise, black, zero or blur; --seed), Run /
// Cancel with a progress bar; the result in a ScorecardPanel (scorecard_panel.h): the table with
// CIs and ranks, the chart of a column, a cell's worst images. GUI thread only.
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
class ScorecardPanel;

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
  void setWorkers(int workers);  // 0: Auto
  fs::service::EvaluationRequest request() const;  // what Run submits
  void run();
  void cancel();
  // The scorecard shown, saved as evaluate --out ... --figure FIG leaves it (ui/scorecard_files.h),
  // a PNG at the resolution beside Save… (setSaveDpi; 300 by default): true when written; else the
  // error goes to the session's errorOccurred and nothing is left.
  bool save(const QString& figurePath);
  void setSaveDpi(int dpi);

  // The result's table (rows model x method, columns metric keys) and chart; a cell's worst images
  // (ScorecardPanel's).
  QTableWidget* table() const;
  QCustomPlot* chart() const;
  QListWidget* worstList() const;
  void selectCell(int row, int column);
  // Opens worst image `i` in the session and asks for `view` ("compare" or "saliency").
  void openWorst(int i, const QString& view);

 Q_SIGNALS:
  void showViewRequested(const QString& name);

 private:
  void createButtons();
  QWidget* layoutControls();
  void connectControls();
  void refreshSlots();
  void refreshMethods();
  void showResult();
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
  QPushButton* save_;
  QSpinBox* saveDpi_;
  QProgressBar* progress_;
  ScorecardPanel* panel_;
  bool running_ = false;
};

}  // namespace fs::ui
