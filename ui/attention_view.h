#pragma once
// The attention view (ViT/DeiT): for a chosen model and block, the attention of one query token
// over the patch grid, drawn over the image: the class token's (or the distillation token's), or
// that of the patch the user clicks. The mean over heads large, each head as a small multiple
// beside it (one shared range, so heads compare). Raw attention of one block; attention rollout and
// its gradient-weighted form are saliency methods. GUI thread only.
#include "analysis/colormap.h"
#include "service/types.h"

#include <QPointF>
#include <QWidget>

#include <optional>
#include <vector>

class QComboBox;
class QGridLayout;
class QHBoxLayout;
class QLabel;

namespace fs::ui {

class AnalysisSession;
class MapGrid;

class AttentionView : public QWidget {
  Q_OBJECT

 public:
  explicit AttentionView(AnalysisSession* session, QWidget* parent = nullptr);
  void setActive(bool on);
  // Selects a block by unit name (e.g. blocks.11.attn) or a query: a prefix token's index, or a
  // patch token under an original-image point.
  void selectUnit(const QString& unit);
  void selectPrefixQuery(int token);
  void selectPatchQuery(QPointF original);
  MapGrid* meanMap() const { return mean_; }
  const std::vector<MapGrid*>& headMaps() const { return heads_; }
  QString caption() const;  // what the maps show (model, block, query)

 private:
  QHBoxLayout* buildBar();
  void connectSignals();
  void refreshModels();
  void refreshUnits();
  void request();
  void redraw();

  AnalysisSession* session_;
  QComboBox* model_;
  QComboBox* unit_;
  QComboBox* query_;
  QLabel* note_;
  MapGrid* mean_;
  QGridLayout* headGrid_;
  std::vector<MapGrid*> heads_;
  std::optional<QPointF> hover_;   // the last hovered original-image point on the mean map
  std::optional<QPointF> patch_;   // the clicked patch (original-image point), when the query is a patch
  bool active_ = false;
};

}  // namespace fs::ui
