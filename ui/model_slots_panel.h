#pragma once
// Model slots (1 to 4): each picks a registered variant, a checkpoint or a JSON config, reports
// what was loaded (or the error, keeping the previous model) and plots its top-5 predictions
// with QCustomPlot. A checkpoint file dropped on a slot loads into it. GUI thread only.
#include <QWidget>

#include <array>

class QComboBox;
class QLabel;
class QGroupBox;
class QHBoxLayout;
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
  QString variantText(int slot) const;  // the variant list's current entry (an id or a config path)
  QWidget* slotBox(int slot) const;  // the slot's frame; a checkpoint dropped on it loads there
  // A dropped or chosen checkpoint for the slot's current variant (the Weights… path).
  void loadWeights(int slot, const QString& checkpoint);
  static bool isCheckpoint(const QString& path);  // .safetensors / .pth / .pt / .bin

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  struct SlotUi {
    QGroupBox* box = nullptr;
    QComboBox* variant = nullptr;
    QLabel* report = nullptr;
    QCustomPlot* plot = nullptr;
  };
  QGroupBox* createSlotBox(int i);
  QHBoxLayout* variantRow(int i);
  QHBoxLayout* fileRow(int i);
  void refresh(int slot);
  void reorder();
  void showError(const QString& message);

  AnalysisSession* session_;
  std::array<SlotUi, 4> slots_;
  QPushButton* add_;
};

}  // namespace fs::ui
