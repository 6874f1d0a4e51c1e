#include "ui/evaluate_view.h"

#include "service/saliency_service.h"
#include "ui/analysis_session.h"
#include "ui/evaluate_settings.h"
#include "ui/qcustomplot_include.h"

#include <QDir>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QFontMetrics>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace fs::ui {

using fs::service::EvaluationService;
using fs::service::SaliencyService;

namespace {

QListWidget* checkList() {
  auto* l = new QListWidget;
  l->setSelectionMode(QAbstractItemView::NoSelection);
  return l;
}

void addCheckable(QListWidget* list, const QString& text, const QVariant& data, bool checked) {
  auto* item = new QListWidgetItem(text, list);
  item->setData(Qt::UserRole, data);
  item->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled);
  item->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
}

QVariantList checkedData(const QListWidget* list) {
  QVariantList out;
  for (int i = 0; i < list->count(); ++i)
    if (list->item(i)->checkState() == Qt::Checked && (list->item(i)->flags() & Qt::ItemIsEnabled))
      out << list->item(i)->data(Qt::UserRole);
  return out;
}

// A model's name in the lists and the table: a JSON config's id is its path; its folder names it.
QString modelName(const std::string& id) {
  const QFileInfo f(QString::fromStdString(id));
  return f.suffix() == QLatin1String("json") ? f.dir().dirName() : QString::fromStdString(id);
}

QString number(double v) { return std::isfinite(v) ? QString::number(v, 'g', 4) : QStringLiteral("–"); }

}  // namespace

EvaluateView::EvaluateView(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  slots_ = checkList();
  methods_ = checkList();
  metrics_ = checkList();
  for (const std::string& m : SaliencyService::methodNames())
    addCheckable(methods_, QString::fromStdString(SaliencyService::methodTitle(m) + " (" + m + ")"),
                 QString::fromStdString(m), m == "gradcam" || m == "gradient");
  for (const std::string& m : EvaluationService::metricNames())
    addCheckable(metrics_, QString::fromStdString(EvaluationService::metricTitle(m) + " (" + m + ")"),
                 QString::fromStdString(m), m == "deletion" || m == "insertion" || m == "gini");
  fmnist_ = new QRadioButton(tr("Fashion-MNIST test set, first"));
  fmnist_->setChecked(true);
  count_ = new QSpinBox;
  count_->setRange(1, 10000);
  count_->setValue(20);
  folder_ = new QRadioButton(tr("The open image's folder"));
  folderLabel_ = new QLabel;
  folderLabel_->setWordWrap(true);
  run_ = new QPushButton(tr("Run"));
  cancel_ = new QPushButton(tr("Cancel"));
  cancel_->setEnabled(false);
  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);

  auto* controls = new QWidget;
  auto* c = new QVBoxLayout(controls);
  c->setContentsMargins(0, 0, 0, 0);
  const auto group = [&](const QString& title, QWidget* w, int stretch) {
    auto* g = new QGroupBox(title);
    (new QVBoxLayout(g))->addWidget(w);
    c->addWidget(g, stretch);
  };
  slots_->setMaximumHeight(slots_->fontMetrics().height() * 6);  // up to 4 slots: the room goes to the lists below
  group(tr("Models"), slots_, 0);
  group(tr("Methods"), methods_, 1);
  group(tr("Metrics"), metrics_, 1);
  auto* data = new QGroupBox(tr("Images"));
  auto* d = new QVBoxLayout(data);
  auto* n = new QHBoxLayout;
  n->addWidget(fmnist_);
  n->addWidget(count_);
  d->addLayout(n);
  d->addWidget(folder_);
  d->addWidget(folderLabel_);
  c->addWidget(data);
  settings_ = new EvaluateSettings;
  c->addWidget(settings_);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(run_);
  buttons->addWidget(cancel_);
  c->addLayout(buttons);
  c->addWidget(progress_);
  controls->setFixedWidth(350);  // the metrics list shows its longest names

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
  worstTitle_ = new QLabel(tr("Click a cell: the images where that method did worst on that metric."));
  worstTitle_->setWordWrap(true);
  worst_ = new QListWidget;
  worst_->setWordWrap(true);
  openCompare_ = new QPushButton(tr("Open in Compare"));
  openSaliency_ = new QPushButton(tr("Open in Saliency"));
  auto* worstBox = new QWidget;
  auto* w = new QVBoxLayout(worstBox);
  w->setContentsMargins(0, 0, 0, 0);
  w->addWidget(worstTitle_);
  w->addWidget(worst_, 1);
  auto* open = new QHBoxLayout;
  open->addWidget(openCompare_);
  open->addWidget(openSaliency_);
  w->addLayout(open);
  auto* lower = new QSplitter(Qt::Horizontal);
  lower->addWidget(chart_);
  lower->addWidget(worstBox);
  lower->setSizes({560, 300});
  auto* results = new QSplitter(Qt::Vertical);
  results->addWidget(table_);
  results->addWidget(lower);
  results->setSizes({300, 420});
  auto* right = new QVBoxLayout;
  right->addWidget(summary_);
  right->addWidget(results, 1);
  auto* layout = new QHBoxLayout(this);
  layout->addWidget(controls);
  layout->addLayout(right, 1);

  connect(run_, &QPushButton::clicked, this, &EvaluateView::run);
  connect(cancel_, &QPushButton::clicked, this, &EvaluateView::cancel);
  connect(slots_, &QListWidget::itemChanged, this, [this] { refreshMethods(); });
  connect(session_, &AnalysisSession::slotChanged, this, [this] { refreshSlots(); });
  connect(session_, &AnalysisSession::imageChanged, this, [this] {
    const QString f = folder();
    folderLabel_->setText(f.isEmpty() ? tr("(no folder: open an image file)") : f);
    folder_->setEnabled(!f.isEmpty());
  });
  connect(session_, &AnalysisSession::progress, this, [this](double f, const QString& what) {
    if (running_ && what.startsWith(QLatin1String("Scorecard"))) progress_->setValue(int(f * 1000));
  });
  connect(session_, &AnalysisSession::evaluationChanged, this, [this] {
    running_ = false;
    showResult();
  });
  connect(session_, &AnalysisSession::busyChanged, this, [this](bool busy) {
    if (busy || !running_) return;
    running_ = false;  // failed or cancelled: the error banner says which
    run_->setEnabled(true), cancel_->setEnabled(false);
  });
  connect(table_, &QTableWidget::cellClicked, this, &EvaluateView::selectCell);
  connect(openCompare_, &QPushButton::clicked, this, [this] { openWorst(worst_->currentRow(), QStringLiteral("compare")); });
  connect(openSaliency_, &QPushButton::clicked, this, [this] { openWorst(worst_->currentRow(), QStringLiteral("saliency")); });
  connect(worst_, &QListWidget::itemDoubleClicked, this, [this] { openWorst(worst_->currentRow(), QStringLiteral("saliency")); });
  refreshSlots();
  folderLabel_->setText(tr("(no folder: open an image file)"));
  folder_->setEnabled(false);
}

