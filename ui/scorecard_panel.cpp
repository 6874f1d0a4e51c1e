// The Evaluate view's result: the scorecard table, the chart of a column and a cell's worst images.
#include "ui/scorecard_panel.h"

#include "ui/analysis_session.h"
#include "ui/qcustomplot_include.h"
#include "ui/view_helpers.h"

#include <QFileInfo>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace fs::ui {
namespace {

QString number(double v) { return std::isfinite(v) ? QString::number(v, 'g', 4) : QStringLiteral("–"); }

// The table's column headers: each key with ↑ (higher is better) or ↓.
QStringList keyHeaders(const fs::service::EvaluationResult& res, const QStringList& keys) {
  QStringList headers;
  for (const QString& k : keys) {
    bool higher = false;
    for (const auto& m : res.models)
      for (size_t j = 0; j < m.keys.size(); ++j)
        if (QString::fromStdString(m.keys[j]) == k) higher = m.higherIsBetter[j];
    headers << k + (higher ? QStringLiteral(" ↑") : QStringLiteral(" ↓"));
  }
  return headers;
}

// One cell: mean [CI], its rank in the tooltip, bold when it ranks first of several methods.
QTableWidgetItem* statisticItem(const fs::service::MetricStatistic& s, size_t methods) {
  auto* item = new QTableWidgetItem(QStringLiteral("%1 [%2, %3]").arg(number(s.mean), number(s.ciLow), number(s.ciHigh)));
  item->setToolTip(ScorecardPanel::tr("rank %1 of %2 (n = %3)").arg(s.rank).arg(methods).arg(s.n));
  if (s.rank == 1.0 && methods > 1) {
    QFont f = item->font();
    f.setBold(true);
    item->setFont(f);
  }
  return item;
}

}  // namespace

ScorecardPanel::ScorecardPanel(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  summary_ = new QLabel(tr("Choose models, methods, metrics and images, then Run. Target = each image's top-1 "
                           "prediction; the numbers are those of featurescope-cli evaluate."));
  summary_->setWordWrap(true);
  summary_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
  table_ = new QTableWidget;
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setSelectionBehavior(QAbstractItemView::SelectItems);
  // A click selects a cell without scrolling the table sideways (which cut the first column).
  table_->setAutoScroll(false);
  table_->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
  chart_ = new QCustomPlot;
  chart_->setMinimumHeight(220);
  auto* lower = new QSplitter(Qt::Horizontal);
  lower->addWidget(chart_);
  lower->addWidget(buildWorstBox());
  lower->setSizes({560, 300});
  auto* results = new QSplitter(Qt::Vertical);
  results->addWidget(table_);
  results->addWidget(lower);
  results->setSizes({300, 420});
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(summary_);
  layout->addWidget(results, 1);
  connect(table_, &QTableWidget::cellClicked, this, &ScorecardPanel::selectCell);
}

// The worst images of the selected cell, and the buttons (or a double click) that open one.
QWidget* ScorecardPanel::buildWorstBox() {
  worstTitle_ = new QLabel(tr("Click a cell: the images where that method did worst on that metric."));
  worstTitle_->setWordWrap(true);
  worst_ = new QListWidget;
  worst_->setWordWrap(true);
  auto* openCompare = new QPushButton(tr("Open in Compare"));
  auto* openSaliency = new QPushButton(tr("Open in Saliency"));
  auto* worstBox = new QWidget;
  auto* w = new QVBoxLayout(worstBox);
  w->setContentsMargins(0, 0, 0, 0);
  w->addWidget(worstTitle_);
  w->addWidget(worst_, 1);
  auto* open = new QHBoxLayout;
  open->addWidget(openCompare);
  open->addWidget(openSaliency);
  w->addLayout(open);
  connect(openCompare, &QPushButton::clicked, this, [this] { openWorst(worst_->currentRow(), QStringLiteral("compare")); });
  connect(openSaliency, &QPushButton::clicked, this, [this] { openWorst(worst_->currentRow(), QStringLiteral("saliency")); });
  connect(worst_, &QListWidget::itemDoubleClicked, this, [this] { openWorst(worst_->currentRow(), QStringLiteral("saliency")); });
  return worstBox;
}

