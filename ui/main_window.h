#pragma once
// The main window: assembles the panels (input, model slots, display settings) around the view
// tabs, shows errors in a banner and progress with Cancel in the status bar, persists geometry.
// It owns the AnalysisSession (and through it the worker thread). GUI thread only.
#include "ui/launch_options.h"
#include "ui/workspace.h"

#include <QMainWindow>

#include <functional>

class QAction;
class QKeySequence;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QTabWidget;

namespace fs::ui {

class AnalysisSession;
class CompareView;
class ExportDialog;
class FeatureMapView;
class SaliencyView;
class AttentionView;
class StatisticsView;
class TestSetPanel;
class InputPanel;
class ModelSlotsPanel;
class DisplaySettingsPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens the bundled demo: a sample image and convmlp_fmnist, resnet_fmnist, mixer_fmnist
  // (or, with restoreSlots, the model slots of the last session when there were any).
  void openDemo(bool restoreSlots = false);
  bool showView(const QString& name);  // compare | features | saliency | stats
  // Opens what the command line named (main_window_workspace.cpp): a workspace, a folder or
  // images, with plan.models in the slots (none: as openDemo(restoreSlots) would).
  void openLaunch(const LaunchPlan& plan, bool restoreSlots = false);

  // Workspaces (.featurescope, see workspace.h). Errors and checkpoints that are missing or
  // changed are reported in the banner and a message box; a malformed file changes nothing.
  Workspace captureWorkspace() const;  // WorkspaceError if a checkpoint cannot be hashed
  bool saveWorkspace(const QString& path);
  bool openWorkspace(const QString& path);
  // Applies a read workspace; returns the problems reported (slots skipped, files missing).
  QStringList applyWorkspace(const Workspace& ws);
  QString workspacePath() const { return workspacePath_; }

  AnalysisSession* session() const { return session_; }
  InputPanel* inputPanel() const { return input_; }
  ModelSlotsPanel* slotsPanel() const { return slots_; }
  CompareView* compareView() const { return compare_; }
  FeatureMapView* featureView() const { return features_; }
  SaliencyView* saliencyView() const { return saliency_; }
  StatisticsView* statisticsView() const { return statistics_; }
  AttentionView* attentionView() const { return attention_; }
  TestSetPanel* testSetPanel() const { return testSet_; }
  QString errorText() const;
  QString currentViewName() const;  // compare | features | saliency | stats
  // The export dialog (created on first use, kept for the session).
  ExportDialog* exportDialog();
  // The selected raw map of the current view as NPY (+ manifest); false and a message otherwise.
  bool saveSelectedMap(const QString& path);

 protected:
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dropEvent(QDropEvent* e) override;
  void showEvent(QShowEvent* e) override;
  void closeEvent(QCloseEvent* e) override;

 private:
  void createCentralArea();
  void createDocks();
  void createStatusArea();
  void createActions();
  void addWorkspaceActions(QMenu* file);  // main_window_workspace.cpp
  QAction* addMenuAction(QMenu* menu, const QString& text, const QKeySequence& key, const std::function<void()>& fn);
  void restoreWindowState();
  void showError(const QString& message);
  void showShortcuts();
  void exportFolder();
  void loadDefaultSlots(bool restoreSlots);
  void openDemoImage();
  void reportProblems(const QString& title, const QStringList& problems);
  void setWorkspacePath(const QString& path);

  AnalysisSession* session_;
  InputPanel* input_;
  ModelSlotsPanel* slots_;
  DisplaySettingsPanel* display_;
  CompareView* compare_;
  FeatureMapView* features_;
  SaliencyView* saliency_;
  AttentionView* attention_;
  StatisticsView* statistics_;
  TestSetPanel* testSet_;
  ExportDialog* export_ = nullptr;
  QTabWidget* tabs_;
  QLabel* banner_;
  QProgressBar* progress_;
  QPushButton* cancel_;
  QLabel* status_;
  QString workspacePath_;
  bool defaultDockSplit_ = false;  // no saved layout: split the left column at the first show
};

}  // namespace fs::ui