QString EvaluateView::folder() const {
  const QString path = session_->imagePath();
  return path.isEmpty() ? QString() : QFileInfo(path).absolutePath();
}

void EvaluateView::refreshSlots() {
  QVariantList listed;  // a slot the list already showed keeps its check; a new one is checked
  for (int i = 0; i < slots_->count(); ++i)
    if (slots_->item(i)->checkState() != Qt::Checked) listed << slots_->item(i)->data(Qt::UserRole);
  QSignalBlocker block(slots_);
  slots_->clear();
  for (int i : session_->loadedSlots()) {
    const auto& info = session_->slot(i).info;
    addCheckable(slots_, tr("Slot %1: %2").arg(i + 1).arg(modelName(info.modelId)), i, !listed.contains(i));
  }
  refreshMethods();
}

// A method is offered when it applies to at least one checked model; the tooltip names the others.
void EvaluateView::refreshMethods() {
  const QVariantList chosen = checkedData(slots_);
  for (int r = 0; r < methods_->count(); ++r) {
    QListWidgetItem* item = methods_->item(r);
    const std::string m = item->data(Qt::UserRole).toString().toStdString();
    QStringList applies, not_;
    for (const QVariant& s : chosen) {
      const auto& info = session_->slot(s.toInt()).info;
      (SaliencyService::applies(m, info) ? applies : not_) << modelName(info.modelId);
    }
    const bool on = chosen.isEmpty() || !applies.isEmpty();
    item->setFlags(on ? Qt::ItemFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled) : Qt::ItemFlags(Qt::ItemIsUserCheckable));
    item->setToolTip(not_.isEmpty() ? QString() : tr("Does not apply to %1 (needs attention: ViT, DeiT)").arg(not_.join(", ")));
  }
}

void EvaluateView::setChoice(const QList<int>& slots, const QStringList& methods, const QStringList& metrics) {
  const auto check = [](QListWidget* l, const QVariantList& on) {
    for (int i = 0; i < l->count(); ++i)
      l->item(i)->setCheckState(on.contains(l->item(i)->data(Qt::UserRole)) ? Qt::Checked : Qt::Unchecked);
  };
  QVariantList s, m, k;
  for (int i : slots) s << i;
  for (const QString& x : methods) m << x;
  for (const QString& x : metrics) k << x;
  check(slots_, s);
  check(methods_, m);
  check(metrics_, k);
}

