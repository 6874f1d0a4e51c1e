#pragma once
// Display settings (colormap, sign mode, normalisation, clip percentile, overlay alpha): applied
// to cached maps at once, without recomputing the networks; persisted in QSettings. GUI thread.
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QSlider;

namespace fs::ui {

class AnalysisSession;

class DisplaySettingsPanel : public QWidget {
  Q_OBJECT

 public:
  explicit DisplaySettingsPanel(AnalysisSession* session, QWidget* parent = nullptr);
  QComboBox* colormapBox() const { return colormap_; }
  // Sets every control (a workspace being opened) and applies once. sign: index of SignMode.
  void setSettings(const QString& colormap, int sign, const QString& norm, double clipPercentile, double alpha);

 private:
  void apply();

  AnalysisSession* session_;
  QComboBox* colormap_;
  QComboBox* sign_;
  QComboBox* norm_;
  QDoubleSpinBox* clip_;
  QSlider* alpha_;
};

}  // namespace fs::ui
