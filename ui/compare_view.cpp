#include "ui/compare_view.h"

#include "analysis/colormap.h"
#include "ui/analysis_session.h"
#include "render/image_conversion.h"
#include "ui/map_grid.h"
#include "ui/view_helpers.h"
#include "service/export_service.h"
#include "service/saliency_service.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include <cmath>

namespace fs::ui {

using namespace fs::render;

using namespace fs::analysis;
using namespace fs::service;

CompareView::CompareView(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(buildBar());
  layout->addWidget(scrollingGrid(&gridLayout_), 1);
  connect(k_, &QSpinBox::valueChanged, this, [this](int k) { session_->setCompareOptions(k, rank_->currentText()); });
  connect(rank_, &QComboBox::currentTextChanged, this,
          [this](const QString& r) { session_->setCompareOptions(k_->value(), r); });
  connect(method_, &QComboBox::currentTextChanged, session_, &AnalysisSession::setCompareMethod);
  connect(session_, &AnalysisSession::slotChanged, this, &CompareView::rebuild);
  // One result: only its cells are repainted (the whole stage columns when they share a range).
  connect(session_, &AnalysisSession::resultChanged, this, [this](int slot, ResultKind kind) {
    const int row = int(session_->loadedSlots().indexOf(slot));
    if (row < 0 || row >= int(rows_.size())) return;
    if (kind == ResultKind::Prediction) paintInput(row);
    else if (kind == ResultKind::StageMaps) {
      if (session_->display().norm == QLatin1String("shared")) restyle();
      else paintStages(row, {});
    } else if (kind == ResultKind::CompareSaliency) paintSaliency(row);
  });
  connect(session_, &AnalysisSession::imageChanged, this, &CompareView::rebuild);
  connect(session_, &AnalysisSession::displayChanged, this, &CompareView::restyle);
}

// The bar above the grid: channels per stage, their order, the saliency column's method and the hint.
QHBoxLayout* CompareView::buildBar() {
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Channels per stage")));
  k_ = new QSpinBox;
  k_->setRange(1, 64);
  k_->setValue(session_->compareK());
  bar->addWidget(k_);
  bar->addWidget(new QLabel(tr("Order")));
  rank_ = new QComboBox;
  rank_->addItems({QStringLiteral("first"), QStringLiteral("mean"), QStringLiteral("max"), QStringLiteral("contribution")});
  bar->addWidget(rank_);
  bar->addWidget(new QLabel(tr("Saliency column")));
  method_ = new QComboBox;
  for (const std::string& m : fs::service::SaliencyService::methodNames()) method_->addItem(QString::fromStdString(m));
  method_->setCurrentText(session_->compareMethod());
  bar->addWidget(method_);
  bar->addStretch();
  auto* hint = new QLabel(tr("Hover a map: the red cross marks the same image point everywhere"));
  hint->setStyleSheet(QStringLiteral("color: gray"));
  hint->setWordWrap(true);  // wraps rather than setting the window's minimum width
  bar->addWidget(hint);
  return bar;
}

void CompareView::setOptions(int k, const QString& rank, const QString& method) {
  {
    const QSignalBlocker b1(k_), b2(rank_), b3(method_);
    k_->setValue(k);
    rank_->setCurrentText(rank);
    method_->setCurrentText(method);
  }
  session_->setCompareOptions(k_->value(), rank_->currentText());
  session_->setCompareMethod(method_->currentText());
}

std::vector<MapGrid*> CompareView::maps() const {
  std::vector<MapGrid*> out;
  for (const auto& row : rows_)
    for (MapGrid* m : row) out.push_back(m);
  return out;
}

std::vector<MapGrid*> CompareView::stageMaps(int row) const {
  if (row < 0 || row >= int(rows_.size()) || rows_[size_t(row)].size() < 2) return {};
  return {rows_[size_t(row)].begin() + 1, rows_[size_t(row)].end() - 1};
}

void CompareView::setLinkedCursor(const std::optional<QPointF>& original) {
  cursor_ = original;
  for (MapGrid* m : maps()) m->setLinkedCursor(original);
}

void CompareView::rebuild() {
  clearGrid(gridLayout_);
  rows_.clear();
  rowLabels_.clear();
  const QList<int> slots = session_->loadedSlots();
  int stages = 0;
  for (int i : slots) stages = std::max(stages, int(session_->slot(i).info.stages.size()));
  auto header = columnHeader;
  gridLayout_->addWidget(header(tr("Input")), 0, 1);
  for (int s = 0; s < stages; ++s) gridLayout_->addWidget(header(tr("Stage %1").arg(s + 1)), 0, 2 + s);
  gridLayout_->addWidget(header(tr("Saliency: %1").arg(session_->compareMethod())), 0, 2 + stages);
  int r = 1;
  for (int i : slots) {
    QLabel* label = modelRowLabel(session_->slot(i));
    rowLabels_.push_back(label);
    gridLayout_->addWidget(label, r, 0);
    std::vector<MapGrid*> row;
    auto add = [&](int col) {
      auto* m = new MapGrid;
      connect(m, &MapGrid::hovered, this, [this](QPointF p) { setLinkedCursor(p); });
      gridLayout_->addWidget(m, r, col);
      row.push_back(m);
      return m;
    };
    add(1);
    for (int s = 0; s < stages; ++s) add(2 + s);
    add(2 + stages);
    rows_.push_back(row);
    ++r;
  }
  for (int c = 1; c < 3 + stages; ++c) gridLayout_->setColumnStretch(c, 1);
  restyle();
  setLinkedCursor(cursor_);
}

// Colours every cell from the cached raw maps and the current display options.
void CompareView::restyle() {
  const DisplayOptions& d = session_->display();
  // Shared normalisation: one range over every shown channel of every model.
  std::vector<cv::Mat> all;
  if (d.norm == QLatin1String("shared"))
    for (int i : session_->loadedSlots())
      if (session_->slot(i).stages)
        for (const auto& t : session_->slot(i).stages->stages) all.insert(all.end(), t.maps.begin(), t.maps.end());
  const std::optional<ValueRange> shared =
      all.empty() ? std::nullopt : std::optional<ValueRange>(sharedRange(all, d.sign, d.clipPercentile));
  for (int r = 0; r < int(rows_.size()); ++r) {
    paintInput(r);
    paintStages(r, shared);
    paintSaliency(r);
  }
}

const SlotState* CompareView::rowState(int row) const {
  const QList<int> slots = session_->loadedSlots();
  if (row < 0 || row >= int(rows_.size()) || row >= slots.size()) return nullptr;
  return &session_->slot(slots[row]);
}

void CompareView::paintInput(int row) {
  const SlotState* st = rowState(row);
  if (!st) return;
  MapGrid* input = rows_[size_t(row)].front();
  SessionCrop crop;
  if (st->prediction) crop = st->prediction->crop;
  input->setPicture(session_->imageQ(), st->prediction ? cv::Mat(1, 1, CV_32F, cv::Scalar(0)) : cv::Mat(), crop);
  input->setCaption(session_->imageName());
  QString top;
  if (st->prediction && !st->prediction->top.empty())
    top = QStringLiteral("<br>%1 (%2%)").arg(QString::fromStdString(st->prediction->top[0].label))
              .arg(100.0 * st->prediction->top[0].prob, 0, 'f', 1);
  rowLabels_[size_t(row)]->setText(modelRowText(*st, top));
}

void CompareView::paintStages(int row, const std::optional<ValueRange>& shared) {
  const SlotState* st = rowState(row);
  if (!st) return;
  const DisplayOptions& d = session_->display();
  auto& cells = rows_[size_t(row)];
  for (size_t s = 0; s + 2 < cells.size(); ++s) {
    MapGrid* m = cells[s + 1];
    if (!st->stages || s >= st->stages->stages.size()) {
      m->clear();
      m->setCaption(st->stages ? tr("(no stage)") : tr("computing…"));
      continue;
    }
    const TapMaps& t = st->stages->stages[s];
    std::vector<QString> labels;
    for (int c : t.channels) labels.push_back(QStringLiteral("ch %1").arg(c));
    const int cols = int(std::ceil(std::sqrt(double(t.maps.size()) * 4.0 / 3.0)));
    m->setTiles(t.maps, labels, cols, t.crop);
    std::vector<ValueRange> ranges;
    if (d.norm == QLatin1String("shared")) ranges = {shared ? *shared : sharedRange(t.maps, d.sign, d.clipPercentile)};
    else if (d.norm == QLatin1String("tap")) ranges = {sharedRange(t.maps, d.sign, d.clipPercentile)};
    else
      for (const cv::Mat& mm : t.maps) ranges.push_back(displayRange(applySign(mm, d.sign), d.sign, d.clipPercentile));
    m->setDisplay(d.featureColormap(), d.sign, ranges, d.norm != QLatin1String("channel"));
    QString shape;
    for (const auto& ti : st->info.taps)
      if (ti.name == t.tap) shape = QStringLiteral(" %1×%2×%3").arg(ti.channels).arg(ti.height).arg(ti.width);
    m->setCaption(QString::fromStdString(t.tap) + shape);
  }
}

void CompareView::paintSaliency(int row) {
  const SlotState* st = rowState(row);
  if (!st) return;
  MapGrid* sal = rows_[size_t(row)].back();
  if (st->compareSaliency && !st->compareSaliency->map.empty()) {
    const auto& res = *st->compareSaliency;
    const DisplaySettings ds = session_->display().saliencySettings(res.display);
    const SaliencyOverlay ov = fs::service::overlay(session_->image(), res.map, res.crop, ds);
    sal->setPicture(toQImage(ov.rgb), res.map, res.crop);
    sal->setDisplay(ds.colormap, ds.sign, {ov.range}, true);
    sal->setCaption(tr("%1 → %2").arg(QString::fromStdString(res.tap.empty() ? "input" : res.tap),
                                       QString::fromStdString(res.targetLabel)));
  } else {
    sal->clear();
    sal->setCaption(SaliencyService::applies(session_->compareMethod().toStdString(), st->info)
                        ? tr("computing…")
                        : tr("(needs attention: ViT, DeiT)"));
  }
}

}  // namespace fs::ui
