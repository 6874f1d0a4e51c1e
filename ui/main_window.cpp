#include "ui/main_window.h"

#include "analysis/resources.h"
#include "ui/analysis_session.h"
#include "ui/compare_view.h"
#include "ui/channel_detail.h"
#include "ui/display_settings_panel.h"
#include "ui/evaluate_view.h"
#include "ui/export_dialog.h"
#include "ui/feature_map_view.h"
#include "ui/input_panel.h"
#include "ui/model_slots_panel.h"
#include "ui/saliency_view.h"
#include "ui/settings_keys.h"
#include "ui/attention_view.h"
#include "ui/statistics_view.h"
#include "ui/test_set_panel.h"
#include "service/export_service.h"

#include <QAction>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QLabel>
#include <QMenuBar>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QHeaderView>
#include <QVBoxLayout>

#include <algorithm>

namespace fs::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), session_(new AnalysisSession(this)) {
  setWindowTitle(tr("FeatureScope"));
  setAcceptDrops(true);
  input_ = new InputPanel(session_);
  slots_ = new ModelSlotsPanel(session_);
  display_ = new DisplaySettingsPanel(session_);
  compare_ = new CompareView(session_);
  features_ = new FeatureMapView(session_);
  saliency_ = new SaliencyView(session_);
  attention_ = new AttentionView(session_);
  statistics_ = new StatisticsView(session_, [this] { return input_->folderImages(); });
  createCentralArea();
  createDocks();
  createStatusArea();
  createActions();
  restoreWindowState();
}

// The error banner above the view tabs.
void MainWindow::createCentralArea() {
  auto* central = new QWidget;
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  banner_ = new QLabel;
  banner_->setWordWrap(true);
  banner_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  banner_->setStyleSheet(QStringLiteral("background:#fbe3e4; color:#8a1f11; border:1px solid #e6a1a6; padding:6px"));
  banner_->setVisible(false);
  layout->addWidget(banner_);
  tabs_ = new QTabWidget;
  tabs_->addTab(compare_, tr("Compare"));
  tabs_->addTab(features_, tr("Feature maps"));
  tabs_->addTab(saliency_, tr("Saliency"));
  tabs_->addTab(attention_, tr("Attention"));
  tabs_->addTab(statistics_, tr("Statistics"));
  auto* evaluate = new EvaluateView(session_);  // found again with findChild<EvaluateView*>()
  tabs_->addTab(evaluate, tr("Evaluate"));
  connect(evaluate, &EvaluateView::showViewRequested, this, [this](const QString& name) { showView(name); });
  connect(tabs_, &QTabWidget::currentChanged, this, [this](int) {
    // Views that need more than the compare results compute only while shown.
    features_->setActive(tabs_->currentWidget() == features_);
    saliency_->setActive(tabs_->currentWidget() == saliency_);
    attention_->setActive(tabs_->currentWidget() == attention_);
    statistics_->setActive(tabs_->currentWidget() == statistics_);
  });
  layout->addWidget(tabs_, 1);
  setCentralWidget(central);
}

// Image, display and test set on the left (display and test set tabbed), models on the right.
void MainWindow::createDocks() {
  auto dock = [this](const QString& title, QWidget* w, Qt::DockWidgetArea area, const char* name) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(QLatin1String(name));
    auto* scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(w);
    d->setWidget(scroll);
    d->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(area, d);
    return d;
  };
  dock(tr("Image"), input_, Qt::LeftDockWidgetArea, "imageDock")->setMinimumWidth(250);
  QDockWidget* displayDock = dock(tr("Display"), display_, Qt::LeftDockWidgetArea, "displayDock");
  testSet_ = new TestSetPanel(session_);
  tabifyDockWidget(displayDock, dock(tr("Test set"), testSet_, Qt::LeftDockWidgetArea, "testSetDock"));
  displayDock->raise();
  dock(tr("Models"), slots_, Qt::RightDockWidgetArea, "modelsDock")->setMinimumWidth(340);
}

