#include "ui/sanity_cascade_panel.h"

#include "render/figure_renderer.h"
#include "ui/analysis_session.h"
#include "ui/qcustomplot_include.h"
#include "ui/view_helpers.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

#include <cmath>

namespace fs::ui {

SanityCascadePanel::SanityCascadePanel(AnalysisSession* session, QWidget* parent)
    : QDialog(parent), session_(session) {
  setWindowTitle(tr("Sanity cascade"));
  caption_ = new QLabel;
  caption_->setWordWrap(true);
  figure_ = new QLabel;
  figure_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
  auto* scroll = new QScrollArea;
  scroll->setWidget(figure_);
  scroll->setWidgetResizable(true);
  scroll->setMinimumHeight(200);
  curves_ = new QCustomPlot;
  curves_->setMinimumHeight(260);
  curves_->legend->setVisible(true);
  legendAboveAxes(curves_, 0, 4);  // one line above the axes, clear of the curves
  auto* note = new QLabel(tr("Model-parameter randomisation (Adebayo et al. 2018): the model's units are "
                             "re-initialised with the family's own init from the logits down (cascading: one more "
                             "at each step; independent: one at a time), and the map is computed again. A map "
                             "that stays similar to the original does not depend on what the model learned. The "
                             "same computation as featurescope-cli sanity."));
  note->setWordWrap(true);
  note->setStyleSheet(QStringLiteral("color: gray; font-size: 8pt"));
  auto* l = new QVBoxLayout(this);
  l->addWidget(caption_);
  l->addWidget(scroll, 1);
  l->addWidget(curves_, 1);
  l->addWidget(note);
  l->addLayout(createControls());
  resize(1000, 720);
  connectSession();
}

// Mode, progress, Compute and Cancel.
QHBoxLayout* SanityCascadePanel::createControls() {
  mode_ = new QComboBox;
  mode_->addItem(tr("Cascading"), QStringLiteral("cascading"));
  mode_->addItem(tr("Independent"), QStringLiteral("independent"));
  mode_->setToolTip(tr("Cascading: the units from the logits down, one more at each step (sanity --mode cascade). "
                       "Independent: one unit at a time, all others trained (sanity --mode independent)."));
  again_ = new QPushButton(tr("Compute"));
  cancel_ = new QPushButton(tr("Cancel"));
  cancel_->setEnabled(false);
  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);
  progress_->setValue(0);
  progress_->setFormat(tr("%p% of the randomised units"));
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Mode:")));
  controls->addWidget(mode_);
  controls->addWidget(progress_, 1);
  controls->addWidget(again_);
  controls->addWidget(cancel_);
  return controls;
}

// Compute and Cancel; the session's cascade, image, progress and failures update the panel.
void SanityCascadePanel::connectSession() {
  connect(again_, &QPushButton::clicked, this, [this] { request(slot_, method_); });
  connect(cancel_, &QPushButton::clicked, this, &SanityCascadePanel::cancel);
  connect(session_, &AnalysisSession::sanityCascadeChanged, this, [this] {
    setRunning(false);
    showCascade();
  });
  connect(session_, &AnalysisSession::imageChanged, this, &SanityCascadePanel::showCascade);
  connect(session_, &AnalysisSession::progress, this, [this](double f, const QString& what) {
    if (running_ && what.startsWith(QLatin1String("Sanity cascade"))) progress_->setValue(int(f * 1000));
  });
  // Cancelled or failed (the session's message says which): the previous cascade stays on show.
  connect(session_, &AnalysisSession::busyChanged, this, [this](bool busy) {
    if (busy || !running_) return;
    setRunning(false);
    showCascade();
    caption_->setText(session_->sanityCascade()
                          ? caption_->text() + tr(" — the last request did not finish (cancelled or failed): this "
                                                  "is the previous cascade.")
                          : tr("The sanity cascade did not finish (cancelled or failed)."));
  });
}

void SanityCascadePanel::setRunning(bool on) {
  running_ = on;
  cancel_->setEnabled(on);
  again_->setEnabled(!on);
  mode_->setEnabled(!on);
  if (!on) progress_->setValue(progress_->maximum());
}

void SanityCascadePanel::cancel() {
  if (running_) session_->cancel();
}