void ScorecardPanel::noteSaved(const QString& note) { summary_->setText(summaryText_ + QLatin1Char(' ') + note); }

void ScorecardPanel::showResult(const fs::service::EvaluationResult& res) {
  rows_.clear();
  QStringList keys;  // the union of the models' keys, in order
  QStringList notes;
  for (size_t mi = 0; mi < res.models.size(); ++mi) {
    const auto& m = res.models[mi];
    for (const auto& k : m.keys)
      if (!keys.contains(QString::fromStdString(k))) keys << QString::fromStdString(k);
    for (size_t i = 0; i < m.methods.size(); ++i) rows_.push_back({mi, i});
    notes << tr("%1: %2 images%3").arg(modelIdLabel(m.modelId)).arg(m.done).arg(
        m.failed ? tr(", %1 failed").arg(m.failed) : QString());
    if (!m.skipped.empty())
      notes << tr("%1 does not apply to %2").arg(QString::fromStdString(m.skipped.front()), modelIdLabel(m.modelId));
  }
  summary_->setText(tr("%1 — %2. Cells: mean [bootstrap 95% CI], bold = rank 1 of the model's methods (tooltip: "
                       "rank); ↑ higher is better, ↓ lower is better.")
                        .arg(QString::fromStdString(res.source), notes.join(QStringLiteral("; "))));
  summaryText_ = summary_->text();
  table_->clear();
  table_->setRowCount(int(rows_.size()));
  table_->setColumnCount(keys.size());
  table_->setHorizontalHeaderLabels(keyHeaders(res, keys));
  QStringList rowNames;
  for (size_t r = 0; r < rows_.size(); ++r) {
    const auto& m = res.models[rows_[r].first];
    const size_t method = rows_[r].second;
    rowNames << QStringLiteral("%1 · %2").arg(modelIdLabel(m.modelId), QString::fromStdString(m.methods[method]));
    for (size_t j = 0; j < m.keys.size(); ++j) {
      table_->setItem(int(r), keys.indexOf(QString::fromStdString(m.keys[j])), statisticItem(m.stats[method][j], m.methods.size()));
    }
  }
  table_->setVerticalHeaderLabels(rowNames);
  table_->resizeColumnsToContents();
  worst_->clear();
  drawChart(keys.isEmpty() ? -1 : 0);
}

void ScorecardPanel::drawChart(int column) {
  chart_->clearPlottables();
  if (column < 0 || !session_->evaluation()) return chart_->replot();
  const auto& res = *session_->evaluation();
  const QString key = table_->horizontalHeaderItem(column)->text().section(QLatin1Char(' '), 0, 0);
  QVector<double> x, mean, low, high;
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (size_t r = 0; r < rows_.size(); ++r) {
    const auto& m = res.models[rows_[r].first];
    const auto it = std::find(m.keys.begin(), m.keys.end(), key.toStdString());
    if (it == m.keys.end()) continue;
    const auto& s = m.stats[rows_[r].second][size_t(it - m.keys.begin())];
    x << double(r);
    mean << s.mean, low << s.mean - s.ciLow, high << s.ciHigh - s.mean;
    ticker->addTick(double(r), table_->verticalHeaderItem(int(r))->text().replace(QStringLiteral(" · "), QStringLiteral("\n")));
  }
  auto* bars = new QCPBars(chart_->xAxis, chart_->yAxis);
  bars->setData(x, mean);
  bars->setBrush(QColor(70, 130, 180, 170));
  auto* whiskers = new QCPErrorBars(chart_->xAxis, chart_->yAxis);
  whiskers->setDataPlottable(bars);
  whiskers->setData(low, high);
  chart_->xAxis->setTicker(ticker);
  // Level two-line labels (model, method) while they fit side by side, slanted beyond that.
  const QFontMetrics metrics(chart_->xAxis->tickLabelFont());
  int widest = 0;
  for (const QString& label : ticker->ticks())
    for (const QString& line : label.split(QLatin1Char('\n'))) widest = std::max(widest, metrics.horizontalAdvance(line));
  const double perBar = double(chart_->axisRect()->width()) / (double(rows_.size()) + 0.4);
  chart_->xAxis->setTickLabelRotation(double(widest) + 6.0 < perBar ? 0.0 : -40.0);  // ends at the tick
  chart_->yAxis->setLabel(table_->horizontalHeaderItem(column)->text() + tr(" (mean, 95% CI)"));
  chart_->rescaleAxes();
  chart_->xAxis->setRange(-0.7, double(rows_.size()) - 0.3);
  const QCPRange y = chart_->yAxis->range();
  double lo = y.lower, hi = y.upper;
  for (int i = 0; i < x.size(); ++i) lo = std::min(lo, mean[i] - low[i]), hi = std::max(hi, mean[i] + high[i]);
  chart_->yAxis->setRange(std::min(0.0, lo), hi + 0.05 * (hi - std::min(0.0, lo) + 1e-12));
  chart_->replot();
}

