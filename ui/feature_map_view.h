#pragma once
// The feature-map view: every channel of one tap of one model as a tile (virtualised), sortable
// by a channel statistic; clicking a channel opens it large in the channel detail. Display
// changes recolour the cached maps; only a new model/tap asks the worker. GUI thread only.
#include <QWidget>

#include <vector>

class QComboBox;
class QHBoxLayout;
class QLabel;
class QSlider;

namespace fs::ui {

class AnalysisSession;
class ChannelDetail;
class TileWall;

class FeatureMapView : public QWidget {
  Q_OBJECT

 public:
  explicit FeatureMapView(AnalysisSession* session, QWidget* parent = nullptr);

  // Called when the view becomes visible or hidden: it only asks for maps while shown.
  void setActive(bool on);
  void selectModel(int slot);
  void selectTap(const QString& tap);
  // channel | mean | max | std | sparsity | selectivity (analysis/features/selectivity.h: the class
  // selectivity index of Morcos et al. 2018 over the test set, the lifetime sparseness of Vinje &
  // Gallant 2000 over a folder; computed on the worker over the exemplars' data set)
  void setSort(const QString& key);
  QString sortNote() const;  // what the order is, for selectivity
  TileWall* tiles() const { return tiles_; }
  ChannelDetail* detail() const { return detail_; }
  QComboBox* tapBox() const { return tap_; }

 private:
  QHBoxLayout* createToolBar();
  void createSortChooser();
  void refreshModels();
  void refreshTaps();
  void request();
  void onMaps();
  void restyle();
  void applySort();

  AnalysisSession* session_;
  QComboBox* model_;
  QComboBox* tap_;
  QComboBox* sort_;
  QSlider* size_;
  QLabel* info_;
  QLabel* sortNote_;
  TileWall* tiles_;
  ChannelDetail* detail_;
  bool active_ = false;
};

}  // namespace fs::ui
