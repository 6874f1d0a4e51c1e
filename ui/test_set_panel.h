#pragma once
// The Fashion-MNIST test set (Debian's dataset-fashion-mnist) as an image source: open any test
// image by index, or evaluate a loaded demo model on the first N test images and step through
// the ones it misclassifies (true class -> predicted class). GUI thread only.
#include <QWidget>

class QComboBox;
class QLabel;
class QListWidget;
class QSpinBox;

namespace fs::service {
struct TestSetReport;
}

namespace fs::ui {

class AnalysisSession;

class TestSetPanel : public QWidget {
  Q_OBJECT

 public:
  explicit TestSetPanel(AnalysisSession* session, QWidget* parent = nullptr);
  void findMisclassified(int slot, int limit);
  QListWidget* list() const { return list_; }

 private:
  void refreshModels();
  void showReport(const fs::service::TestSetReport& r);

  AnalysisSession* session_;
  QSpinBox* index_;
  QComboBox* model_;
  QSpinBox* limit_;
  QLabel* summary_;
  QListWidget* list_;
};

}  // namespace fs::ui
