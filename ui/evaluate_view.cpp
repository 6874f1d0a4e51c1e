#include "ui/evaluate_view.h"

#include "render/figure_renderer.h"
#include "service/saliency_service.h"
#include "ui/analysis_session.h"
#include "ui/evaluate_settings.h"
#include "ui/scorecard_files.h"
#include "ui/scorecard_panel.h"
#include "ui/view_helpers.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include <string>


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
  createButtons();
  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);

  QWidget* controls = layoutControls();
  panel_ = new ScorecardPanel(session_);
  auto* layout = new QHBoxLayout(this);
  layout->addWidget(controls);
  layout->addWidget(panel_, 1);

  connectControls();
  refreshSlots();
  folderLabel_->setText(tr("(no folder: open an image file)"));
  folder_->setEnabled(false);
}

// Run, Cancel, Save… and the saved PNG's resolution.
void EvaluateView::createButtons() {
  run_ = new QPushButton(tr("Run"));
  cancel_ = new QPushButton(tr("Cancel"));
  cancel_->setEnabled(false);
  save_ = new QPushButton(tr("Save…"));
  save_->setToolTip(tr("Save the scorecard as featurescope-cli evaluate --out … --figure FIG does: the figure "
                       "(PNG at the resolution beside, PDF or SVG) with its manifest, and beside it each model's "
                       "scorecard (JSON with every image's values, rows, summary and agreement CSVs)"));
  save_->setEnabled(false);
  saveDpi_ = new QSpinBox;
  saveDpi_->setRange(int(fs::render::kMinDpi), int(fs::render::kMaxDpi));  // scorecard-figure --dpi's
  saveDpi_->setValue(int(fs::render::kDefaultDpi));
  saveDpi_->setSuffix(tr(" dpi"));
  saveDpi_->setToolTip(tr("The resolution of a PNG figure saved with Save… (scorecard-figure --dpi); PDF and SVG "
                          "are vector figures"));
}

// The controls' column: models, methods, metrics, images, settings, Run / Cancel and progress.
QWidget* EvaluateView::layoutControls() {
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
  buttons->addWidget(save_);
  buttons->addWidget(saveDpi_);
  c->addLayout(buttons);
  c->addWidget(progress_);
  controls->setFixedWidth(350);  // the metrics list shows its longest names
  return controls;
}

// Run and Cancel; the session's slots, image, progress and results update the controls and panel.
void EvaluateView::connectControls() {
  connect(run_, &QPushButton::clicked, this, &EvaluateView::run);
  connect(cancel_, &QPushButton::clicked, this, &EvaluateView::cancel);
  connect(save_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save scorecard"), QStringLiteral("scorecard.png"),
                                                      tr("PNG (*.png);;PDF (*.pdf);;SVG (*.svg)"));
    if (!path.isEmpty()) save(path);
  });
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
  connect(panel_, &ScorecardPanel::showViewRequested, this, &EvaluateView::showViewRequested);
  connect(session_, &AnalysisSession::evaluationChanged, this, [this] {
    running_ = false;
    showResult();
  });
  connect(session_, &AnalysisSession::busyChanged, this, [this](bool busy) {
    if (busy || !running_) return;
    running_ = false;  // failed or cancelled: the error banner says which
    run_->setEnabled(true), cancel_->setEnabled(false), save_->setEnabled(session_->evaluation().has_value());
  });
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
    addCheckable(slots_, tr("Slot %1: %2").arg(i + 1).arg(modelIdLabel(info.modelId)), i, !listed.contains(i));
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
      (SaliencyService::applies(m, info) ? applies : not_) << modelIdLabel(info.modelId);
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

void EvaluateView::setWorkers(int workers) { settings_->setWorkers(workers); }

fs::service::EvaluationRequest EvaluateView::request() const {
  fs::service::EvaluationRequest r;
  for (const QVariant& v : checkedData(slots_)) r.slots.push_back(v.toInt());
  for (const QVariant& v : checkedData(methods_)) r.methods.push_back(v.toString().toStdString());
  for (const QVariant& v : checkedData(metrics_)) r.metrics.push_back(v.toString().toStdString());
  if (folder_->isChecked()) r.imagesDir = folder().toStdString(), r.limit = 0;
  else r.limit = count_->value();
  settings_->apply(r);  // curve steps, substrate, seed, workers
  r.parameters = session_->saliencyParams();  // the Saliency view's method parameters
  return r;
}

void EvaluateView::run() {
  running_ = true;
  run_->setEnabled(false), cancel_->setEnabled(true), save_->setEnabled(false);
  progress_->setValue(0);
  session_->requestEvaluation(request());
}

void EvaluateView::cancel() { session_->cancel(); }

bool EvaluateView::save(const QString& figurePath) {
  if (!session_->evaluation()) return false;
  try {
    const QStringList written = saveScorecard(*session_->evaluation(), figurePath, saveDpi_->value());
    panel_->noteSaved(tr("Saved %1 and %2 files beside it.").arg(figurePath).arg(written.size() - 1));
    return true;
  } catch (const std::exception& e) {
    session_->reportError(tr("Saving the scorecard failed: %1").arg(QString::fromUtf8(e.what())));
    return false;
  }
}

void EvaluateView::setSaveDpi(int dpi) { saveDpi_->setValue(dpi); }

void EvaluateView::showResult() {
  run_->setEnabled(true), cancel_->setEnabled(false), save_->setEnabled(true);
  progress_->setValue(1000);
  panel_->showResult(*session_->evaluation());
}

QTableWidget* EvaluateView::table() const { return panel_->table(); }
QCustomPlot* EvaluateView::chart() const { return panel_->chart(); }
QListWidget* EvaluateView::worstList() const { return panel_->worstList(); }
void EvaluateView::selectCell(int row, int column) { panel_->selectCell(row, column); }
void EvaluateView::openWorst(int i, const QString& view) { panel_->openWorst(i, view); }

}  // namespace fs::ui