// The status line, the progress bar and Cancel, following the session's work and messages.
void MainWindow::createStatusArea() {
  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);
  progress_->setMaximumWidth(200);
  progress_->setVisible(false);
  cancel_ = new QPushButton(tr("Cancel"));
  cancel_->setVisible(false);
  status_ = new QLabel(tr("Ready"));
  statusBar()->addWidget(status_, 1);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancel_);
  connect(cancel_, &QPushButton::clicked, session_, &AnalysisSession::cancel);
  connect(session_, &AnalysisSession::progress, this, [this](double f, const QString& what) {
    progress_->setValue(int(f * 1000));
    status_->setText(what + QStringLiteral("…"));
  });
  connect(session_, &AnalysisSession::busyChanged, this, [this](bool busy) {
    progress_->setVisible(busy);
    cancel_->setVisible(busy);
    if (!busy) status_->setText(tr("Ready: %1").arg(session_->imageName()));
  });
  connect(session_, &AnalysisSession::errorOccurred, this, &MainWindow::showError);
  // A new image clears the last message (when it is asked for: errors that come with it stay).
  connect(session_, &AnalysisSession::imageRequested, this, [this] { banner_->setVisible(false); });
  connect(session_, &AnalysisSession::batchExportFinished, this, [this](const fs::service::SessionBatchResult& r) {
    const QString text = tr("Folder export: %1 images, %2 done, %3 already present, %4 failed; manifest %5")
                             .arg(r.images).arg(r.done).arg(r.skipped).arg(r.failed)
                             .arg(QString::fromStdString(r.manifestPath));
    if (r.failed > 0) showError(text);
    else status_->setText(text);
  });
}

// The saved geometry, dock layout and view splitters; without them a default size within the screen.
void MainWindow::restoreWindowState() {
  QSettings s;
  // The default size, within the screen (1366x768 laptops included; the minimum fits them too).
  const QRect screenArea = screen() ? screen()->availableGeometry() : QRect(0, 0, 1500, 900);
  resize(std::min(1500, screenArea.width()), std::min(900, screenArea.height()));
  restoreGeometry(keys::kGeometry.read(s));
  defaultDockSplit_ = !restoreState(keys::kState.read(s));
  for (QSplitter* split : findChildren<QSplitter*>())  // the views' splitters
    if (!split->objectName().isEmpty())
      split->restoreState(s.value(QStringLiteral("window/splitters/") + split->objectName()).toByteArray());
}

MainWindow::~MainWindow() = default;

// A menu entry with its shortcut, also live while the menu bar is hidden.
QAction* MainWindow::addMenuAction(QMenu* menu, const QString& text, const QKeySequence& key,
                                   const std::function<void()>& fn) {
  QAction* a = menu->addAction(text, this, fn);
  a->setShortcut(key);
  addAction(a);
  return a;
}

void MainWindow::createActions() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  const auto add = [this](QMenu* m, const QString& text, const QKeySequence& key, const std::function<void()>& fn) {
    addMenuAction(m, text, key, fn);
  };
  add(file, tr("&Open image…"), QKeySequence::Open, [this] { input_->chooseFile(); });
  add(file, tr("Open &folder…"), QKeySequence(tr("Ctrl+Shift+O")), [this] { input_->chooseFolder(); });
  add(file, tr("&Paste image"), QKeySequence::Paste, [this] { input_->paste(); });
  add(file, tr("&Demo"), QKeySequence(tr("Ctrl+D")), [this] { openDemo(); });
  file->addSeparator();
  addWorkspaceActions(file);
  file->addSeparator();
  add(file, tr("&Export figure…"), QKeySequence(tr("Ctrl+E")), [this] {
    exportDialog()->show();
    exportDialog()->raise();
  });
  add(file, tr("Save selected map as &NPY…"), QKeySequence(tr("Ctrl+Shift+S")), [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save map"), QStringLiteral("map.npy"), tr("NumPy (*.npy)"));
    if (!path.isEmpty()) saveSelectedMap(path);
  });
  add(file, tr("Export &folder…"), QKeySequence(tr("Ctrl+Shift+E")), [this] { exportFolder(); });
  file->addSeparator();
  add(file, tr("&Quit"), QKeySequence::Quit, [this] { close(); });
  QMenu* view = menuBar()->addMenu(tr("&View"));
  add(view, tr("Next image"), QKeySequence(Qt::ALT | Qt::Key_Right), [this] { input_->step(1); });
  add(view, tr("Previous image"), QKeySequence(Qt::ALT | Qt::Key_Left), [this] { input_->step(-1); });
  add(view, tr("Compare view"), QKeySequence(tr("Ctrl+1")), [this] { showView(QStringLiteral("compare")); });
  add(view, tr("Feature-map view"), QKeySequence(tr("Ctrl+2")), [this] { showView(QStringLiteral("features")); });
  add(view, tr("Saliency view"), QKeySequence(tr("Ctrl+3")), [this] { showView(QStringLiteral("saliency")); });
  add(view, tr("Attention view"), QKeySequence(tr("Ctrl+4")), [this] { showView(QStringLiteral("attention")); });
  add(view, tr("Statistics view"), QKeySequence(tr("Ctrl+5")), [this] { showView(QStringLiteral("stats")); });
  add(view, tr("Evaluate view"), QKeySequence(tr("Ctrl+6")), [this] { showView(QStringLiteral("evaluate")); });
  add(view, tr("Add model slot"), QKeySequence(tr("Ctrl+M")), [this] { session_->addSlot(QStringLiteral("resnet_fmnist")); });
  add(view, tr("Cancel running analysis"), QKeySequence(Qt::Key_Escape), [this] { session_->cancel(); });
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  add(help, tr("&Keyboard shortcuts"), QKeySequence::HelpContents, [this] { showShortcuts(); });
}