void ScorecardPanel::selectCell(int row, int column) {
  if (row < 0 || column < 0 || size_t(row) >= rows_.size()) return;
  table_->setCurrentCell(row, column);
  drawChart(column);
  listWorst(row, column);
}

void ScorecardPanel::listWorst(int row, int column) {
  const auto& res = *session_->evaluation();
  worstModel_ = rows_[size_t(row)].first, worstMethod_ = rows_[size_t(row)].second;
  const auto& m = res.models[worstModel_];
  const std::string key = table_->horizontalHeaderItem(column)->text().section(QLatin1Char(' '), 0, 0).toStdString();
  const auto it = std::find(m.keys.begin(), m.keys.end(), key);
  worst_->clear();
  worstImages_.clear();
  if (it == m.keys.end()) return;
  const size_t k = size_t(it - m.keys.begin());
  worstImages_ = fs::service::worstImages(m, worstMethod_, k, 20);
  worstTitle_->setText(tr("Worst images of %1 on %2 (%3 first):")
                           .arg(QString::fromStdString(m.methods[worstMethod_]), QString::fromStdString(key),
                                m.higherIsBetter[k] ? tr("lowest") : tr("highest")));
  for (size_t i : worstImages_) {
    const auto& img = m.images[i];
    const QString name = img.testIndex >= 0 ? tr("test image %1").arg(img.testIndex)
                                            : QFileInfo(QString::fromStdString(img.name)).fileName();
    // Two short lines, so that a narrow list cuts nothing off.
    const QString text = QStringLiteral("%1   %2 = %3\n   class %4")
                             .arg(name, QString::fromStdString(key), number(img.values[worstMethod_][k]))
                             .arg(img.target);
    auto* item = new QListWidgetItem(text, worst_);
    item->setToolTip(text);
  }
  if (worst_->count()) worst_->setCurrentRow(0);
}

void ScorecardPanel::openWorst(int i, const QString& view) {
  if (i < 0 || size_t(i) >= worstImages_.size() || !session_->evaluation()) return;
  const auto& m = session_->evaluation()->models[worstModel_];
  const auto& img = m.images[worstImages_[size_t(i)]];
  if (img.testIndex >= 0) session_->openTestImage(img.testIndex);
  else session_->openImageFile(QString::fromStdString(img.name));
  const QString method = QString::fromStdString(m.methods[worstMethod_]);
  if (view == QLatin1String("compare")) {
    session_->setCompareMethod(method);
  } else if (!session_->saliencyMethods().contains(method)) {
    session_->setSaliencyMethods(session_->saliencyMethods() << method, session_->saliencyTargetName(),
                                 session_->saliencyParams());
  }
  Q_EMIT showViewRequested(view);
}

}  // namespace fs::ui
