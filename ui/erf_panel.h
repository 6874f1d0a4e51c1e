#pragma once
// The Statistics view's "Effective receptive field" panel (issue 15): for each stage of one slot,
// the ERF of Luo et al. 2016 over N images (the same analysis function as `featurescope-cli erf`,
// through service/feature_vis_service.h, on the worker, on demand) as a heatmap scaled to its
// maximum (inferno), the centre cell's theoretical receptive field drawn as a white square and the
// radii holding 50% and 90% of the mass as cyan circles, with the numbers beneath. GUI thread only.
#include <QImage>
#include <QString>
#include <QWidget>

#include <vector>

class QComboBox;
class QHBoxLayout;
class QLabel;
class QPushButton;
class QSpinBox;

namespace fs::service {
struct StageErf;
}

namespace fs::ui {

class AnalysisSession;

class ErfPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ErfPanel(AnalysisSession* session, QWidget* parent = nullptr);

  void selectModel(int slot);
  void compute();  // the selected slot over the first N images of the feature-visualisation data set
  int cellCount() const { return int(pictures_.size()); }
  QImage cellImage(int i) const;  // the drawn heatmap of stage i
  QString cellText(int i) const;  // "Stage i: tap, TRF .., r50 .., r90 .."
  QString info() const;

  // The heatmap with the theoretical field and the 50%/90% circles, `side` pixels square.
  static QImage drawErf(const fs::service::StageErf& e, int side);

 private:
  void refreshModels();
  void redraw();

  AnalysisSession* session_;
  QComboBox* model_;
  QSpinBox* images_;
  QPushButton* compute_;
  QLabel* info_;
  QHBoxLayout* cells_;
  std::vector<QLabel*> pictures_, texts_;
  std::vector<QImage> drawn_;
};

}  // namespace fs::ui
