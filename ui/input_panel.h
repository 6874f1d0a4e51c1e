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
class QGridLayout;
class QVBoxLayout;

namespace fs::ui {

class AnalysisSession;
class MapGrid;

class InputPanel : public QWidget {
  Q_OBJECT

 public:
  explicit InputPanel(AnalysisSession* session, QWidget* parent = nullptr);

  void openFile(const QString& path);  // decoded on the worker; errors -> errorOccurred
  // The folder's images fill the strip; `select` (one of them) or else the first opens.
  void openFolder(const QString& folder, const QString& select = {});
  // Several images: they fill the strip like a folder's, the first opens.
  void openFiles(const QStringList& paths);
  QString folder() const { return folder_; }  // the folder in the strip (empty: none)
  bool handleMimeData(const QMimeData* mime);  // drop or paste
  void paste();
  QStringList recentFiles() const { return recent_; }
  static QStringList sampleImages();  // resources/samples/*
  static const QStringList& imageFilters();  // "*.png", "*.jpg", ...: the formats the image loader reads
  void chooseFile();
  void chooseFolder();
  void step(int delta);               // next/previous image of the folder
  QStringList folderImages() const;   // the open folder's images (empty: no folder open)

 private:
  void createSourceButtons(QVBoxLayout* layout);
  void connectSession();
  void refresh();
  void addRecent(const QString& path);
  void fillStrip(const QStringList& paths, const QString& select);

  AnalysisSession* session_;
  QComboBox* samples_;
  QListWidget* strip_;
  MapGrid* original_;
  QLabel* name_;
  QWidget* inputs_;
  QGridLayout* inputsLayout_;
  QMenu* recentMenu_;
  QStringList recent_;
  QString folder_;
  QString pendingRecent_;  // opened by openFile, not yet decoded
};

}  // namespace fs::ui
