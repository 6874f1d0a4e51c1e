// The Saliency view's side panel: the checked methods, the target, the CAM tap and the methods'
// parameters, handed to the session (debounced) or set from outside (setMethods, setParameters).
#include "ui/saliency_view.h"

#include "ui/analysis_session.h"
#include "ui/method_parameters_form.h"
#include "service/saliency_service.h"

#include <QComboBox>
#include <QCompleter>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalBlocker>
#include <QTimer>
#include <QVBoxLayout>

#include <set>

namespace fs::ui {

using namespace fs::service;

// The side panel: methods, target, CAM tap, parameters, normalisation, the metrics' note and the
// sanity cascade's button.
QWidget* SaliencyView::buildSidePanel() {
  auto* side = new QWidget;
  side->setMaximumWidth(300);  // wide enough for the target and tap choices' default texts
  auto* sl = new QVBoxLayout(side);
  sl->setContentsMargins(0, 0, 0, 0);
  auto* mbox = new QGroupBox(tr("Methods"));
  auto* ml = new QVBoxLayout(mbox);
  methods_ = new QListWidget;
  for (const std::string& m : fs::service::SaliencyService::methodNames()) {
    auto* item = new QListWidgetItem(QString::fromStdString(m), methods_);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(session_->saliencyMethods().contains(item->text()) ? Qt::Checked : Qt::Unchecked);
  }
  methods_->setMaximumHeight(150);
  ml->addWidget(methods_);
  sl->addWidget(mbox);
  sl->addWidget(buildParameterBox());
  auto* note = new QLabel(tr("Deletion (pixels set to black, most salient first) AUC: lower is more faithful. "
                             "Insertion (from a blurred image) AUC: higher is better (RISE's substrates; "
                             "featurescope-cli evaluate --substrate offers others). "
                             "Drop: confidence lost when the map masks the input."));
  note->setWordWrap(true);
  note->setStyleSheet(QStringLiteral("color: gray; font-size: 8pt"));
  sl->addWidget(note);
  auto* sanity = new QPushButton(tr("Sanity cascade…"));
  sanity->setToolTip(tr("The selected map's sanity check (Adebayo et al. 2018): its model randomised from the logits "
                        "down, unit by unit, and the map's similarity to the original"));
  connect(sanity, &QPushButton::clicked, this, &SaliencyView::showSanityCascade);
  sl->addWidget(sanity);
  sl->addStretch();
  return side;
}

// The target, the CAM tap, the methods' parameters and the normalisation.
QGroupBox* SaliencyView::buildParameterBox() {
  auto* pbox = new QGroupBox(tr("Target and parameters"));
  auto* form = new QFormLayout(pbox);
  target_ = new QComboBox;
  target_->setEditable(true);
  target_->setInsertPolicy(QComboBox::NoInsert);
  target_->setToolTip(tr("Each model's top-1, a class from a model's top-5, or type any class name"));
  form->addRow(tr("Target"), target_);
  tap_ = new QComboBox;
  tap_->setToolTip(tr("CAM methods: the tap they explain (default: each model's last block or stage output,\n"
                      "e.g. layer4, stages.2, blocks.11, as Grad-CAM uses the last convolutional layer)"));
  form->addRow(tr("CAM tap"), tap_);
  params_ = new MethodParametersForm(form, session_->saliencyParams(), this);
  norm_ = new QComboBox;
  norm_->addItem(tr("per map"), QStringLiteral("map"));
  norm_->addItem(tr("shared by all maps"), QStringLiteral("shared"));
  form->addRow(tr("Normalise"), norm_);
  return pbox;
}

QStringList SaliencyView::checkedMethods() const {
  QStringList out;
  for (int i = 0; i < methods_->count(); ++i)
    if (methods_->item(i)->checkState() == Qt::Checked) out << methods_->item(i)->text();
  return out;
}

void SaliencyView::setMethods(const QStringList& methods) {
  {
    QSignalBlocker block(methods_);
    for (int i = 0; i < methods_->count(); ++i)
      methods_->item(i)->setCheckState(methods.contains(methods_->item(i)->text()) ? Qt::Checked : Qt::Unchecked);
  }
  apply();
}

void SaliencyView::setTarget(const QString& className) {
  target_->setCurrentText(className.isEmpty() ? target_->itemText(0) : className);
  apply();
}

void SaliencyView::setParameters(const QStringList& methods, const QString& targetName, const SaliencyParams& params) {
  {
    const QSignalBlocker b1(methods_), b2(target_), b3(tap_);
    for (int i = 0; i < methods_->count(); ++i)
      methods_->item(i)->setCheckState(methods.contains(methods_->item(i)->text()) ? Qt::Checked : Qt::Unchecked);
    target_->setCurrentText(targetName.isEmpty() ? target_->itemText(0) : targetName);
    pendingTap_ = QString::fromStdString(params.tap);
    if (const int tap = tap_->findData(pendingTap_); tap >= 0) {
      tap_->setCurrentIndex(tap);
      pendingTap_.clear();
    }
    params_->setValues(params);
  }
  debounce_->stop();
  session_->setSaliencyMethods(methods, targetName, params);
}

void SaliencyView::refreshTargets() {
  const QString current = target_->currentText();
  QSignalBlocker block(target_);
  target_->clear();
  target_->addItem(tr("each model's top-1"), QString());
  std::set<QString> all;
  QStringList top;
  for (int i : session_->loadedSlots()) {
    const SlotState& s = session_->slot(i);
    for (const std::string& l : s.info.labels) all.insert(QString::fromStdString(l));
    if (s.prediction)
      for (const auto& c : s.prediction->top) {
        const QString name = QString::fromStdString(c.label);
        if (!top.contains(name)) top << name;
      }
  }
  for (const QString& t : top) target_->addItem(t, t);  // the models' top-5 first
  QStringList names(all.begin(), all.end());
  auto* completer = new QCompleter(names, target_);
  completer->setCaseSensitivity(Qt::CaseInsensitive);
  completer->setFilterMode(Qt::MatchContains);
  target_->setCompleter(completer);
  target_->setCurrentText(current.isEmpty() ? target_->itemText(0) : current);
}

void SaliencyView::apply() {
  SaliencyParams p = session_->saliencyParams();
  static_cast<MethodParameters&>(p) = params_->values();
  p.tap = (pendingTap_.isEmpty() ? tap_->currentData().toString() : pendingTap_).toStdString();
  QString target = target_->currentText().trimmed();
  if (target == target_->itemText(0)) target.clear();
  session_->setSaliencyMethods(checkedMethods(), target, p);
}

}  // namespace fs::ui
