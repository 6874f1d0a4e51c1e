#pragma once
// One channel of a tap, large: the map with its colour bar and the value under the cursor, an
// optional overlay on the input image, its dataset exemplars and activation maximisation
// (ui/exemplar_panel.h), its statistics and a histogram of its values (QCustomPlot).
// GUI thread only.
#include "service/types.h"

#include <QImage>
#include <QWidget>

class QCheckBox;
class QCustomPlot;
class QLabel;

namespace fs::ui {

class AnalysisSession;
class ExemplarPanel;
class MapGrid;

class ChannelDetail : public QWidget {
  Q_OBJECT

 public:
  explicit ChannelDetail(AnalysisSession* session, QWidget* parent = nullptr);

  // Shows channel `channel` of the session's current tap maps (-1 clears).
  void showChannel(int channel);
  int channel() const { return channel_; }
  const cv::Mat& map() const { return map_; }  // raw CV_32F values of the shown channel
  MapGrid* mapView() const { return view_; }
  QCustomPlot* histogram() const { return histogram_; }
  ExemplarPanel* exemplars() const { return exemplars_; }  // the channel's dataset exemplars
  int histogramBins() const;
  QString title() const;

 private:
  void redraw();
  void drawMap();
  void showStats(double mn, double mx);
  void plotHistogram(double mn, double mx);

  AnalysisSession* session_;
  MapGrid* view_;
  QCheckBox* overlay_;
  ExemplarPanel* exemplars_;
  QLabel* stats_;
  QCustomPlot* histogram_;
  int channel_ = -1;
  cv::Mat map_;
  fs::service::SessionCrop crop_;
};

}  // namespace fs::ui
