#include "ui/saliency_view.h"

#include "analysis/colormap.h"
#include "ui/analysis_session.h"
#include "render/image_conversion.h"
#include "ui/faithfulness_curves.h"
#include "ui/map_grid.h"
#include "ui/method_parameters_form.h"
#include "ui/sanity_cascade_panel.h"
#include "ui/view_helpers.h"
#include "service/export_service.h"
#include "service/saliency_service.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

#include <map>

namespace fs::ui {

using namespace fs::render;

using namespace fs::analysis;
using namespace fs::service;

SaliencyView::SaliencyView(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  auto* outer = new QHBoxLayout(this);
  outer->setContentsMargins(2, 2, 2, 2);
  outer->addWidget(buildSidePanel());

  // Matrix above, curves below.
  auto* split = new QSplitter(Qt::Vertical);
  split->setObjectName(QStringLiteral("saliencySplitter"));
  split->addWidget(scrollingGrid(&gridLayout_));
  curves_ = new FaithfulnessCurves;
  split->addWidget(curves_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);
  split->setSizes({560, 240});
  outer->addWidget(split, 1);

  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(250);
  connect(debounce_, &QTimer::timeout, this, &SaliencyView::apply);
  auto later = [this] { debounce_->start(); };
  connect(methods_, &QListWidget::itemChanged, this, later);
  connect(target_, &QComboBox::activated, this, later);
  connect(target_->lineEdit(), &QLineEdit::editingFinished, this, later);
  connect(tap_, &QComboBox::activated, this, later);
  connect(params_, &MethodParametersForm::changed, this, later);
  connect(norm_, &QComboBox::currentIndexChanged, this, &SaliencyView::restyle);
  connect(session_, &AnalysisSession::slotChanged, this, [this] {
    refreshTargets();
    rebuild();
  });
  connect(session_, &AnalysisSession::resultChanged, this, [this](int slot, ResultKind kind) {
    if (kind == ResultKind::Prediction) refreshTargets();  // the top-k classes offered as targets
    if (kind == ResultKind::Saliency) restyleSlot(slot);
  });
  connect(session_, &AnalysisSession::saliencyMatrixChanged, this, &SaliencyView::rebuild);
  connect(session_, &AnalysisSession::slotOrderChanged, this, &SaliencyView::rebuild);
  connect(session_, &AnalysisSession::imageChanged, this, &SaliencyView::rebuild);
  connect(session_, &AnalysisSession::displayChanged, this, &SaliencyView::restyle);
  refreshTargets();
}

void SaliencyView::setActive(bool on) {
  active_ = on;
  session_->setSaliencyViewActive(on);
}

MapGrid* SaliencyView::cell(int row, int col) const {
  if (row < 0 || row >= int(cells_.size()) || col < 0 || col >= int(cells_[size_t(row)].size())) return nullptr;
  return cells_[size_t(row)][size_t(col)];
}

std::vector<MapGrid*> SaliencyView::cells() const {
  std::vector<MapGrid*> out;
  for (const auto& r : cells_) out.insert(out.end(), r.begin(), r.end());
  return out;
}

QString SaliencyView::metricsText(int row, int col) const {
  if (row < 0 || row >= int(metrics_.size()) || col < 0 || col >= int(metrics_[size_t(row)].size())) return {};
  return metrics_[size_t(row)][size_t(col)]->text();
}

// The selected cell's slot and method (else the first row's first method that applies).
void SaliencyView::showSanityCascade() {
  if (rowSlots_.empty() || columns_.isEmpty()) return;
  int row = selRow_ >= 0 && selRow_ < int(rowSlots_.size()) ? selRow_ : 0;
  int col = selCol_ >= 0 && selCol_ < columns_.size() ? selCol_ : 0;
  const auto applies = [&](int c) {
    return fs::service::SaliencyService::applies(columns_[c].toStdString(), session_->slot(rowSlots_[size_t(row)]).info);
  };
  for (int c = 0; c < columns_.size() && !applies(col); ++c) col = c;
  if (!sanity_) sanity_ = new SanityCascadePanel(session_, this);
  sanity_->request(rowSlots_[size_t(row)], columns_[col]);
  sanity_->show();
  sanity_->raise();
}

const cv::Mat* SaliencyView::selectedMap() const {
  if (selRow_ < 0 || selRow_ >= int(rowSlots_.size()) || selCol_ < 0 || selCol_ >= columns_.size()) return nullptr;
  const SlotState& s = session_->slot(rowSlots_[size_t(selRow_)]);
  auto it = s.saliency.find(columns_[selCol_]);
  return it == s.saliency.end() || it->second.map.empty() ? nullptr : &it->second.map;
}

void SaliencyView::rebuild() {
  clearGrid(gridLayout_);
  cells_.clear();
  metrics_.clear();
  rowSlots_.clear();
  columns_ = session_->saliencyMethods();
  refreshTaps();
  for (int c = 0; c < columns_.size(); ++c) {
    gridLayout_->addWidget(columnHeader(columns_[c]), 0, c + 1);
  }
  int r = 1;
  for (int slot : session_->loadedSlots()) {
    addModelRow(slot, r);
    ++r;
  }
  for (int c = 1; c <= columns_.size(); ++c) gridLayout_->setColumnStretch(c, 1);
  restyle();
}

// Refills the CAM tap chooser, keeping its choice or selecting the pending tap.
void SaliencyView::refreshTaps() {
  // CAM tap choices: the first model's taps (names differ between families; empty = each model's
  // last block or stage output, ClassifierImpl::camTap).
  const QString keep = pendingTap_.isEmpty() ? tap_->currentData().toString() : pendingTap_;
  QSignalBlocker block(tap_);
  tap_->clear();
  tap_->addItem(tr("last block"), QString());
  const QList<int> loaded = session_->loadedSlots();
  if (!loaded.isEmpty())
    for (const auto& t : session_->slot(loaded.front()).info.taps)
      tap_->addItem(QString::fromStdString(t.name), QString::fromStdString(t.name));
  tap_->setCurrentIndex(std::max(0, tap_->findData(keep)));
  if (tap_->findData(keep) >= 0) pendingTap_.clear();
}

// Adds the model in `slot` as grid row r: its label, then per method a map with its metrics under it.
void SaliencyView::addModelRow(int slot, int r) {
  const SlotState& st = session_->slot(slot);
  gridLayout_->addWidget(modelRowLabel(st), r, 0);
  std::vector<MapGrid*> row;
  std::vector<QLabel*> mrow;
  for (int c = 0; c < columns_.size(); ++c) {
    auto* box = new QWidget;
    auto* v = new QVBoxLayout(box);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(1);
    auto* m = createCellMap(r - 1, c);
    auto* label = new QLabel;
    label->setAlignment(Qt::AlignCenter);
    label->setStyleSheet(QStringLiteral("font-size: 8pt"));
    v->addWidget(m, 1);
    v->addWidget(label);
    gridLayout_->addWidget(box, r, c + 1);
    row.push_back(m);
    mrow.push_back(label);
  }
  cells_.push_back(row);
  metrics_.push_back(mrow);
  rowSlots_.push_back(slot);
}

// Creates the map of cell (rr, cc): hovering moves every cell's cursor, a click selects the cell.
MapGrid* SaliencyView::createCellMap(int rr, int cc) {
  auto* m = new MapGrid;
  m->setTileSide(60);
  m->setMinimumSize(150, 170);
  connect(m, &MapGrid::hovered, this, [this](QPointF p) {
    for (MapGrid* g : cells()) g->setLinkedCursor(p);
  });
  connect(m, &MapGrid::tileClicked, this, [this, rr, cc] {
    selRow_ = rr, selCol_ = cc;
  });
  return m;
}

// One range per method column over all models when shared (methods differ in sign and scale).
std::map<QString, ValueRange> SaliencyView::sharedRanges() const {
  std::map<QString, ValueRange> out;
  if (norm_->currentData().toString() != QLatin1String("shared")) return out;
  for (int c = 0; c < columns_.size(); ++c) {
    std::vector<cv::Mat> all;
    DisplaySettings convention;
    for (int slot : rowSlots_) {
      const auto& sal = session_->slot(slot).saliency;
      auto it = sal.find(columns_[c]);
      if (it != sal.end() && !it->second.map.empty()) all.push_back(it->second.map), convention = it->second.display;
    }
    if (!all.empty()) out[columns_[c]] = sharedRange(all, convention.sign, convention.clipPercentile);
  }
  return out;
}

void SaliencyView::restyle() {
  const auto shared = sharedRanges();
  for (size_t r = 0; r < cells_.size(); ++r)
    for (int c = 0; c < columns_.size(); ++c) restyleCell(r, c, shared);
  plotCurves();
}

void SaliencyView::restyleSlot(int slot) {
  if (norm_->currentData().toString() == QLatin1String("shared")) return restyle();  // every range moves
  const std::map<QString, ValueRange> none;
  for (size_t r = 0; r < cells_.size(); ++r)
    if (rowSlots_[r] == slot)
      for (int c = 0; c < columns_.size(); ++c) restyleCell(r, c, none);
  plotCurves();
}

void SaliencyView::restyleCell(size_t r, int c, const std::map<QString, ValueRange>& shared) {
  const DisplayOptions& d = session_->display();
  const SlotState& st = session_->slot(rowSlots_[r]);
  MapGrid* g = cells_[r][size_t(c)];
  QLabel* label = metrics_[r][size_t(c)];
  auto it = st.saliency.find(columns_[c]);
  if (it == st.saliency.end() || it->second.map.empty()) {
    g->clear();
    g->setCaption(!SaliencyService::applies(columns_[c].toStdString(), st.info)
                      ? tr("(needs attention: ViT, DeiT)")
                      : active_ ? tr("computing…") : tr("(open this view to compute)"));
    label->clear();
    return;
  }
  const SaliencyMapResult& res = it->second;
  const DisplaySettings ds = d.saliencySettings(res.display);
  auto sharedIt = shared.find(columns_[c]);
  // Per map: the overlay's own range, as the CLI's PNG, the export and the figure draw it.
  const SaliencyOverlay ov = fs::service::overlay(session_->image(), res.map, res.crop, ds,
                                                  sharedIt != shared.end() ? &sharedIt->second : nullptr);
  g->setPicture(toQImage(ov.rgb), res.map, res.crop);
  g->setDisplay(ds.colormap, ds.sign, {ov.range}, true);
  g->setCaption(tr("→ %1%2").arg(QString::fromStdString(res.targetLabel),
                                 res.tap.empty() ? QString() : QStringLiteral(" @ %1").arg(QString::fromStdString(res.tap))));
  if (res.hasCurves)
    label->setText(tr("del %1 · ins %2 · drop %3% · %4 ms")
                       .arg(res.deletion.auc, 0, 'f', 3)
                       .arg(res.insertion.auc, 0, 'f', 3)
                       .arg(100.0 * res.confidenceDrop, 0, 'f', 1)
                       .arg(res.elapsedMs, 0, 'f', 0));
  else
    label->setText(tr("%1 ms").arg(res.elapsedMs, 0, 'f', 0));
  // A method whose assumptions the tap breaks says so next to its map (SaliencyResult::caveat).
  label->setToolTip(QString::fromStdString(res.caveat));
  // The zero map of a ViT/DeiT tap after the last attention says so in the label itself.
  const bool zero = res.caveat.find("is exactly zero") != std::string::npos;
  if (!res.caveat.empty())
    label->setText(label->text() + (zero ? tr(" · ⚠ zero: only the prefix tokens reach the head (hover)")
                                         : tr(" · ⚠ assumption broken")));
}

int SaliencyView::curveCount() const { return curves_->curveCount(); }

QString SaliencyView::curveKeyText() const { return curves_->keyText(); }

void SaliencyView::plotCurves() {
  std::vector<FaithfulnessCurves::Entry> entries;
  for (size_t r = 0; r < rowSlots_.size(); ++r) {
    const SlotState& st = session_->slot(rowSlots_[r]);
    for (int c = 0; c < columns_.size(); ++c) {
      auto it = st.saliency.find(columns_[c]);
      if (it != st.saliency.end())
        entries.push_back({int(r), c, QString::fromStdString(st.info.modelId), columns_[c], &it->second});
    }
  }
  curves_->plot(entries);
}

}  // namespace fs::ui
