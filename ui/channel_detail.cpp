#include "ui/channel_detail.h"

#include "analysis/colormap.h"
#include "ui/analysis_session.h"
#include "ui/exemplar_panel.h"
#include "render/image_conversion.h"
#include "ui/map_grid.h"
#include "ui/qcustomplot_include.h"
#include "service/export_service.h"

#include <opencv2/core.hpp>

#include <QCheckBox>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace fs::ui {

using namespace fs::render;

using namespace fs::analysis;
using namespace fs::service;

namespace {
constexpr int kBins = 40;
}

ChannelDetail::ChannelDetail(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  view_ = new MapGrid;
  view_->setTileSide(260);
  view_->setMinimumSize(220, 220);
  layout->addWidget(view_, 3);
  overlay_ = new QCheckBox(tr("Overlay on the input image"));
  layout->addWidget(overlay_);
  exemplars_ = new ExemplarPanel(session_);
  layout->addWidget(exemplars_);
  stats_ = new QLabel;
  stats_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  stats_->setWordWrap(true);
  layout->addWidget(stats_);
  histogram_ = new QCustomPlot;
  histogram_->setMinimumHeight(150);
  // Counts: ticks on whole numbers only (multiples of 1), never 0.5 positions.
  auto counts = QSharedPointer<QCPAxisTickerFixed>::create();
  counts->setTickStep(1.0);
  counts->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  histogram_->yAxis->setTicker(counts);
  layout->addWidget(histogram_, 2);
  connect(view_, &MapGrid::hovered, view_, [this](QPointF p) { view_->setLinkedCursor(p); });
  connect(view_, &MapGrid::hoverLeft, view_, [this] { view_->setLinkedCursor(std::nullopt); });
  connect(overlay_, &QCheckBox::toggled, this, &ChannelDetail::redraw);
  connect(session_, &AnalysisSession::displayChanged, this, &ChannelDetail::redraw);
  showChannel(-1);
}

int ChannelDetail::histogramBins() const {
  if (histogram_->plottableCount() == 0) return 0;
  auto* bars = qobject_cast<QCPBars*>(histogram_->plottable(0));
  return bars ? bars->data()->size() : 0;
}

QString ChannelDetail::title() const { return view_->property("title").toString(); }

void ChannelDetail::showChannel(int channel) {
  channel_ = -1;
  map_ = cv::Mat();
  const auto& tm = session_->tapMaps();
  if (tm && channel >= 0)
    for (size_t i = 0; i < tm->channels.size(); ++i)
      if (tm->channels[i] == channel) {
        channel_ = channel;
        map_ = tm->maps[i];
        crop_ = tm->crop;
      }
  exemplars_->setChannel(tm && channel_ >= 0 ? tm->slot : -1, tm ? QString::fromStdString(tm->tap) : QString(), channel_);
  redraw();
}

void ChannelDetail::redraw() {
  histogram_->clearPlottables();
  if (map_.empty()) {
    view_->clear();
    view_->setCaption(tr("Click a channel to inspect it"));
    view_->setProperty("title", QString());
    stats_->clear();
    histogram_->replot();
    return;
  }
  drawMap();
  double mn = 0, mx = 0;
  cv::minMaxLoc(map_, &mn, &mx);
  showStats(mn, mx);
  plotHistogram(mn, mx);
}

// Shows the map, alone or over the input image, with its title, colour bar and caption.
void ChannelDetail::drawMap() {
  const auto& tm = *session_->tapMaps();
  const QString title = tr("%1, channel %2 (%3×%4)")
                            .arg(QString::fromStdString(tm.tap))
                            .arg(channel_)
                            .arg(map_.cols)
                            .arg(map_.rows);
  view_->setProperty("title", title);
  const DisplayOptions& d = session_->display();
  const ValueRange range = displayRange(applySign(map_, d.sign), d.sign, d.clipPercentile);
  const Colormap cmap = d.featureColormap();
  if (overlay_->isChecked() && !session_->image().empty()) {
    DisplaySettings ds;
    ds.colormap = cmap;
    ds.sign = d.sign;
    ds.clipPercentile = d.clipPercentile;
    ds.alpha = d.alpha;
    view_->setPicture(toQImage(fs::service::overlay(session_->image(), map_, crop_, ds, &range).rgb), map_, crop_);
  } else {
    view_->setTiles({map_}, {tr("ch %1").arg(channel_)}, 1, crop_);
  }
  view_->setDisplay(cmap, d.sign, {range}, true);
  view_->setCaption(title);
}

// Writes the channel's mean, standard deviation, minimum mn, maximum mx and share of values <= 0.
void ChannelDetail::showStats(double mn, double mx) {
  cv::Scalar mean, sd;
  cv::meanStdDev(map_, mean, sd);
  const double nonPos = double(cv::countNonZero(map_ <= 0)) / double(map_.total());
  stats_->setText(tr("mean %1   std %2   min %3   max %4   ≤0: %5%")
                      .arg(mean[0], 0, 'g', 4)
                      .arg(sd[0], 0, 'g', 4)
                      .arg(mn, 0, 'g', 4)
                      .arg(mx, 0, 'g', 4)
                      .arg(100.0 * nonPos, 0, 'f', 1));
}

// Histogram of the channel's values.
void ChannelDetail::plotHistogram(double mn, double mx) {
  const double lo = mn, hi = mx > mn ? mx : mn + 1.0;
  const double width = (hi - lo) / kBins;
  QVector<double> keys(kBins), counts(kBins, 0.0);
  for (int i = 0; i < kBins; ++i) keys[i] = lo + (i + 0.5) * width;
  for (int y = 0; y < map_.rows; ++y)
    for (int x = 0; x < map_.cols; ++x) {
      const int b = std::clamp(int((map_.at<float>(y, x) - lo) / width), 0, kBins - 1);
      counts[b] += 1.0;
    }
  auto* bars = new QCPBars(histogram_->xAxis, histogram_->yAxis);
  bars->setWidth(width);
  bars->setPen(Qt::NoPen);
  bars->setBrush(QColor(70, 130, 180));
  bars->setData(keys, counts);
  histogram_->xAxis->setRange(lo - width, hi + width);
  histogram_->yAxis->setRange(0, *std::max_element(counts.begin(), counts.end()) * 1.1);
  histogram_->xAxis->setLabel(tr("activation"));
  histogram_->yAxis->setLabel(tr("positions"));
  histogram_->replot();
}

}  // namespace fs::ui
