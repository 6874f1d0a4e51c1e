#pragma once
// The compare view (the ConvMLP paper figure, live): rows = model slots, columns = the input,
// aligned stages (first-k or ranked top-k channels of each stage tap) and a saliency overlay.
// Hovering any map moves a linked cursor to the same original-image location in every map.
// GUI thread only.
#include "analysis/colormap.h"

#include <QPointF>
#include <QWidget>

#include <optional>
#include <vector>

class QComboBox;
class QGridLayout;
class QHBoxLayout;
class QLabel;
class QSpinBox;

namespace fs::ui {

class AnalysisSession;
struct SlotState;
class MapGrid;

class CompareView : public QWidget {
  Q_OBJECT

 public:
  explicit CompareView(AnalysisSession* session, QWidget* parent = nullptr);
  std::vector<MapGrid*> maps() const;           // every map, row-major
  std::vector<MapGrid*> stageMaps(int row) const;  // the stage cells of one row
  void setLinkedCursor(const std::optional<QPointF>& original);
  // Sets the controls (a workspace being opened) and the session's options once.
  void setOptions(int k, const QString& rank, const QString& method);

 private:
  QHBoxLayout* buildBar();
  void rebuild();   // the grid's structure: a slot loaded, removed or moved, a new image
  void restyle();   // every cell (display options changed)
  // One cell kind of one row, after its result arrived (per-cell updates).
  const SlotState* rowState(int row) const;
  void paintInput(int row);
  void paintStages(int row, const std::optional<fs::analysis::ValueRange>& shared);
  void paintSaliency(int row);

  AnalysisSession* session_;
  QSpinBox* k_;
  QComboBox* rank_;
  QComboBox* method_;
  QGridLayout* gridLayout_;
  std::vector<std::vector<MapGrid*>> rows_;  // [row][col]: input, stages..., saliency
  std::vector<QLabel*> rowLabels_;           // model name and top-1 per row
  std::optional<QPointF> cursor_;
};

}  // namespace fs::ui
