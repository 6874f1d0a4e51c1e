#pragma once
// The saliency view: a models x methods matrix of saliency overlays for one target class (each
// model's top-1, a class from a model's top-k, or any class by name through a completer), method
// parameters in a side panel, shared or per-map normalisation, and beside each map its
// faithfulness metrics (deletion / insertion AUC, drop in confidence) with the deletion and
// insertion curves plotted below. GUI thread only.
#include "analysis/colormap.h"
#include "service/types.h"

#include <QWidget>

#include <opencv2/core/mat.hpp>

#include <map>
#include <vector>

class QComboBox;
class QGridLayout;
class QGroupBox;
class QLabel;
class QListWidget;
class QTimer;

namespace fs::ui {

class AnalysisSession;
class FaithfulnessCurves;
class MapGrid;
class MethodParametersForm;
class SanityCascadePanel;

class SaliencyView : public QWidget {
  Q_OBJECT

 public:
  explicit SaliencyView(AnalysisSession* session, QWidget* parent = nullptr);

  void setActive(bool on);
  // Checks exactly these methods (and applies at once).
  void setMethods(const QStringList& methods);
  QStringList checkedMethods() const;
  // "" = each model's top-1; otherwise a class name (applies at once).
  void setTarget(const QString& className);
  // Methods, target and parameters at once (a workspace being opened); params.tap may name a tap
  // of models that are still loading: it is selected when they arrive.
  void setParameters(const QStringList& methods, const QString& targetName, const fs::service::SaliencyParams& params);
  std::vector<MapGrid*> cells() const;  // row-major: models x methods
  MapGrid* cell(int row, int col) const;
  QString metricsText(int row, int col) const;
  int curveCount() const;  // graphs in the deletion plot
  QString curveKeyText() const;  // the key under both curve plots (plain text)
  // The selected cell's raw map (for NPY export); empty when none.
  const cv::Mat* selectedMap() const;
  // The sanity cascade of the selected cell's model and method on the current image, in a window
  // beside this view (computed on the worker); sanityPanel() is null until first shown.
  void showSanityCascade();
  SanityCascadePanel* sanityPanel() const { return sanity_; }

 private:
  QWidget* buildSidePanel();  // saliency_view_controls.cpp, with the methods that read it
  QGroupBox* buildParameterBox();
  void apply();
  void rebuild();
  void refreshTaps();
  void addModelRow(int slot, int r);
  MapGrid* createCellMap(int rr, int cc);
  void restyle();
  // One model's row after its results changed (every row when maps share one range).
  void restyleSlot(int slot);
  void restyleCell(size_t row, int col, const std::map<QString, fs::analysis::ValueRange>& shared);
  std::map<QString, fs::analysis::ValueRange> sharedRanges() const;  // empty unless normalised together
  void refreshTargets();
  void plotCurves();

  AnalysisSession* session_;
  QListWidget* methods_;
  QComboBox* target_;
  QComboBox* tap_;
  MethodParametersForm* params_;
  QComboBox* norm_;
  QGridLayout* gridLayout_;
  FaithfulnessCurves* curves_;
  QTimer* debounce_;
  std::vector<std::vector<MapGrid*>> cells_;
  std::vector<std::vector<QLabel*>> metrics_;
  std::vector<int> rowSlots_;
  QStringList columns_;
  int selRow_ = -1, selCol_ = -1;
  bool active_ = false;
  SanityCascadePanel* sanity_ = nullptr;
  QString pendingTap_;  // set by setParameters until the tap list holds it
};

}  // namespace fs::ui