void EvaluateView::setFashionMnist(int images) {
  fmnist_->setChecked(true);
  count_->setValue(images);
}

void EvaluateView::setOpenFolder() { folder_->setChecked(true); }

void EvaluateView::setSettings(int steps, const QString& substrate, int seed) { settings_->set(steps, substrate, seed); }

fs::service::EvaluationRequest EvaluateView::request() const {
  fs::service::EvaluationRequest r;
  for (const QVariant& v : checkedData(slots_)) r.slots.push_back(v.toInt());
  for (const QVariant& v : checkedData(methods_)) r.methods.push_back(v.toString().toStdString());
  for (const QVariant& v : checkedData(metrics_)) r.metrics.push_back(v.toString().toStdString());
  if (folder_->isChecked()) r.imagesDir = folder().toStdString(), r.limit = 0;
  else r.limit = count_->value();
  settings_->apply(r);  // curve steps, substrate, seed
  r.parameters = session_->saliencyParams();  // the Saliency view's method parameters
  return r;
}

void EvaluateView::run() {
  running_ = true;
  run_->setEnabled(false), cancel_->setEnabled(true);
  progress_->setValue(0);
  session_->requestEvaluation(request());
}

void EvaluateView::cancel() { session_->cancel(); }

void EvaluateView::showResult() {
  run_->setEnabled(true), cancel_->setEnabled(false);
  progress_->setValue(1000);
  const auto& res = *session_->evaluation();
  rows_.clear();
  QStringList keys;  // the union of the models' keys, in order
  QStringList notes;
  for (size_t mi = 0; mi < res.models.size(); ++mi) {
    const auto& m = res.models[mi];
    for (const auto& k : m.keys)
      if (!keys.contains(QString::fromStdString(k))) keys << QString::fromStdString(k);
    for (size_t i = 0; i < m.methods.size(); ++i) rows_.push_back({mi, i});
    notes << tr("%1: %2 images%3").arg(modelName(m.modelId)).arg(m.done).arg(
        m.failed ? tr(", %1 failed").arg(m.failed) : QString());
    if (!m.skipped.empty())
      notes << tr("%1 does not apply to %2").arg(QString::fromStdString(m.skipped.front()), modelName(m.modelId));
  }
  summary_->setText(tr("%1 — %2. Cells: mean [bootstrap 95% CI], bold = rank 1 of the model's methods (tooltip: "
                       "rank); ↑ higher is better, ↓ lower is better.")
                        .arg(QString::fromStdString(res.source), notes.join(QStringLiteral("; "))));
  table_->clear();
  table_->setRowCount(int(rows_.size()));
  table_->setColumnCount(keys.size());
  QStringList headers;
  for (const QString& k : keys) {
    bool higher = false;
    for (const auto& m : res.models)
      for (size_t j = 0; j < m.keys.size(); ++j)
        if (QString::fromStdString(m.keys[j]) == k) higher = m.higherIsBetter[j];
    headers << k + (higher ? QStringLiteral(" ↑") : QStringLiteral(" ↓"));
  }
  table_->setHorizontalHeaderLabels(headers);
  QStringList rowNames;
  for (size_t r = 0; r < rows_.size(); ++r) {
    const auto& m = res.models[rows_[r].first];
    const size_t method = rows_[r].second;
    rowNames << QStringLiteral("%1 · %2").arg(modelName(m.modelId), QString::fromStdString(m.methods[method]));
    for (size_t j = 0; j < m.keys.size(); ++j) {
      const auto& s = m.stats[method][j];
      auto* item = new QTableWidgetItem(QStringLiteral("%1 [%2, %3]").arg(number(s.mean), number(s.ciLow), number(s.ciHigh)));
      item->setToolTip(tr("rank %1 of %2 (n = %3)").arg(s.rank).arg(m.methods.size()).arg(s.n));
      if (s.rank == 1.0 && m.methods.size() > 1) {
        QFont f = item->font();
        f.setBold(true);
        item->setFont(f);
      }
      table_->setItem(int(r), keys.indexOf(QString::fromStdString(m.keys[j])), item);
    }
  }
  table_->setVerticalHeaderLabels(rowNames);
  table_->resizeColumnsToContents();
  worst_->clear();
  drawChart(keys.isEmpty() ? -1 : 0);
}

void EvaluateView::drawChart(int column) {
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

void EvaluateView::selectCell(int row, int column) {
  if (row < 0 || column < 0 || size_t(row) >= rows_.size()) return;
  table_->setCurrentCell(row, column);
  drawChart(column);
  listWorst(row, column);
}

void EvaluateView::listWorst(int row, int column) {
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

void EvaluateView::openWorst(int i, const QString& view) {
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
