#include "ui/main_window.h"

#include "ui/analysis_session.h"
#include "ui/compare_view.h"
#include "ui/display_settings_panel.h"
#include "ui/input_panel.h"
#include "ui/model_slots_panel.h"
#include "ui/settings_keys.h"

#include <QAction>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QHeaderView>
#include <QVBoxLayout>

namespace fs::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), session_(new AnalysisSession(this)) {
  setWindowTitle(tr("FeatureScope"));
  setAcceptDrops(true);
  input_ = new InputPanel(session_);
  slots_ = new ModelSlotsPanel(session_);
  display_ = new DisplaySettingsPanel(session_);
  compare_ = new CompareView(session_);

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
  layout->addWidget(tabs_, 1);
  setCentralWidget(central);

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
  dock(tr("Models"), slots_, Qt::RightDockWidgetArea, "modelsDock")->setMinimumWidth(290);
  dock(tr("Display"), display_, Qt::RightDockWidgetArea, "displayDock");

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
  connect(session_, &AnalysisSession::imageChanged, this, [this] { banner_->setVisible(false); });

  createActions();
  QSettings s;
  resize(1500, 900);
  restoreGeometry(keys::kGeometry.read(s));
  restoreState(keys::kState.read(s));
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  auto add = [this](QMenu* m, const QString& text, const QKeySequence& key, auto fn) {
    QAction* a = m->addAction(text, this, fn);
    a->setShortcut(key);
    addAction(a);
    return a;
  };
  add(file, tr("&Open image…"), QKeySequence::Open, [this] { input_->chooseFile(); });
  add(file, tr("Open &folder…"), QKeySequence(tr("Ctrl+Shift+O")), [this] { input_->chooseFolder(); });
  add(file, tr("&Paste image"), QKeySequence::Paste, [this] { input_->paste(); });
  add(file, tr("&Demo"), QKeySequence(tr("Ctrl+D")), [this] { openDemo(); });
  file->addSeparator();
  add(file, tr("&Quit"), QKeySequence::Quit, [this] { close(); });
  QMenu* view = menuBar()->addMenu(tr("&View"));
  add(view, tr("Next image"), QKeySequence(Qt::ALT | Qt::Key_Right), [this] { input_->step(1); });
  add(view, tr("Previous image"), QKeySequence(Qt::ALT | Qt::Key_Left), [this] { input_->step(-1); });
  add(view, tr("Compare view"), QKeySequence(tr("Ctrl+1")), [this] { showView(QStringLiteral("compare")); });
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

void MainWindow::openDemo() {
  const QStringList samples = InputPanel::sampleImages();
  for (const char* id : {"convmlp_fmnist", "resnet_fmnist", "mixer_fmnist"}) session_->addSlot(QLatin1String(id));
  if (!samples.isEmpty()) {
    QString pick = samples.front();
    for (const QString& s : samples)  // the demo models are Fashion-MNIST models: show them one
      if (QFileInfo(s).fileName().startsWith(QLatin1String("fmnist_"))) {
        pick = s;
        break;
      }
    input_->openFile(pick);
  }
}

bool MainWindow::showView(const QString& name) {
  for (int i = 0; i < tabs_->count(); ++i)
    if (tabs_->tabText(i).compare(name, Qt::CaseInsensitive) == 0 ||
        (name == QLatin1String("features") && tabs_->tabText(i).startsWith(tr("Feature")))) {
      tabs_->setCurrentIndex(i);
      return true;
    }
  return false;
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
  if (input_->handleMimeData(e->mimeData())) e->acceptProposedAction();
}

void MainWindow::closeEvent(QCloseEvent* e) {
  QSettings s;
  keys::kGeometry.write(s, saveGeometry());
  keys::kState.write(s, saveState());
  QMainWindow::closeEvent(e);
}

}  // namespace fs::ui