void SanityCascadePanel::setMode(const QString& mode) {
  const int i = mode_->findData(mode);
  if (i >= 0) mode_->setCurrentIndex(i);
}

QString SanityCascadePanel::mode() const { return mode_->currentData().toString(); }

QString SanityCascadePanel::caption() const { return caption_->text(); }

void SanityCascadePanel::request(int slot, const QString& method) {
  if (slot < 0 || method.isEmpty()) return;
  slot_ = slot, method_ = method;
  if (session_->image().empty() || !session_->slot(slot).loaded) return;
  const QString model = QString::fromStdString(session_->slot(slot).info.modelId);
  // The previous cascade stays on show until the new one arrives (or the request is cancelled).
  caption_->setText(tr("Computing the %1 sanity cascade of %2 on %3 for %4…")
                        .arg(mode_->currentText().toLower(), method, model, session_->imageName()));
  setRunning(true);
  progress_->setValue(0);
  session_->requestSanityCascade(slot, method, mode());
}

namespace {

// The similarity curves: one graph per key over the units randomised (0 = the original map, 1).
void drawSimilarityCurves(QCustomPlot* plot, const fs::service::SanityCascadeMaps& c, bool independent) {
  plot->clearGraphs();
  const QStringList names{QStringLiteral("Spearman"), QStringLiteral("|Spearman|"), QStringLiteral("SSIM"),
                          QStringLiteral("HOG")};
  const QList<QColor> colors{QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44), QColor(214, 39, 40)};
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (size_t u = 0; u < c.units.size(); ++u) ticker->addTick(double(u + 1), QString::fromStdString(c.units[u]));
  for (size_t k = 0; k < c.keys.size() && k < size_t(names.size()); ++k) {
    QCPGraph* g = plot->addGraph();
    g->setName(names[int(k)]);
    g->setPen(QPen(colors[int(k)], 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    g->addData(0.0, 1.0);  // the original map against itself
    for (size_t u = 0; u < c.units.size(); ++u)
      if (std::isfinite(c.similarity[k][u])) g->addData(double(u + 1), c.similarity[k][u]);
  }
  ticker->addTick(0.0, SanityCascadePanel::tr("original"));
  plot->xAxis->setTicker(ticker);
  plot->xAxis->setTickLabelRotation(30);
  plot->xAxis->setLabel(independent
                            ? SanityCascadePanel::tr("the unit randomised alone (independent, all others trained)")
                            : SanityCascadePanel::tr("randomised down to (cascading, from the logits)"));
  plot->yAxis->setLabel(SanityCascadePanel::tr("similarity to the original map"));
  plot->xAxis->setRange(-0.3, double(c.units.size()) + 0.3);
  plot->yAxis->setRange(-1.05, 1.05);
  plot->replot();
}

}  // namespace

void SanityCascadePanel::showCascade() {
  const auto& c = session_->sanityCascade();
  if (!c) {
    if (!figure_->pixmap().isNull()) caption_->setText(tr("A new image: compute the cascade again."));
    figure_->clear();
    curves_->clearGraphs();
    curves_->replot();
    return;
  }
  const bool independent = c->mode == "independent";
  caption_->setText((independent ? tr("%1 of %2 on %3: %4 units randomised one at a time, head first (independent; "
                                      "target = the top-1 class)")
                                 : tr("%1 of %2 on %3: %4 units randomised, head first (cascading; target = the "
                                      "top-1 class)"))
                        .arg(QString::fromStdString(c->title), QString::fromStdString(c->modelId),
                             QString::fromStdString(c->image))
                        .arg(c->units.size()));
  try {
    // The whole figure in view: scaled down to the panel's width when it is wider (caption included).
    QImage img = fs::render::FigureRenderer(c->figure).toImage(110);
    const int room = figure_->parentWidget() ? figure_->parentWidget()->width() - 4 : img.width();
    if (room > 200 && img.width() > room) img = img.scaledToWidth(room, Qt::SmoothTransformation);
    figure_->setPixmap(QPixmap::fromImage(img));
  } catch (const std::exception& e) {
    figure_->setText(QString::fromUtf8(e.what()));
  }
  drawSimilarityCurves(curves_, *c, independent);
}

}  // namespace fs::ui
