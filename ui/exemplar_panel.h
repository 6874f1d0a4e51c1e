#pragma once
// Under the channel detail's map: the channel's top-k dataset exemplars (issue 15) as thumbnails
// of their receptive-field crops, best first (click one: its image opens in the session with the
// field marked), the images they come from (the Fashion-MNIST test set's first N or the open
// image's folder), and "Visualize": the channel's activation maximisation computed on the worker,
// shown with its activation beside the top exemplar's score. GUI thread only.
#include <QImage>
#include <QString>
#include <QWidget>

#include <vector>

class QComboBox;
class QGridLayout;
class QHBoxLayout;
class QLabel;
class QPushButton;
class QSpinBox;
class QToolButton;

namespace fs::ui {

class AnalysisSession;

class ExemplarPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ExemplarPanel(AnalysisSession* session, QWidget* parent = nullptr);

  // The channel shown (channel < 0: none).
  void setChannel(int slot, const QString& tap, int channel);
  // Test set (folder empty) or a folder, the first `limit` images; then find the exemplars.
  void findExemplars(const QString& folder, int limit);
  void visualize();

  int thumbnailCount() const { return int(thumbs_.size()); }
  QToolButton* thumbnail(int i) const { return thumbs_.at(size_t(i)); }
  QPushButton* findButton() const { return find_; }
  QPushButton* visualizeButton() const { return visualize_; }
  QString summary() const;              // the line above the thumbnails
  QString visualizationText() const;    // activation versus the top exemplar
  QImage visualizationImage() const { return visImage_; }

 private:
  QHBoxLayout* createSearchBar();
  QHBoxLayout* createVisualizationRow();
  void connectControls();
  void refreshExemplars();
  void refreshVisualization();
  void updateButtons();

  AnalysisSession* session_;
  QComboBox* source_;
  QSpinBox* limit_;
  QPushButton* find_;
  QPushButton* visualize_;
  QPushButton* cancel_;
  QLabel* summary_;
  QGridLayout* thumbsLayout_;
  std::vector<QToolButton*> thumbs_;
  QLabel* visPicture_;
  QLabel* visText_;
  QImage visImage_;
  int slot_ = -1, channel_ = -1;
  QString tap_;
};

}  // namespace fs::ui
