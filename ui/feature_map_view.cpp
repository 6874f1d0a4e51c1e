#include "ui/feature_map_view.h"

#include "analysis/colormap.h"
#include "ui/analysis_session.h"
#include "ui/channel_detail.h"
#include "ui/feature_vis_session.h"
#include "ui/tile_wall.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>
#include <numeric>

namespace fs::ui {

using namespace fs::analysis;
using namespace fs::service;

FeatureMapView::FeatureMapView(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(createToolBar());
  layout->addWidget(sortNote_);

  auto* split = new QSplitter(Qt::Horizontal);
  split->setObjectName(QStringLiteral("featureSplitter"));
  tiles_ = new TileWall;
  detail_ = new ChannelDetail(session_);
  split->addWidget(tiles_);
  split->addWidget(detail_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  layout->addWidget(split, 1);

  connect(model_, &QComboBox::currentIndexChanged, this, [this] {
    refreshTaps();
    request();
  });
  connect(tap_, &QComboBox::currentIndexChanged, this, &FeatureMapView::request);
  connect(sort_, &QComboBox::currentIndexChanged, this, &FeatureMapView::applySort);
  connect(size_, &QSlider::valueChanged, tiles_, &TileWall::setTileSide);
  connect(tiles_, &TileWall::channelClicked, detail_, &ChannelDetail::showChannel);
  connect(session_, &AnalysisSession::slotChanged, this, &FeatureMapView::refreshModels);
  connect(session_, &AnalysisSession::slotOrderChanged, this, &FeatureMapView::refreshModels);
  connect(session_, &AnalysisSession::tapMapsChanged, this, &FeatureMapView::onMaps);
  connect(session_, &AnalysisSession::displayChanged, this, &FeatureMapView::restyle);
  connect(&session_->featureVis(), &FeatureVisSession::selectivityChanged, this, &FeatureMapView::applySort);
  connect(&session_->featureVis(), &FeatureVisSession::datasetChanged, this, &FeatureMapView::applySort);
}

// Model, tap, sort order, tile size and the info line above the tiles.
QHBoxLayout* FeatureMapView::createToolBar() {
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Model")));
  // Combos and the info line do not grow the window's minimum width with long model or tap names.
  model_ = new QComboBox;
  model_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  model_->setMinimumWidth(170);
  bar->addWidget(model_);
  bar->addWidget(new QLabel(tr("Tap")));
  tap_ = new QComboBox;
  tap_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  tap_->setMinimumWidth(160);
  bar->addWidget(tap_);
  bar->addWidget(new QLabel(tr("Sort by")));
  createSortChooser();
  bar->addWidget(sort_);
  sortNote_ = new QLabel;
  sortNote_->setStyleSheet(QStringLiteral("color: gray"));
  bar->addWidget(new QLabel(tr("Tile size")));
  size_ = new QSlider(Qt::Horizontal);
  size_->setRange(24, 200);
  size_->setValue(64);
  size_->setMaximumWidth(140);
  bar->addWidget(size_);
  info_ = new QLabel;
  info_->setStyleSheet(QStringLiteral("color: gray"));
  info_->setWordWrap(true);
  bar->addWidget(info_, 1);
  return bar;
}

// The channel orders: index, the per-channel statistics, and class selectivity over the exemplars' data.
void FeatureMapView::createSortChooser() {
  sort_ = new QComboBox;
  sort_->addItem(tr("channel index"), QStringLiteral("channel"));
  sort_->addItem(tr("mean (high first)"), QStringLiteral("mean"));
  sort_->addItem(tr("max (high first)"), QStringLiteral("max"));
  sort_->addItem(tr("std (high first)"), QStringLiteral("std"));
  sort_->addItem(tr("Hoyer sparseness (dense first)"), QStringLiteral("sparsity"));
  sort_->addItem(tr("selectivity (high first)"), QStringLiteral("selectivity"));
  sort_->setItemData(sort_->count() - 1,
                     tr("Class selectivity index (Morcos et al. 2018) over the exemplars' images (the Fashion-MNIST\n"
                        "test set's first N); for a folder without labels the lifetime sparseness (Vinje & Gallant\n"
                        "2000). Computed on the worker over the data set, once per model and tap."),
                     Qt::ToolTipRole);
  sort_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  sort_->setMinimumContentsLength(12);
}

void FeatureMapView::setActive(bool on) {
  active_ = on;
  if (on) request();
}

void FeatureMapView::selectModel(int slot) {
  const int i = model_->findData(slot);
  if (i >= 0) model_->setCurrentIndex(i);
}

void FeatureMapView::selectTap(const QString& tap) {
  const int i = tap_->findData(tap);
  if (i >= 0) tap_->setCurrentIndex(i);
}

void FeatureMapView::setSort(const QString& key) {
  const int i = sort_->findData(key);
  if (i >= 0) sort_->setCurrentIndex(i);
}

QString FeatureMapView::sortNote() const { return sortNote_->text(); }

void FeatureMapView::refreshModels() {
  const int current = model_->currentData().isValid() ? model_->currentData().toInt() : -1;
  {
    QSignalBlocker block(model_);
    model_->clear();
    for (int i : session_->loadedSlots())
      model_->addItem(tr("%1: %2").arg(i + 1).arg(QString::fromStdString(session_->slot(i).info.modelId)), i);
    const int keep = model_->findData(current);
    model_->setCurrentIndex(keep >= 0 ? keep : 0);
  }
  const QString tap = tap_->currentData().toString();
  refreshTaps();
  if (model_->currentData().toInt() != current || tap_->currentData().toString() != tap) request();
}

void FeatureMapView::refreshTaps() {
  const QString current = tap_->currentData().toString();
  QSignalBlocker block(tap_);
  tap_->clear();
  if (model_->count() == 0) return;
  const SlotState& s = session_->slot(model_->currentData().toInt());
  for (const auto& t : s.info.taps)
    tap_->addItem(QStringLiteral("%1  (%2×%3×%4)").arg(QString::fromStdString(t.name)).arg(t.channels).arg(t.height).arg(t.width),
                  QString::fromStdString(t.name));
  int keep = tap_->findData(current);
  if (keep < 0 && !s.info.stages.empty()) keep = tap_->findData(QString::fromStdString(s.info.stages.back()));
  tap_->setCurrentIndex(std::max(0, keep));
}

void FeatureMapView::request() {
  if (!active_ || model_->count() == 0 || tap_->count() == 0) return;
  session_->requestTapMaps(model_->currentData().toInt(), tap_->currentData().toString(), QStringLiteral("first"));
}

void FeatureMapView::onMaps() {
  const auto& tm = session_->tapMaps();
  if (!tm) return;
  tiles_->setMaps(tm->maps, tm->channels);
  info_->setText(tr("%1 channels of %2, %3×%4 each")
                     .arg(tm->totalChannels)
                     .arg(QString::fromStdString(tm->tap))
                     .arg(tm->maps.empty() ? 0 : tm->maps.front().cols)
                     .arg(tm->maps.empty() ? 0 : tm->maps.front().rows));
  restyle();
  applySort();
  // Keep the inspected channel; the first time, inspect the first tile.
  const int ch = detail_->channel() >= 0 ? detail_->channel() : tiles_->channelAtDisplayPosition(0);
  tiles_->setSelectedChannel(ch);
  detail_->showChannel(ch);
}

void FeatureMapView::restyle() {
  const auto& tm = session_->tapMaps();
  if (!tm) return;
  const DisplayOptions& d = session_->display();
  std::vector<ValueRange> ranges;
  if (d.norm == QLatin1String("channel"))
    for (const cv::Mat& m : tm->maps) ranges.push_back(displayRange(applySign(m, d.sign), d.sign, d.clipPercentile));
  else
    ranges = {sharedRange(tm->maps, d.sign, d.clipPercentile)};
  const Colormap cmap = d.featureColormap();
  tiles_->setDisplay(cmap, d.sign, ranges);
}

void FeatureMapView::applySort() {
  const auto& tm = session_->tapMaps();
  if (!tm) return;
  const QString key = sort_->currentData().toString();
  std::vector<int> order(tm->channels.size());
  std::iota(order.begin(), order.end(), 0);
  const ChannelSelectivity* selectivity = nullptr;
  if (key == QLatin1String("selectivity")) {
    FeatureVisSession& fv = session_->featureVis();
    selectivity = fv.selectivity(tm->slot, QString::fromStdString(tm->tap));
    if (!selectivity) {  // computed on the worker; applySort again when it arrives
      fv.requestSelectivity(tm->slot, QString::fromStdString(tm->tap));
      sortNote_->setText(tr("computing the selectivity over %1…").arg(fv.datasetText()));
      return;
    }
    sortNote_->setText(tr("sorted by %1 over %2 images")
                           .arg(selectivity->measure == "class selectivity index"
                                    ? tr("the class selectivity index (Morcos et al. 2018)")
                                    : tr("the lifetime sparseness (Vinje & Gallant 2000; no labels)"))
                           .arg(selectivity->images));
  } else {
    sortNote_->clear();
  }
  auto stat = [&](int pos) -> double {
    const int ch = tm->channels[size_t(pos)];
    if (ch < 0 || ch >= int(tm->stats.size())) return 0.0;
    const ChannelStatsLite& s = tm->stats[size_t(ch)];
    if (key == QLatin1String("mean")) return -s.mean;
    if (key == QLatin1String("max")) return -s.max;
    if (key == QLatin1String("std")) return -s.std;
    if (key == QLatin1String("sparsity")) return s.hoyer;
    if (selectivity && size_t(ch) < selectivity->values.size()) return -selectivity->values[size_t(ch)];
    return ch;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return stat(a) < stat(b); });
  tiles_->setOrder(std::move(order));
}

}  // namespace fs::ui
