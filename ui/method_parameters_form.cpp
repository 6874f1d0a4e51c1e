#include "ui/method_parameters_form.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QSignalBlocker>
#include <QSpinBox>

namespace fs::ui {

using fs::analysis::MethodParameters;
using fs::analysis::ParameterSpec;

MethodParametersForm::MethodParametersForm(QFormLayout* form, const MethodParameters& values, QObject* parent)
    : QObject(parent) {
  for (const ParameterSpec& spec : fs::analysis::parameterSpecs()) {
    QWidget* w = nullptr;
    if (!spec.choices.empty()) {
      auto* box = new QComboBox;
      for (const std::string& c : spec.choices) box->addItem(QString::fromStdString(c));
      connect(box, &QComboBox::activated, this, &MethodParametersForm::changed);
      w = box;
    } else if (spec.integer) {
      auto* box = new QSpinBox;
      box->setRange(int(spec.minimum), int(spec.maximum));
      connect(box, &QSpinBox::valueChanged, this, &MethodParametersForm::changed);
      w = box;
    } else {
      auto* box = new QDoubleSpinBox;
      box->setRange(spec.minimum, spec.maximum);
      box->setSingleStep(0.05);
      box->setDecimals(3);
      connect(box, &QDoubleSpinBox::valueChanged, this, &MethodParametersForm::changed);
      w = box;
    }
    w->setObjectName(QString::fromStdString(spec.name));
    w->setToolTip(QString::fromStdString(spec.help));
    editors_[spec.name] = w;
    form->addRow(QString::fromStdString(spec.label), w);
  }
  setValues(values);
}

QWidget* MethodParametersForm::editor(const std::string& name) const {
  auto it = editors_.find(name);
  return it == editors_.end() ? nullptr : it->second;
}

void MethodParametersForm::setValues(const MethodParameters& p) {
  for (const auto& [name, w] : editors_) {
    const QSignalBlocker block(w);
    if (auto* box = qobject_cast<QComboBox*>(w)) box->setCurrentText(QString::fromStdString(p.baseline));
    else if (auto* spin = qobject_cast<QSpinBox*>(w)) spin->setValue(int(fs::analysis::parameterValue(p, name)));
    else if (auto* dspin = qobject_cast<QDoubleSpinBox*>(w)) dspin->setValue(fs::analysis::parameterValue(p, name));
  }
}

MethodParameters MethodParametersForm::values() const {
  MethodParameters p;
  for (const auto& [name, w] : editors_) {
    if (auto* box = qobject_cast<QComboBox*>(w)) p.baseline = box->currentText().toStdString();
    else if (auto* spin = qobject_cast<QSpinBox*>(w)) fs::analysis::setParameterValue(p, name, spin->value());
    else if (auto* dspin = qobject_cast<QDoubleSpinBox*>(w)) fs::analysis::setParameterValue(p, name, dspin->value());
  }
  return p;
}

}  // namespace fs::ui
