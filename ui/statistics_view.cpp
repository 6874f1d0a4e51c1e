#include "ui/statistics_view.h"

#include "ui/analysis_session.h"
#include "ui/erf_panel.h"
#include "ui/input_panel.h"
#include "ui/qcustomplot_include.h"
#include "ui/view_helpers.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace fs::ui {

using namespace fs::analysis;
using namespace fs::service;

namespace {
const QColor kColours[] = {QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44), QColor(148, 103, 189)};

QCustomPlot* makePlot(const QString& title, const QString& x, const QString& y) {
  auto* p = new QCustomPlot;
  p->setMinimumSize(260, 200);
  p->plotLayout()->insertRow(0);
  p->plotLayout()->addElement(0, 0, new QCPTextElement(p, title, QFont(p->font().family(), 9, QFont::Bold)));
  p->xAxis->setLabel(x);
  p->yAxis->setLabel(y);
  QFont f = p->font();
  f.setPointSizeF(7.5);
  p->legend->setFont(f);
  return p;
}

// What the statistics plots' axes span: histogram (h), sparsity (s) and mean (m) values.
struct StatisticsExtent {
  double hmax = 0, hlo = 0, hhi = 0, smax = 0, mlo = 0, mhi = 0;
  bool any = false;  // a histogram has set hlo and hhi
};

// One model's Hoyer sparseness and mean activation against relative depth, widening e.
void plotDepthCurves(QCustomPlot* sparsityPlot, QCustomPlot* meanPlot, const std::vector<TapStatistics>& taps,
                     const QString& name, const QColor& colour, StatisticsExtent& e) {
  QVector<double> depth, sparsity, mean;
  for (size_t t = 0; t < taps.size(); ++t) {
    depth << (taps.size() > 1 ? double(t) / double(taps.size() - 1) : 0.0);
    sparsity << taps[t].hoyer;
    mean << taps[t].meanActivation;
    e.smax = std::max(e.smax, taps[t].hoyer);
    e.mlo = std::min(e.mlo, taps[t].meanActivation);
    e.mhi = std::max(e.mhi, taps[t].meanActivation);
  }
  for (auto [plot, values] : {std::pair{sparsityPlot, &sparsity}, std::pair{meanPlot, &mean}}) {
    QCPGraph* g = plot->addGraph();
    g->setName(name);
    g->setPen(QPen(colour, 1.8));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
    g->setData(depth, *values);
  }
}

// Histogram of this model's tap for the chosen stage, widening e.
void plotStageHistogram(QCustomPlot* histogram, const SlotState& s, int stage, const QString& name,
                        const QColor& colour, StatisticsExtent& e) {
  if (stage < 0 || stage >= int(s.info.stages.size())) return;
  const std::string& tap = s.info.stages[size_t(stage)];
  for (const auto& t : s.statistics->taps)
    if (t.tap == tap && t.counts.size() + 1 == t.edges.size()) {
      double total = 0;
      for (double c : t.counts) total += c;
      QVector<double> x, y;
      for (size_t b = 0; b < t.counts.size(); ++b) {
        x << 0.5 * (t.edges[b] + t.edges[b + 1]);
        y << (total > 0 ? t.counts[b] / total : 0.0);
        e.hmax = std::max(e.hmax, y.back());
      }
      if (!e.any) e.hlo = t.edges.front(), e.hhi = t.edges.back();
      e.hlo = std::min(e.hlo, t.edges.front());
      e.hhi = std::max(e.hhi, t.edges.back());
      e.any = true;
      QCPGraph* g = histogram->addGraph();
      g->setName(QStringLiteral("%1: %2").arg(name, QString::fromStdString(tap)));
      g->setPen(QPen(colour, 1.6));
      g->setLineStyle(QCPGraph::lsStepCenter);
      g->setData(x, y);
    }
}
}  // namespace

StatisticsView::StatisticsView(AnalysisSession* session, std::function<QStringList()> imageSource, QWidget* parent)
    : QWidget(parent), session_(session), images_(std::move(imageSource)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(createBar());
  layout->addLayout(createPlots(), 1);
  erf_ = new ErfPanel(session_);
  layout->addWidget(erf_);
  connectSignals();
  refreshModels();
}

