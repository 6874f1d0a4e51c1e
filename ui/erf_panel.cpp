#include "ui/erf_panel.h"

#include "ui/analysis_session.h"
#include "ui/feature_vis_session.h"
#include "ui/map_grid.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include <opencv2/core.hpp>

namespace fs::ui {

using namespace fs::analysis;
using namespace fs::service;

namespace {
constexpr int kSide = 150;
}

ErfPanel::ErfPanel(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("<b>Effective receptive field</b> of")));
  model_ = new QComboBox;
  model_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  bar->addWidget(model_);
  bar->addWidget(new QLabel(tr("over")));
  images_ = new QSpinBox;
  images_->setRange(1, 10000);
  images_->setValue(32);
  images_->setSuffix(tr(" images"));
  bar->addWidget(images_);
  compute_ = new QPushButton(tr("Compute ERF"));
  compute_->setToolTip(tr("Luo et al. 2016: the mean |gradient| at the input of each stage's centre activation (summed\n"
                          "over channels), over the first N images of the exemplars' data set (the Fashion-MNIST test\n"
                          "set or the folder); white: the theoretical receptive field, cyan: the radii holding 50% and\n"
                          "90% of the mass. The same numbers as featurescope-cli erf."));
  bar->addWidget(compute_);
  info_ = new QLabel;
  info_->setStyleSheet(QStringLiteral("color: gray"));
  info_->setWordWrap(true);
  bar->addStretch(1);
  layout->addLayout(bar);
  layout->addWidget(info_);
  cells_ = new QHBoxLayout;
  layout->addLayout(cells_);

  connect(compute_, &QPushButton::clicked, this, &ErfPanel::compute);
  connect(model_, &QComboBox::currentIndexChanged, this, &ErfPanel::redraw);
  connect(session_, &AnalysisSession::slotChanged, this, &ErfPanel::refreshModels);
  connect(session_, &AnalysisSession::slotOrderChanged, this, &ErfPanel::refreshModels);
  connect(&session_->featureVis(), &FeatureVisSession::erfChanged, this, &ErfPanel::redraw);
  refreshModels();
}

void ErfPanel::selectModel(int slot) {
  const int i = model_->findData(slot);
  if (i >= 0) model_->setCurrentIndex(i);
}

void ErfPanel::compute() {
  if (model_->count() == 0) return;
  info_->setText(tr("computing over %1 images…").arg(images_->value()));
  session_->featureVis().requestErf(model_->currentData().toInt(), images_->value());
}

QImage ErfPanel::cellImage(int i) const { return drawn_.at(size_t(i)); }
QString ErfPanel::cellText(int i) const { return texts_.at(size_t(i))->text(); }
QString ErfPanel::info() const { return info_->text(); }

void ErfPanel::refreshModels() {
  const QVariant keep = model_->currentData();
  {
    QSignalBlocker block(model_);
    model_->clear();
    for (int i : session_->loadedSlots()) model_->addItem(QString::fromStdString(session_->slot(i).info.modelId), i);
    const int k = model_->findData(keep);
    model_->setCurrentIndex(k >= 0 ? k : 0);
  }
  compute_->setEnabled(model_->count() > 0);
  redraw();
}

QImage ErfPanel::drawErf(const StageErf& e, int side) {
  double mx = 0;
  cv::minMaxLoc(e.map, nullptr, &mx);
  const QImage heat = colourMap(e.map, SignMode::Signed, ValueRange{0.0, mx > 0 ? mx : 1.0}, Colormap::Inferno);
  QImage out = heat.scaled(side, side, Qt::IgnoreAspectRatio, Qt::SmoothTransformation).convertToFormat(QImage::Format_RGB32);
  QPainter p(&out);
  p.setRenderHint(QPainter::Antialiasing, true);
  const double sx = double(side) / e.map.cols, sy = double(side) / e.map.rows;
  p.setPen(QPen(Qt::white, 1.5));
  p.setBrush(Qt::NoBrush);
  const QRectF rf(e.rfBox[0] * sx, e.rfBox[1] * sy, (e.rfBox[2] - e.rfBox[0]) * sx, (e.rfBox[3] - e.rfBox[1]) * sy);
  p.drawRect(rf.adjusted(0.75, 0.75, -0.75, -0.75));
  const QPointF c((e.centreX + 0.5) * sx, (e.centreY + 0.5) * sy);  // pixel centres at integers
  p.setPen(QPen(QColor(0, 230, 255), 1.5));
  p.drawEllipse(c, e.radius50 * sx, e.radius50 * sy);
  p.setPen(QPen(QColor(0, 230, 255), 1.5, Qt::DashLine));
  p.drawEllipse(c, e.radius90 * sx, e.radius90 * sy);
  return out;
}

namespace {
// A stage's numbers under its heatmap: its tap, theoretical field, and the 50% and 90% radii.
QLabel* stageLabel(const StageErf& e, size_t i) {
  auto* text = new QLabel(ErfPanel::tr("Stage %1: %2\nTRF %3, r50 %4 px, r90 %5 px")
                              .arg(i + 1)
                              .arg(QString::fromStdString(e.tap))
                              .arg(e.global ? ErfPanel::tr("global") : ErfPanel::tr("%1 px").arg(e.rfSize))
                              .arg(e.radius50, 0, 'f', 2)
                              .arg(e.radius90, 0, 'f', 2));
  QFont f = text->font();
  f.setPointSizeF(8);
  text->setFont(f);
  return text;
}
}  // namespace

void ErfPanel::redraw() {
  while (QLayoutItem* item = cells_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  pictures_.clear(), texts_.clear(), drawn_.clear();
  setMinimumHeight(0);
  if (model_->count() == 0) {
    info_->setText(tr("Load a model to see its effective receptive fields."));
    return;
  }
  const SlotErf* erf = session_->featureVis().erf(model_->currentData().toInt());
  if (!erf) {
    info_->setText(tr("Compute ERF: how far each stage of the model sees, beside its theoretical receptive field."));
    return;
  }
  info_->setText(tr("%1 over %2 images of %3 (%4 s); white: theoretical field of the centre cell, cyan: 50% (solid) "
                    "and 90% (dashed) of the mass")
                     .arg(QString::fromStdString(erf->modelId))
                     .arg(erf->images)
                     .arg(QString::fromStdString(erf->dataset))
                     .arg(erf->seconds, 0, 'f', 1));
  for (size_t i = 0; i < erf->stages.size(); ++i) {
    const StageErf& e = erf->stages[i];
    auto* cell = new QWidget;
    auto* v = new QVBoxLayout(cell);
    v->setContentsMargins(2, 2, 2, 2);
    auto* picture = new QLabel;
    drawn_.push_back(drawErf(e, kSide));
    picture->setPixmap(QPixmap::fromImage(drawn_.back()));
    auto* text = stageLabel(e, i);
    v->addWidget(picture);
    v->addWidget(text);
    cells_->addWidget(cell);
    pictures_.push_back(picture);
    texts_.push_back(text);
  }
  cells_->addStretch(1);
  setMinimumHeight(kSide + 90);  // the heatmaps and their numbers stay whole beside the plots
}

}  // namespace fs::ui
