#include "ui/attention_view.h"

#include "render/image_conversion.h"
#include "service/attention_service.h"
#include "service/export_service.h"
#include "ui/analysis_session.h"
#include "ui/map_grid.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include <cmath>

namespace fs::ui {

using namespace fs::analysis;
using namespace fs::service;

AttentionView::AttentionView(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(buildBar());
  auto* body = new QHBoxLayout;
  mean_ = new MapGrid;
  mean_->setMinimumSize(320, 320);
  body->addWidget(mean_, 3);
  auto* headBox = new QWidget;
  headGrid_ = new QGridLayout(headBox);
  headGrid_->setContentsMargins(0, 0, 0, 0);
  body->addWidget(headBox, 4);
  layout->addLayout(body, 1);
  connectSignals();
  refreshModels();
}

// The bar above the maps: model, block and query choices, and the note on what is shown.
QHBoxLayout* AttentionView::buildBar() {
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Model")));
  model_ = new QComboBox;
  model_->setMinimumWidth(130);
  bar->addWidget(model_);
  bar->addWidget(new QLabel(tr("Block")));
  unit_ = new QComboBox;
  unit_->setMinimumWidth(120);
  bar->addWidget(unit_);
  bar->addWidget(new QLabel(tr("Query")));
  query_ = new QComboBox;
  query_->setMinimumWidth(150);
  query_->setToolTip(tr("Whose attention: a prefix token's (the class token's by default), or that of the patch\n"
                        "you click in the large map"));
  bar->addWidget(query_);
  note_ = new QLabel;
  note_->setStyleSheet(QStringLiteral("color: gray"));
  note_->setWordWrap(true);
  bar->addWidget(note_, 1);
  return bar;
}

// The choices request or redraw; a click in the large map picks its patch as the query; the
// session's slots, maps and display settings refresh the view.
void AttentionView::connectSignals() {
  connect(model_, &QComboBox::currentIndexChanged, this, [this] {
    refreshUnits();
    request();
  });
  connect(unit_, &QComboBox::currentIndexChanged, this, &AttentionView::request);
  connect(query_, &QComboBox::currentIndexChanged, this, &AttentionView::redraw);
  connect(mean_, &MapGrid::hovered, this, [this](QPointF p) { hover_ = p; });
  connect(mean_, &MapGrid::tileClicked, this, [this](int) {
    if (hover_) selectPatchQuery(*hover_);
  });
  connect(session_, &AnalysisSession::slotChanged, this, &AttentionView::refreshModels);
  connect(session_, &AnalysisSession::slotOrderChanged, this, &AttentionView::refreshModels);
  connect(session_, &AnalysisSession::attentionChanged, this, &AttentionView::redraw);
  connect(session_, &AnalysisSession::displayChanged, this, &AttentionView::redraw);
}

void AttentionView::setActive(bool on) {
  active_ = on;
  if (on) request();
}

void AttentionView::selectUnit(const QString& unit) {
  const int i = unit_->findData(unit);
  if (i >= 0) unit_->setCurrentIndex(i);
}

void AttentionView::selectPrefixQuery(int token) {
  patch_.reset();
  const int i = query_->findData(token);
  if (i >= 0) query_->setCurrentIndex(i);
  redraw();
}

void AttentionView::selectPatchQuery(QPointF original) {
  patch_ = original;
  const int i = query_->findData(-1);
  if (i >= 0) {
    const QSignalBlocker block(query_);
    query_->setCurrentIndex(i);
  }
  redraw();
}

void AttentionView::refreshModels() {
  const int current = model_->currentData().isValid() ? model_->currentData().toInt() : -1;
  {
    const QSignalBlocker block(model_);
    model_->clear();
    for (int i : session_->loadedSlots())
      if (!session_->slot(i).info.attentionUnits.empty())
        model_->addItem(tr("%1: %2").arg(i + 1).arg(QString::fromStdString(session_->slot(i).info.modelId)), i);
    const int keep = model_->findData(current);
    model_->setCurrentIndex(keep >= 0 ? keep : 0);
  }
  refreshUnits();
  request();
}

void AttentionView::refreshUnits() {
  const QString current = unit_->currentData().toString();
  const QSignalBlocker b1(unit_), b2(query_);
  unit_->clear();
  query_->clear();
  if (model_->count() == 0) return;
  const SlotInfo& info = session_->slot(model_->currentData().toInt()).info;
  for (const std::string& u : info.attentionUnits) unit_->addItem(QString::fromStdString(u), QString::fromStdString(u));
  // The last block by default: the attention the class token reads before the head.
  const int keep = unit_->findData(current);
  unit_->setCurrentIndex(keep >= 0 ? keep : unit_->count() - 1);
  for (size_t t = 0; t < info.prefixTokens.size(); ++t)
    query_->addItem(tr("%1 token").arg(QString::fromStdString(info.prefixTokens[t])), int(t));
  query_->addItem(tr("clicked patch"), -1);
}

void AttentionView::request() {
  if (!active_ || model_->count() == 0 || unit_->count() == 0) return redraw();
  session_->requestAttention(model_->currentData().toInt(), unit_->currentData().toString());
}

QString AttentionView::caption() const { return note_->text(); }

namespace {

// The query token: the chosen one (a prefix token), or for a patch (chosen < 0) the clicked patch,
// the centre patch until one is clicked; `who` then names the patch's row and column.
int queryToken(const fs::service::AttentionMaps& a, int chosen, const std::optional<QPointF>& patch, QString& who) {
  if (chosen >= 0) return chosen;
  const cv::Point2d uv = patch ? a.crop.fromOriginal(patch->x(), patch->y())
                               : cv::Point2d(a.crop.width / 2.0, a.crop.height / 2.0);
  const int query = patchToken(a, uv.x, uv.y);
  who = AttentionView::tr("patch (row %1, column %2)").arg((query - a.prefix) / a.gridW).arg((query - a.prefix) % a.gridW);
  return query;
}

// One head's (or the mean's) attention map of the query over the patches, as an overlay on the
// image, on `range` when given (else its own).
void drawAttention(MapGrid* g, const cv::Mat& image, const fs::service::AttentionMaps& a, const DisplaySettings& ds,
                   const cv::Mat& map, const ValueRange* range, const QString& label) {
  const SaliencyOverlay ov = fs::service::overlay(image, map, a.crop, ds, range);
  g->setPicture(fs::render::toQImage(ov.rgb), map, a.crop);
  g->setDisplay(ds.colormap, ds.sign, {ov.range}, true);
  g->setCaption(label);
}

}  // namespace

void AttentionView::redraw() {
  const auto& a = session_->attention();
  const bool current = a && model_->count() > 0 && a->slot == model_->currentData().toInt() &&
                       QString::fromStdString(a->unit) == unit_->currentData().toString();
  for (MapGrid* g : heads_) {
    headGrid_->removeWidget(g);
    delete g;
  }
  heads_.clear();
  if (!current) {
    mean_->clear();
    note_->setText(model_->count() == 0 ? tr("Load a ViT or DeiT model (vit_*, deit_*) to see its attention.")
                                        : tr("computing…"));
    return;
  }
  QString who = query_->currentText();
  const int query = queryToken(*a, query_->currentData().toInt(), patch_, who);
  DisplaySettings ds;
  ds.colormap = Colormap::Inferno;
  ds.sign = SignMode::Relu;
  ds.clipPercentile = 100.0;
  ds.alpha = session_->display().alpha;
  drawAttention(mean_, session_->image(), *a, ds, attentionMap(*a, -1, query), nullptr,
                tr("mean of %1 heads").arg(a->heads));
  // Heads on one range (the largest weight any head gives), so their maps compare; each map
  // computed once, for the range and for its overlay.
  std::vector<cv::Mat> all;
  for (int h = 0; h < a->heads; ++h) all.push_back(attentionMap(*a, h, query));
  const ValueRange shared = sharedRange(all, ds.sign, ds.clipPercentile);
  const int cols = int(std::ceil(std::sqrt(double(a->heads))));
  for (int h = 0; h < a->heads; ++h) {
    auto* g = new MapGrid;
    g->setMinimumSize(90, 90);
    headGrid_->addWidget(g, h / cols, h % cols);
    heads_.push_back(g);
    drawAttention(g, session_->image(), *a, ds, all[size_t(h)], &shared, tr("head %1").arg(h));
  }
  note_->setText(tr("%1, %2: attention of the %3 over the %4×%5 patches (softmax over keys; prefix tokens left "
                    "out). Click the large map to pick a patch.")
                     .arg(QString::fromStdString(session_->slot(a->slot).info.modelId), QString::fromStdString(a->unit), who)
                     .arg(a->gridH)
                     .arg(a->gridW));
}

}  // namespace fs::ui
