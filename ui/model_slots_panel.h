#pragma once
// Model slots (1 to 4): each picks a registered variant, a checkpoint or a JSON config, reports
// what was loaded (or the error, keeping the previous model) and plots its top-5 predictions
// with QCustomPlot. GUI thread only.
#include <QWidget>

#include <array>

class QComboBox;
class QLabel;
class QGroupBox;
class QCustomPlot;
class QPushButton;

namespace fs::ui {

class AnalysisSession;

class ModelSlotsPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ModelSlotsPanel(AnalysisSession* session, QWidget* parent = nullptr);
  QString reportText(int slot) const;
  int barCount(int slot) const;  // bars in the slot's prediction chart

 private:
  struct SlotUi {
    QGroupBox* box = nullptr;
    QComboBox* variant = nullptr;
    QLabel* report = nullptr;
    QCustomPlot* plot = nullptr;
  };
  void refresh(int slot);
  void reorder();
  void showError(const QString& message);

  AnalysisSession* session_;
  std::array<SlotUi, 4> slots_;
  QPushButton* add_;
};

}  // namespace fs::ui