// The bar above the plots: the histogram's stage, the two CKA models, Compute CKA and its note.
QHBoxLayout* StatisticsView::createBar() {
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Histogram of")));
  stage_ = new QComboBox;
  bar->addWidget(stage_);
  bar->addSpacing(20);
  bar->addWidget(new QLabel(tr("CKA between")));
  modelA_ = new QComboBox;
  modelB_ = new QComboBox;
  for (QComboBox* box : {modelA_, modelB_}) {  // a demo model's whole name, without widening the window
    box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    box->setMinimumWidth(130);
  }
  bar->addWidget(modelA_);
  bar->addWidget(new QLabel(tr("and")));
  bar->addWidget(modelB_);
  ckaButton_ = new QPushButton(tr("Compute CKA"));
  ckaButton_->setToolTip(tr("Linear CKA of every tap pair over the open folder's images (else the bundled samples).\n"
                            "Below 1000 images the debiased HSIC estimator (Song et al. 2012) is used, as the\n"
                            "biased one reads unrelated high-dimensional taps as similar; from 1000 on, the\n"
                            "biased one of Kornblith et al. 2019. Debiased values slightly below 0 mean unrelated."));
  bar->addWidget(ckaButton_);
  ckaInfo_ = new QLabel;
  ckaInfo_->setStyleSheet(QStringLiteral("color: gray"));
  ckaInfo_->setWordWrap(true);  // wraps rather than widening the window (1366x768 screens)
  bar->addWidget(ckaInfo_, 1);
  return bar;
}

// The four plots in a 2 x 2 grid: histogram and sparsity above, mean and CKA below.
QGridLayout* StatisticsView::createPlots() {
  auto* grid = new QGridLayout;
  histogram_ = makePlot(tr("Activation histogram"), tr("activation"), tr("fraction of values"));
  sparsity_ = makePlot(tr("Hoyer sparseness by depth"), tr("relative depth"), tr("Hoyer sparseness"));
  sparsity_->setToolTip(tr("Hoyer sparseness (Hoyer 2004) of each tap's values: 0 when every |value| is equal,\n"
                           "1 when one value carries everything. Scale- and sign-invariant, so it also means\n"
                           "something on the signed residual streams of MLP-Mixer, ResMLP and ConvMLP, where\n"
                           "the fraction of values <= 0 is about 0.5 everywhere."));
  mean_ = makePlot(tr("Mean activation by depth"), tr("relative depth"), tr("mean"));
  cka_ = makePlot(tr("Linear CKA"), tr("taps of model B"), tr("taps of model A"));
  for (QCustomPlot* p : {histogram_, sparsity_, mean_}) legendAboveAxes(p, 1, 2);  // inside, it hid the deepest taps
  grid->addWidget(histogram_, 0, 0);
  grid->addWidget(sparsity_, 0, 1);
  grid->addWidget(mean_, 1, 0);
  grid->addWidget(cka_, 1, 1);
  return grid;
}

// The stage chooser and Compute CKA; the session's slots, statistics and CKA replot the view.
void StatisticsView::connectSignals() {
  connect(stage_, &QComboBox::currentIndexChanged, this, &StatisticsView::replotStatistics);
  connect(ckaButton_, &QPushButton::clicked, this,
          [this] { computeCka(modelA_->currentData().toInt(), modelB_->currentData().toInt()); });
  connect(session_, &AnalysisSession::slotChanged, this, [this] {
    refreshModels();
    replotStatistics();
    maybeAutoCka();
  });
  connect(session_, &AnalysisSession::resultChanged, this, [this](int, ResultKind kind) {
    if (kind == ResultKind::Statistics) replotStatistics();
  });
  connect(session_, &AnalysisSession::slotOrderChanged, this, &StatisticsView::replotStatistics);
  connect(session_, &AnalysisSession::imageChanged, this, &StatisticsView::maybeAutoCka);  // models before the image
  connect(session_, &AnalysisSession::ckaChanged, this, &StatisticsView::replotCka);
}

void StatisticsView::setActive(bool on) {
  active_ = on;
  session_->setStatisticsActive(on);
  maybeAutoCka();
}

// The first time the view is shown with two models, CKA of the first two runs by itself.
void StatisticsView::maybeAutoCka() {
  if (!active_ || autoCkaDone_ || session_->cka() || modelB_->count() < 2 || session_->image().empty()) return;
  autoCkaDone_ = true;
  computeCka(modelA_->currentData().toInt(), modelB_->currentData().toInt());
}

void StatisticsView::computeCka(int slotA, int slotB) {
  QStringList files = images_ ? images_() : QStringList();
  if (files.size() < 2) files = InputPanel::sampleImages();
  ckaInfo_->setText(tr("computing over %1 images…").arg(files.size()));
  session_->requestCka(slotA, slotB, files);
}

QSize StatisticsView::ckaCells() const {
  const auto& c = session_->cka();
  if (!c || c->cka.empty()) return {};
  return {int(c->tapsB.size()), int(c->tapsA.size())};
}