void MainWindow::showShortcuts() {
  QDialog dlg(this);
  dlg.setWindowTitle(tr("Keyboard shortcuts"));
  auto* table = new QTableWidget(0, 2, &dlg);
  table->setHorizontalHeaderLabels({tr("Action"), tr("Shortcut")});
  for (QAction* a : actions()) {
    if (a->shortcut().isEmpty()) continue;
    const int r = table->rowCount();
    table->insertRow(r);
    table->setItem(r, 0, new QTableWidgetItem(a->text().remove('&').remove(QStringLiteral("…"))));
    table->setItem(r, 1, new QTableWidgetItem(a->shortcut().toString(QKeySequence::NativeText)));
  }
  table->horizontalHeader()->setStretchLastSection(true);
  table->resizeColumnsToContents();
  auto* box = new QDialogButtonBox(QDialogButtonBox::Close, &dlg);
  connect(box, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
  auto* l = new QVBoxLayout(&dlg);
  l->addWidget(table);
  l->addWidget(box);
  dlg.resize(420, 360);
  dlg.exec();
}

void MainWindow::openDemo(bool restoreSlots) {
  loadDefaultSlots(restoreSlots);
  openDemoImage();
}

void MainWindow::loadDefaultSlots(bool restoreSlots) {
  QSettings settings;
  const QStringList saved = restoreSlots ? keys::kModelSlots.read(settings) : QStringList();
  for (int i : session_->loadedSlots()) session_->removeSlot(i);
  if (!saved.isEmpty()) {
    for (const QString& spec : saved) {
      const int bar = spec.indexOf(QLatin1Char('|'));
      session_->addSlot(bar < 0 ? spec : spec.left(bar), bar < 0 ? QString() : spec.mid(bar + 1));
    }
  } else {
    for (const std::string& id : fs::analysis::demoModelIds()) session_->addSlot(QString::fromStdString(id));
  }
}

void MainWindow::openDemoImage() {
  try {  // the demo (analysis/resources.h): the Fashion-MNIST models on a Fashion-MNIST sample
    input_->openFile(QString::fromStdString(fs::analysis::demoSampleImage()));
  } catch (const std::exception& e) {
    showError(QString::fromUtf8(e.what()));
  }
}

bool MainWindow::showView(const QString& name) {
  QWidget* w = name == QLatin1String("compare")    ? static_cast<QWidget*>(compare_)
               : name == QLatin1String("features") ? static_cast<QWidget*>(features_)
               : name == QLatin1String("saliency") ? static_cast<QWidget*>(saliency_)
               : name == QLatin1String("attention") ? static_cast<QWidget*>(attention_)
               : name == QLatin1String("stats")    ? static_cast<QWidget*>(statistics_)
               : name == QLatin1String("evaluate") ? static_cast<QWidget*>(findChild<EvaluateView*>())
                                                   : nullptr;
  if (!w) return false;
  tabs_->setCurrentWidget(w);
  return true;
}

QString MainWindow::currentViewName() const {
  QWidget* w = tabs_->currentWidget();
  return w == features_ ? QStringLiteral("features")
         : w == saliency_ ? QStringLiteral("saliency")
         : w == attention_ ? QStringLiteral("attention")
         : w == statistics_ ? QStringLiteral("stats")
         : w && w == findChild<EvaluateView*>() ? QStringLiteral("evaluate")
                            : QStringLiteral("compare");
}

ExportDialog* MainWindow::exportDialog() {
  if (!export_)
    export_ = new ExportDialog(session_, [this] { return tabs_->currentWidget(); }, [this] { return currentViewName(); },
                               this);
  return export_;
}

bool MainWindow::saveSelectedMap(const QString& path) {
  const cv::Mat* map = nullptr;
  std::string what;
  if (tabs_->currentWidget() == features_ && !features_->detail()->map().empty()) {
    map = &features_->detail()->map();
    what = "npy:" + (session_->tapMaps() ? session_->tapMaps()->tap : std::string()) + " channel " +
           std::to_string(features_->detail()->channel());
  } else if (tabs_->currentWidget() == saliency_ && saliency_->selectedMap()) {
    map = saliency_->selectedMap();
    what = "npy:saliency";
  }
  if (!map) {
    showError(tr("No map selected: click a channel in the feature-map view or a map in the saliency view first."));
    return false;
  }
  try {
    fs::service::writeMapNpy(path.toStdString(), *map);
  } catch (const std::exception& e) {
    showError(tr("Could not save the map: %1").arg(QString::fromStdString(e.what())));
    return false;
  }
  fs::service::ExportRecord record;
  record.what = what;
  session_->writeManifest(path, record);
  status_->setText(tr("Wrote %1").arg(path));
  return true;
}

void MainWindow::exportFolder() {
  QSettings s;
  const QString images = QFileDialog::getExistingDirectory(this, tr("Folder of images to export"), keys::kLastFolder.read(s));
  if (images.isEmpty()) return;
  const QString out = QFileDialog::getExistingDirectory(this, tr("Output folder"), images);
  if (out.isEmpty()) return;
  fs::service::SessionBatchExport request;
  request.imagesDir = images.toStdString();
  request.outDir = out.toStdString();
  for (const QString& m : saliency_->checkedMethods()) request.methods.push_back(m.toStdString());
  session_->batchExport(request);
}

QString MainWindow::errorText() const { return banner_->isVisible() ? banner_->text() : QString(); }

void MainWindow::showError(const QString& message) {
  banner_->setText(message);
  banner_->setVisible(true);
  status_->setText(tr("Error (see the message above)"));
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls() || e->mimeData()->hasImage()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  const QMimeData* mime = e->mimeData();
  const QString first = mime->hasUrls() && mime->urls().front().isLocalFile() ? mime->urls().front().toLocalFile() : QString();
  if (QFileInfo(first).suffix() == QLatin1String(kWorkspaceSuffix)) {
    openWorkspace(first);
    e->acceptProposedAction();
  } else if (ModelSlotsPanel::isCheckpoint(first)) {
    showError(tr("%1 is a checkpoint: drop it on a model slot (right) to load it there.").arg(first));
  } else if (input_->handleMimeData(mime)) {
    e->acceptProposedAction();
  }
}

void MainWindow::showEvent(QShowEvent* e) {
  QMainWindow::showEvent(e);
  if (!defaultDockSplit_) return;
  defaultDockSplit_ = false;
  // Without a saved layout the image dock takes most of the left column, so that on a 768-pixel
  // screen it shows the model inputs without scrolling (the display form needs little). Done at
  // the first show, when the window has its size.
  QTimer::singleShot(0, this, [this] {  // once the first layout has run
    auto* image = findChild<QDockWidget*>(QStringLiteral("imageDock"));
    auto* display = findChild<QDockWidget*>(QStringLiteral("displayDock"));
    resizeDocks({image, display}, {height() * 5 / 7, height() * 2 / 7}, Qt::Vertical);
  });
}

void MainWindow::closeEvent(QCloseEvent* e) {
  QSettings s;
  keys::kGeometry.write(s, saveGeometry());
  keys::kState.write(s, saveState());
  for (QSplitter* split : findChildren<QSplitter*>())
    if (!split->objectName().isEmpty())
      s.setValue(QStringLiteral("window/splitters/") + split->objectName(), split->saveState());
  QMainWindow::closeEvent(e);
}

}  // namespace fs::ui
