#pragma once
// The compare view (the ConvMLP paper figure, live): rows = model slots, columns = the input,
// aligned stages (first-k or ranked top-k channels of each stage tap) and a saliency overlay.
// Hovering any map moves a linked cursor to the same original-image location in every map.
// GUI thread only.
#include <QPointF>
#include <QWidget>

#include <optional>
#include <vector>

class QComboBox;
class QGridLayout;
class QSpinBox;

namespace fs::ui {

class AnalysisSession;
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
  void rebuild();
  void restyle();

  AnalysisSession* session_;
  QSpinBox* k_;
  QComboBox* rank_;
  QComboBox* method_;
  QGridLayout* gridLayout_;
  std::vector<std::vector<MapGrid*>> rows_;  // [row][col]: input, stages..., saliency
  std::optional<QPointF> cursor_;
};

}  // namespace fs::ui
