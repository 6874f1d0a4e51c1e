#include "ui/test_set_panel.h"

#include "ui/analysis_session.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

namespace fs::ui {

using namespace fs::analysis;
using namespace fs::service;

TestSetPanel::TestSetPanel(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* open = new QHBoxLayout;
  open->addWidget(new QLabel(tr("Test image")));
  index_ = new QSpinBox;
  index_->setRange(0, 9999);
  open->addWidget(index_, 1);
  auto* openButton = new QPushButton(tr("Open"));
  open->addWidget(openButton);
  layout->addLayout(open);
  auto* form = new QFormLayout;
  model_ = new QComboBox;
  form->addRow(tr("Model"), model_);
  limit_ = new QSpinBox;
  limit_->setRange(10, 10000);
  limit_->setSingleStep(500);
  limit_->setValue(1000);
  limit_->setToolTip(tr("Evaluate the first N of the 10,000 test images"));
  form->addRow(tr("First N images"), limit_);
  layout->addLayout(form);
  auto* find = new QPushButton(tr("Find misclassified"));
  layout->addWidget(find);
  summary_ = new QLabel;
  summary_->setWordWrap(true);
  layout->addWidget(summary_);
  list_ = new QListWidget;
  list_->setMinimumHeight(120);
  layout->addWidget(list_, 1);

  connect(openButton, &QPushButton::clicked, this, [this] { session_->openTestImage(index_->value()); });
  connect(find, &QPushButton::clicked, this, [this] {
    if (model_->count() > 0) findMisclassified(model_->currentData().toInt(), limit_->value());
  });
  connect(list_, &QListWidget::currentRowChanged, this, [this](int row) {
    if (row >= 0) session_->openTestImage(list_->item(row)->data(Qt::UserRole).toInt());
  });
  connect(session_, &AnalysisSession::slotChanged, this, &TestSetPanel::refreshModels);
  connect(session_, &AnalysisSession::testSetReady, this, &TestSetPanel::showReport);
}

// The model's accuracy on the first N test images and its misclassified images, each opening on a click.
void TestSetPanel::showReport(const TestSetReport& r) {
  QSignalBlocker block(list_);
  list_->clear();
  summary_->setText(tr("%1: %2% correct on the first %3 test images; %4 misclassified")
                        .arg(QString::fromStdString(r.modelId))
                        .arg(100.0 * r.accuracy, 0, 'f', 2)
                        .arg(r.images)
                        .arg(r.indices.size()));
  for (size_t i = 0; i < r.indices.size(); ++i) {
    auto* item = new QListWidgetItem(QStringLiteral("#%1  %2 → %3")
                                         .arg(r.indices[i])
                                         .arg(QString::fromStdString(r.classes[size_t(r.truth[i])]),
                                              QString::fromStdString(r.classes[size_t(r.predicted[i])])),
                                     list_);
    item->setData(Qt::UserRole, r.indices[i]);
  }
}

void TestSetPanel::findMisclassified(int slot, int limit) {
  summary_->setText(tr("evaluating…"));
  session_->requestTestSet(slot, limit);
}

void TestSetPanel::refreshModels() {
  const QVariant keep = model_->currentData();
  QSignalBlocker block(model_);
  model_->clear();
  for (int i : session_->loadedSlots())
    if (session_->slot(i).info.labels.size() == 10)
      model_->addItem(QString::fromStdString(session_->slot(i).info.modelId), i);
  model_->setCurrentIndex(std::max(0, model_->findData(keep)));
}

}  // namespace fs::ui
