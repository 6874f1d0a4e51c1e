#pragma once
// The saliency methods' parameters as form rows, built from the one parameter table
// (analysis/saliency/method_parameters.h: labels, ranges, defaults, choices), so the GUI offers
// exactly what featurescope-cli accepts. changed() fires on any edit. GUI thread only.
#include "analysis/saliency/method_parameters.h"

#include <QWidget>

#include <map>
#include <string>

class QFormLayout;

namespace fs::ui {

class MethodParametersForm : public QObject {
  Q_OBJECT

 public:
  // Adds one row per parameter to `form`, initialised from `values`.
  MethodParametersForm(QFormLayout* form, const fs::analysis::MethodParameters& values, QObject* parent = nullptr);
  fs::analysis::MethodParameters values() const;
  void setValues(const fs::analysis::MethodParameters& values);  // without changed()
  QWidget* editor(const std::string& name) const;

 Q_SIGNALS:
  void changed();

 private:
  std::map<std::string, QWidget*> editors_;
};

}  // namespace fs::ui
