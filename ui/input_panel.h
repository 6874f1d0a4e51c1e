#pragma once
// Image input: open a file or folder (thumbnail strip, arrow keys step through it), paste,
// drag and drop (handleMimeData), recent files, built-in samples; shows the original with the
// crop each model sees and each model's de-normalised input. GUI thread only.
#include <QStringList>
#include <QWidget>

class QComboBox;
class QLabel;
class QListWidget;
class QMenu;
class QMimeData;
class QHBoxLayout;

namespace fs::ui {

class AnalysisSession;
class MapGrid;

class InputPanel : public QWidget {
  Q_OBJECT

 public:
  explicit InputPanel(AnalysisSession* session, QWidget* parent = nullptr);

  bool openFile(const QString& path);
  void openFolder(const QString& folder);
  bool handleMimeData(const QMimeData* mime);  // drop or paste
  void paste();
  QStringList recentFiles() const { return recent_; }
  static QStringList sampleImages();  // resources/samples/*
  void chooseFile();
  void chooseFolder();
  void step(int delta);               // next/previous image of the folder
  QStringList folderImages() const;   // the open folder's images (empty: no folder open)

 private:
  void refresh();
  void addRecent(const QString& path);

  AnalysisSession* session_;
  QComboBox* samples_;
  QListWidget* strip_;
  MapGrid* original_;
  QLabel* name_;
  QWidget* inputs_;
  QHBoxLayout* inputsLayout_;
  QMenu* recentMenu_;
  QStringList recent_;
};

}  // namespace fs::ui
