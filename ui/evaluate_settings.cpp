#include "ui/evaluate_settings.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>

namespace fs::ui {

EvaluateSettings::EvaluateSettings(QWidget* parent) : QGroupBox(tr("Settings (as evaluate's options)"), parent) {
  curveSteps_ = new QSpinBox;
  curveSteps_->setRange(1, 100000);
  curveSteps_->setValue(50);
  curveSteps_->setToolTip(tr("Deletion and insertion: the pixels are removed or put back in this many equal chunks "
                             "(evaluate --curve-steps)"));
  substrate_ = new QComboBox;
  substrate_->addItem(tr("rise (black / blur)"), QStringLiteral("rise"));
  substrate_->addItem(tr("black"), QStringLiteral("black"));
  substrate_->addItem(tr("zero (mean colour)"), QStringLiteral("zero"));
  substrate_->addItem(tr("blur"), QStringLiteral("blur"));
  substrate_->setToolTip(tr("What deleted pixels become and what insertion starts from (evaluate --substrate): rise = "
                            "RISE's, deletion to black (pixel value 0) and insertion from a Gaussian blur (sigma 5); "
                            "black, zero (the data set's mean colour) or blur: that one for both curves"));
  seed_ = new QSpinBox;
  seed_->setRange(0, 2147483647);
  seed_->setToolTip(tr("The seed of the bootstrap CIs and of the metrics that draw noise (evaluate --seed)"));
  workers_ = new QSpinBox;
  workers_->setRange(0, 16);
  workers_->setSpecialValueText(tr("Auto"));
  workers_->setToolTip(tr("Threads that score a model's images at once, each a shard of them with its own copy of the "
                          "model and a share of the intra-op threads (as evaluate --jobs). Auto: one per intra-op "
                          "thread, at most two. Any count gives the same scorecard; each worker holds its own copy "
                          "of the model and its own batches in memory"));
  auto* form = new QFormLayout(this);
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  form->addRow(tr("Curve steps"), curveSteps_);
  form->addRow(tr("Substrate"), substrate_);
  auto* seedAndWorkers = new QHBoxLayout;  // one row: the view fits a 768-pixel-high screen
  seedAndWorkers->addWidget(seed_, 1);
  seedAndWorkers->addWidget(new QLabel(tr("Workers")));
  seedAndWorkers->addWidget(workers_, 1);
  form->addRow(tr("Seed"), seedAndWorkers);
}

void EvaluateSettings::set(int curveSteps, const QString& substrate, int seed) {
  curveSteps_->setValue(curveSteps);
  const int i = substrate_->findData(substrate);
  if (i >= 0) substrate_->setCurrentIndex(i);
  seed_->setValue(seed);
}

void EvaluateSettings::setWorkers(int workers) { workers_->setValue(workers); }

void EvaluateSettings::apply(fs::service::EvaluationRequest& r) const {
  r.curveSteps = curveSteps_->value();
  r.substrate = substrate_->currentData().toString().toStdString();
  r.seed = static_cast<uint64_t>(seed_->value());
  r.workers = workers_->value();
}

}  // namespace fs::ui
