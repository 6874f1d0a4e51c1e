#pragma once
// The Saliency view's sanity cascade (Adebayo et al. 2018, "Sanity Checks for Saliency Maps",
// Figure 2) for the current image, one slot and one method, computed on the worker on demand
// (SanityService: analysis::runSanityCascade, the same as `featurescope-cli sanity`): the row of
// maps as the units are randomised from the logits down (the analysis figure, each map on its own
// scale) and the similarity curves to the original map (Spearman, |Spearman|, SSIM, HOG) in a
// QCustomPlot. The mode (cascading, or independent: one unit at a time) is chosen in the panel.
// While it runs, a progress bar per randomised unit and Cancel: a cancelled run keeps the previous
// cascade on show. A window beside the main one; a new image drops the cascade. GUI thread only.
#include <QDialog>

class QComboBox;
class QCustomPlot;
class QHBoxLayout;
class QLabel;
class QProgressBar;
class QPushButton;

namespace fs::ui {

class AnalysisSession;

class SanityCascadePanel : public QDialog {
  Q_OBJECT

 public:
  explicit SanityCascadePanel(AnalysisSession* session, QWidget* parent = nullptr);
  // Asks the worker for the cascade of `method` on `slot` and the current image, in the chosen mode.
  void request(int slot, const QString& method);
  void cancel();
  void setMode(const QString& mode);  // cascading or independent
  QString mode() const;
  bool running() const { return running_; }
  QProgressBar* progress() const { return progress_; }
  QLabel* figure() const { return figure_; }
  QCustomPlot* curves() const { return curves_; }
  QString caption() const;

 private:
  QHBoxLayout* createControls();
  void connectSession();
  void showCascade();
  void setRunning(bool on);

  AnalysisSession* session_;
  QLabel* caption_;
  QLabel* figure_;
  QCustomPlot* curves_;
  QPushButton* again_;
  QPushButton* cancel_;
  QComboBox* mode_;
  QProgressBar* progress_;
  int slot_ = -1;
  QString method_;
  bool running_ = false;
};

}  // namespace fs::ui
