#pragma once
// The Evaluate view's scorecard settings, featurescope-cli evaluate's options with its defaults:
// --curve-steps (the deletion and insertion curves' chunks, 50), --substrate (rise, black, zero,
// blur; rise) and --seed (0); and the workers scoring a model's images at once (Auto: one per
// intra-op thread, at most two; EvaluationRequest::workers, as evaluate --jobs). GUI thread only.
#include "service/evaluation_service.h"

#include <QGroupBox>

class QComboBox;
class QSpinBox;

namespace fs::ui {

class EvaluateSettings : public QGroupBox {
 public:
  explicit EvaluateSettings(QWidget* parent = nullptr);
  void set(int curveSteps, const QString& substrate, int seed);  // an unknown substrate leaves it
  void setWorkers(int workers);                                   // 0: Auto
  void apply(fs::service::EvaluationRequest& request) const;      // curveSteps, substrate, seed, workers

 private:
  QSpinBox* curveSteps_;
  QComboBox* substrate_;
  QSpinBox* seed_;
  QSpinBox* workers_;
};

}  // namespace fs::ui
