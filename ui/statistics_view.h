#pragma once
// The statistics view (QCustomPlot): activation histograms of one stage for every model,
// sparsity and mean activation against relative depth, and a linear-CKA heatmap between the
// taps of two models over a set of images (the open folder, else the bundled samples), and the
// effective receptive field of each stage of one model (ui/erf_panel.h).
// GUI thread only.
#include <QStringList>
#include <QWidget>

#include <functional>

class QComboBox;
class QCustomPlot;
class QGridLayout;
class QHBoxLayout;
class QLabel;
class QPushButton;

namespace fs::ui {

class AnalysisSession;
class ErfPanel;

class StatisticsView : public QWidget {
  Q_OBJECT

 public:
  // imageSource: the images CKA runs over.
  StatisticsView(AnalysisSession* session, std::function<QStringList()> imageSource, QWidget* parent = nullptr);

  void setActive(bool on);
  void computeCka(int slotA, int slotB);
  QCustomPlot* histogramPlot() const { return histogram_; }
  QCustomPlot* sparsityPlot() const { return sparsity_; }
  QCustomPlot* meanPlot() const { return mean_; }
  QCustomPlot* ckaPlot() const { return cka_; }
  QSize ckaCells() const;
  ErfPanel* erfPanel() const { return erf_; }  // effective receptive fields (ui/erf_panel.h)  // the heatmap's tap counts (B, A), empty when none

 private:
  QHBoxLayout* createBar();
  QGridLayout* createPlots();
  void connectSignals();
  void refreshModels();
  void replotStatistics();
  void replotCka();
  void maybeAutoCka();

  AnalysisSession* session_;
  std::function<QStringList()> images_;
  QComboBox* stage_;
  QComboBox* modelA_;
  QComboBox* modelB_;
  QPushButton* ckaButton_;
  QLabel* ckaInfo_;
  QCustomPlot* histogram_;
  QCustomPlot* sparsity_;
  QCustomPlot* mean_;
  QCustomPlot* cka_;
  ErfPanel* erf_;
  bool active_ = false;
  bool autoCkaDone_ = false;
};

}  // namespace fs::ui
