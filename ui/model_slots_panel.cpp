#include "ui/model_slots_panel.h"

#include "ui/analysis_session.h"

#include <QComboBox>
#include <QDropEvent>
#include <QFileInfo>
#include <QMimeData>
#include <QFileDialog>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>
#include "ui/qcustomplot_include.h"
#include "service/model_slots.h"

namespace fs::ui {

using fs::service::ModelSlots;

namespace {

QToolButton* toolButton(const QString& text, const QString& tip) {
  auto* b = new QToolButton;
  b->setText(text);
  b->setToolTip(tip);
  return b;
}

// The registered ids, each with its description as the tooltip.
QComboBox* variantChooser() {
  auto* variant = new QComboBox;
  for (const std::string& id : ModelSlots::registeredIds()) {
    variant->addItem(QString::fromStdString(id));
    variant->setItemData(variant->count() - 1, QString::fromStdString(ModelSlots::describeVariant(id)),
                         Qt::ToolTipRole);
  }
  // Sized for ids like "convmlp_fmnist", not the longest one; with the file buttons on a second
  // row, every button (remove included) fits the dock instead of hiding behind a scrollbar.
  variant->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  variant->setMinimumContentsLength(12);
  return variant;
}

}  // namespace

ModelSlotsPanel::ModelSlotsPanel(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  for (int i = 0; i < 4; ++i) layout->addWidget(createSlotBox(i));
  add_ = new QPushButton(tr("Add model"));
  connect(add_, &QPushButton::clicked, this, [this] { session_->addSlot(QStringLiteral("resnet_fmnist")); });
  layout->addWidget(add_);
  layout->addStretch();
  connect(session_, &AnalysisSession::slotChanged, this, &ModelSlotsPanel::refresh);
  connect(session_, &AnalysisSession::resultChanged, this, [this](int slot, ResultKind kind) {
    if (kind == ResultKind::Prediction) refresh(slot);  // the top-5 bars
  });
  connect(session_, &AnalysisSession::slotOrderChanged, this, &ModelSlotsPanel::reorder);
}

// Slot i's box (hidden until a model is loaded): the variant, move and remove buttons, the file
// buttons, the load report and the top-5 plot.
QGroupBox* ModelSlotsPanel::createSlotBox(int i) {
  SlotUi& ui = slots_[size_t(i)];
  ui.box = new QGroupBox(tr("Slot %1").arg(i + 1));
  auto* v = new QVBoxLayout(ui.box);
  v->setContentsMargins(4, 2, 4, 2);
  v->setSpacing(2);
  v->addLayout(variantRow(i));
  v->addLayout(fileRow(i));
  ui.report = new QLabel;
  ui.report->setWordWrap(true);
  ui.report->setStyleSheet(QStringLiteral("color: palette(mid); font-size: 8pt"));
  v->addWidget(ui.report);
  ui.plot = new QCustomPlot;
  ui.plot->setMinimumHeight(105);
  ui.plot->setMaximumHeight(130);
  v->addWidget(ui.plot);
  ui.box->setVisible(false);
  ui.box->setAcceptDrops(true);
  ui.box->installEventFilter(this);
  return ui.box;
}

// Slot i's variant chooser (choosing one loads it) with its move up, move down and remove buttons.
QHBoxLayout* ModelSlotsPanel::variantRow(int i) {
  auto* row = new QHBoxLayout;
  QComboBox* variant = slots_[size_t(i)].variant = variantChooser();
  row->addWidget(variant, 1);
  auto* up = toolButton(QStringLiteral("▲"), tr("Move this model up (earlier row in every view)"));
  auto* down = toolButton(QStringLiteral("▼"), tr("Move this model down"));
  auto* remove = toolButton(QStringLiteral("✕"), tr("Remove this model"));
  for (QToolButton* b : {up, down, remove}) row->addWidget(b);
  connect(variant, &QComboBox::activated, this,
          [this, i](int) { session_->loadSlot(i, slots_[size_t(i)].variant->currentText()); });
  connect(remove, &QToolButton::clicked, this, [this, i] { session_->removeSlot(i); });
  connect(up, &QToolButton::clicked, this, [this, i] { session_->moveSlot(i, -1); });
  connect(down, &QToolButton::clicked, this, [this, i] { session_->moveSlot(i, +1); });
  return row;
}

// Slot i's file buttons: a checkpoint for the chosen variant, or a model from a JSON config.
QHBoxLayout* ModelSlotsPanel::fileRow(int i) {
  auto* files = new QHBoxLayout;
  auto* weights = toolButton(tr("Weights…"), tr("Load a checkpoint (.safetensors / .pth) for the chosen variant"));
  auto* config = toolButton(tr("JSON…"), tr("Build a model from a JSON config"));
  files->addWidget(weights);
  files->addWidget(config);
  files->addStretch();
  connect(weights, &QToolButton::clicked, this, [this, i] {
    const QString f = QFileDialog::getOpenFileName(this, tr("Load checkpoint"), {},
                                                   tr("Checkpoints (*.safetensors *.pth *.pt *.bin)"));
    if (!f.isEmpty()) loadWeights(i, f);
  });
  connect(config, &QToolButton::clicked, this, [this, i] {
    const QString f = QFileDialog::getOpenFileName(this, tr("Load JSON config"), {}, tr("JSON (*.json)"));
    if (!f.isEmpty()) session_->loadSlot(i, f);
  });
  return files;
}

// Slot boxes follow the session's display order.
void ModelSlotsPanel::reorder() {
  auto* v = static_cast<QVBoxLayout*>(layout());
  int pos = 0;
  for (int i : session_->loadedSlots()) {
    v->removeWidget(slots_[size_t(i)].box);
    v->insertWidget(pos++, slots_[size_t(i)].box);
  }
}

QWidget* ModelSlotsPanel::slotBox(int slot) const { return slots_[size_t(slot)].box; }

void ModelSlotsPanel::loadWeights(int slot, const QString& checkpoint) {
  session_->loadSlot(slot, slots_[size_t(slot)].variant->currentText(), checkpoint);
}

bool ModelSlotsPanel::isCheckpoint(const QString& path) {
  static const QStringList suffixes{QStringLiteral("safetensors"), QStringLiteral("pth"), QStringLiteral("pt"),
                                    QStringLiteral("bin")};
  return suffixes.contains(QFileInfo(path).suffix().toLower());
}

namespace {
// The one local checkpoint file a drag carries (empty: none, or something else).
QString droppedCheckpoint(const QMimeData* mime) {
  if (!mime || !mime->hasUrls() || mime->urls().size() != 1 || !mime->urls().front().isLocalFile()) return {};
  const QString path = mime->urls().front().toLocalFile();
  return ModelSlotsPanel::isCheckpoint(path) ? path : QString();
}
}  // namespace

bool ModelSlotsPanel::eventFilter(QObject* watched, QEvent* event) {
  int slot = -1;
  for (int i = 0; i < int(slots_.size()); ++i)
    if (watched == slots_[size_t(i)].box) slot = i;
  if (slot < 0 || (event->type() != QEvent::DragEnter && event->type() != QEvent::Drop))
    return QWidget::eventFilter(watched, event);
  auto* drop = static_cast<QDropEvent*>(event);  // QDragEnterEvent derives from it
  const QString checkpoint = droppedCheckpoint(drop->mimeData());
  if (checkpoint.isEmpty()) return false;  // images and folders go on to the window
  drop->acceptProposedAction();
  if (event->type() == QEvent::Drop) loadWeights(slot, checkpoint);
  return true;
}

QString ModelSlotsPanel::reportText(int slot) const { return slots_[size_t(slot)].report->text(); }

int ModelSlotsPanel::barCount(int slot) const {
  auto* plot = slots_[size_t(slot)].plot;
  if (plot->plottableCount() == 0) return 0;
  auto* bars = qobject_cast<QCPBars*>(plot->plottable(0));
  return bars ? bars->data()->size() : 0;
}

QString ModelSlotsPanel::variantText(int slot) const { return slots_[size_t(slot)].variant->currentText(); }

namespace {
// The slot's top predictions as horizontal bars, the most probable on top (none: an empty chart).
void plotPrediction(QCustomPlot* plot, const std::optional<fs::service::SlotPrediction>& prediction) {
  plot->clearPlottables();
  if (prediction) {
    auto* bars = new QCPBars(plot->yAxis, plot->xAxis);
    bars->setBrush(QColor(70, 130, 180));
    bars->setPen(Qt::NoPen);
    QVector<double> keys, values;
    QVector<QString> labels;
    const auto& top = prediction->top;
    for (int k = 0; k < int(top.size()); ++k) {
      keys << double(top.size() - k);
      values << double(top[size_t(k)].prob);
      labels << QStringLiteral("%1 %2%").arg(QString::fromStdString(top[size_t(k)].label).left(18))
                    .arg(100.0 * top[size_t(k)].prob, 0, 'f', 1);
    }
    bars->setData(keys, values);
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    ticker->addTicks(keys, labels);
    plot->yAxis->setTicker(ticker);
    plot->yAxis->setRange(0.4, top.size() + 0.6);
    plot->xAxis->setRange(0, 1);
    plot->xAxis->setLabel(ModelSlotsPanel::tr("probability"));
    QFont f = plot->font();
    f.setPointSizeF(7.5);
    plot->xAxis->setTickLabelFont(f);
    plot->yAxis->setTickLabelFont(f);
    plot->xAxis->setLabelFont(f);
  }
  plot->replot();
}
}  // namespace

void ModelSlotsPanel::refresh(int i) {
  const SlotState& s = session_->slot(i);
  SlotUi& ui = slots_[size_t(i)];
  ui.box->setVisible(s.loaded);
  add_->setEnabled(session_->loadedSlots().size() < 4);
  reorder();
  if (!s.loaded) return;
  const QString id = QString::fromStdString(s.info.modelId);
  int idx = ui.variant->findText(id);
  if (idx < 0 && !id.isEmpty()) {  // a JSON config: its path joins the list (choosing it reloads it)
    ui.variant->addItem(id);
    idx = ui.variant->count() - 1;
    ui.variant->setItemData(idx, id, Qt::ToolTipRole);
  }
  if (idx >= 0) ui.variant->setCurrentIndex(idx);
  ui.box->setTitle(tr("Slot %1: %2").arg(i + 1).arg(id));
  if (!s.info.taps.empty())
    ui.report->setText(tr("%1, %2 M parameters, input %3×%4\n%5")
                           .arg(QString::fromStdString(s.info.family))
                           .arg(double(s.info.parameters) / 1e6, 0, 'f', 2)
                           .arg(s.info.inputWidth).arg(s.info.inputHeight)
                           .arg(QString::fromStdString(s.info.report)));
  else
    ui.report->setText(tr("loading…"));
  plotPrediction(ui.plot, s.prediction);
}

}  // namespace fs::ui