void StatisticsView::refreshModels() {
  for (QComboBox* box : {modelA_, modelB_}) {
    const QVariant keep = box->currentData();
    QSignalBlocker block(box);
    box->clear();
    for (int i : session_->loadedSlots())
      box->addItem(QString::fromStdString(session_->slot(i).info.modelId), i);
    const int k = box->findData(keep);
    box->setCurrentIndex(k >= 0 ? k : (box == modelB_ && box->count() > 1 ? 1 : 0));
  }
  if (modelA_->currentIndex() == modelB_->currentIndex() && modelB_->count() > 1)  // two different models
    modelB_->setCurrentIndex(modelA_->currentIndex() == 0 ? 1 : 0);
  int stages = 0;
  for (int i : session_->loadedSlots()) stages = std::max(stages, int(session_->slot(i).info.stages.size()));
  const int keep = stage_->currentIndex();
  QSignalBlocker block(stage_);
  stage_->clear();
  for (int s = 0; s < stages; ++s) stage_->addItem(tr("Stage %1").arg(s + 1));
  stage_->setCurrentIndex(keep >= 0 && keep < stages ? keep : std::max(0, stages - 1));
}

void StatisticsView::replotStatistics() {
  for (QCustomPlot* p : {histogram_, sparsity_, mean_}) p->clearGraphs();
  const int stage = stage_->currentIndex();
  StatisticsExtent e;
  int row = 0;
  for (int i : session_->loadedSlots()) {
    const SlotState& s = session_->slot(i);
    const QColor colour = kColours[row++ % 4];
    if (!s.statistics) continue;
    const QString name = QString::fromStdString(s.info.modelId);
    plotDepthCurves(sparsity_, mean_, s.statistics->taps, name, colour, e);
    plotStageHistogram(histogram_, s, stage, name, colour, e);
  }
  histogram_->xAxis->setRange(e.hlo, e.hhi > e.hlo ? e.hhi : e.hlo + 1);
  histogram_->yAxis->setRange(0, e.hmax > 0 ? e.hmax * 1.1 : 1);
  sparsity_->xAxis->setRange(-0.03, 1.03);
  sparsity_->yAxis->setRange(0, std::max(0.05, e.smax * 1.1));
  mean_->xAxis->setRange(-0.03, 1.03);
  const double pad = std::max(1e-3, 0.1 * (e.mhi - e.mlo));
  mean_->yAxis->setRange(e.mlo - pad, e.mhi + pad);
  for (QCustomPlot* p : {histogram_, sparsity_, mean_}) {
    p->legend->setVisible(p->graphCount() > 0);
    p->replot();
  }
}

void StatisticsView::replotCka() {
  cka_->clearPlottables();
  for (int i = cka_->plotLayout()->elementCount() - 1; i >= 0; --i)
    if (auto* scale = qobject_cast<QCPColorScale*>(cka_->plotLayout()->elementAt(i))) cka_->plotLayout()->remove(scale);
  cka_->plotLayout()->simplify();
  const auto& c = session_->cka();
  if (!c || c->cka.empty()) {
    cka_->replot();
    return;
  }
  const int na = int(c->tapsA.size()), nb = int(c->tapsB.size());
  auto* map = new QCPColorMap(cka_->xAxis, cka_->yAxis);
  map->data()->setSize(nb, na);
  map->data()->setRange(QCPRange(0, nb - 1), QCPRange(0, na - 1));
  for (int a = 0; a < na; ++a)
    for (int b = 0; b < nb; ++b) map->data()->setCell(b, a, c->cka[size_t(a)][size_t(b)]);
  auto* scale = new QCPColorScale(cka_);
  cka_->plotLayout()->addElement(1, 1, scale);
  scale->setType(QCPAxis::atRight);
  scale->axis()->setLabel(tr("CKA"));
  map->setColorScale(scale);
  QCPColorGradient viridis;  // five stops of matplotlib's viridis
  viridis.setColorStops({{0.0, QColor(68, 1, 84)},
                         {0.25, QColor(59, 82, 139)},
                         {0.5, QColor(33, 145, 140)},
                         {0.75, QColor(94, 201, 98)},
                         {1.0, QColor(253, 231, 37)}});
  map->setGradient(viridis);
  map->setDataRange(QCPRange(0, 1));
  map->setInterpolate(false);
  auto* margins = new QCPMarginGroup(cka_);
  cka_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  cka_->xAxis->setLabel(tr("%1 taps (input → output)").arg(QString::fromStdString(c->modelB)));
  cka_->yAxis->setLabel(tr("%1 taps").arg(QString::fromStdString(c->modelA)));
  cka_->xAxis->setRange(-0.5, nb - 0.5);
  cka_->yAxis->setRange(-0.5, na - 0.5);
  ckaInfo_->setText(tr("%1 × %2 taps over n = %3 images, %4 estimator").arg(na).arg(nb).arg(c->images)
                        .arg(QString::fromStdString(c->estimator)));
  cka_->replot();
}

}  // namespace fs::ui
