// MainWindow's files: what `featurescope FILE... --model ...` opens, and workspaces (.featurescope)
// captured from the window, saved, opened and applied. Part of MainWindow (main_window.h), kept
// apart from the window's assembly; GUI thread only.
#include "ui/main_window.h"

#include "analysis/colormap.h"
#include "ui/analysis_session.h"
#include "ui/compare_view.h"
#include "ui/display_settings_panel.h"
#include "ui/input_panel.h"
#include "ui/saliency_view.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QLabel>
#include <QMessageBox>

namespace fs::ui {

// The File menu's workspace entries: open, save (as the path it came from, else as a new file) and save as.
void MainWindow::addWorkspaceActions(QMenu* file) {
  const QString filter = tr("FeatureScope workspace (*.%1)").arg(QLatin1String(kWorkspaceSuffix));
  addMenuAction(file, tr("Open &workspace…"), QKeySequence(tr("Ctrl+Alt+O")), [this, filter] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open workspace"), {}, filter);
    if (!path.isEmpty()) openWorkspace(path);
  });
  const auto saveAs = [this, filter] {
    QString path = QFileDialog::getSaveFileName(this, tr("Save workspace"), workspacePath_, filter);
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix() != QLatin1String(kWorkspaceSuffix)) path += QLatin1Char('.') + QLatin1String(kWorkspaceSuffix);
    saveWorkspace(path);
  };
  addMenuAction(file, tr("&Save workspace"), QKeySequence::Save, [this, saveAs] {
    if (workspacePath_.isEmpty()) saveAs();
    else saveWorkspace(workspacePath_);
  });
  addMenuAction(file, tr("Save workspace &as…"), QKeySequence(tr("Ctrl+Alt+S")), saveAs);
}

void MainWindow::openLaunch(const LaunchPlan& plan, bool restoreSlots) {
  if (!plan.workspace.isEmpty()) {
    openWorkspace(plan.workspace);
    return;
  }
  if (plan.models.empty()) {
    loadDefaultSlots(restoreSlots);
  } else {
    for (int i = 0; i < fs::service::kMaxSlots; ++i)
      if (session_->slot(i).loaded) session_->removeSlot(i);
    for (const auto& m : plan.models)
      session_->addSlot(QString::fromStdString(m.idOrConfig), QString::fromStdString(m.weights));
  }
  if (!plan.folder.isEmpty()) input_->openFolder(plan.folder);
  else if (!plan.images.isEmpty()) input_->openFiles(plan.images);
  else openDemoImage();
}

Workspace MainWindow::captureWorkspace() const {
  Workspace ws;
  ws.image = session_->imagePath();
  ws.folder = input_->folder();
  for (int i : session_->loadedSlots()) {
    const fs::service::SlotInfo& info = session_->slot(i).info;
    WorkspaceSlot s;
    s.model = QString::fromStdString(info.source);
    if (QFileInfo(s.model).isFile()) s.model = QFileInfo(s.model).absoluteFilePath();  // a JSON config
    if (!info.weightsPath.empty()) {
      s.weights = QFileInfo(QString::fromStdString(info.weightsPath)).absoluteFilePath();
      s.sha256 = checkpointSha256(s.weights);
    }
    ws.slots.push_back(s);
  }
  ws.view = currentViewName();
  const DisplayOptions& d = session_->display();
  ws.colormap = QLatin1String(fs::analysis::colormapName(d.colormap));
  ws.sign = workspaceSignNames().value(int(d.sign));
  ws.norm = d.norm;
  ws.clipPercentile = d.clipPercentile;
  ws.alpha = d.alpha;
  ws.compareChannels = session_->compareK();
  ws.compareRank = session_->compareRank();
  ws.compareMethod = session_->compareMethod();
  const fs::service::SaliencyParams& p = session_->saliencyParams();
  ws.saliencyMethods = session_->saliencyMethods();
  ws.saliencyTarget = session_->saliencyTargetName();
  ws.tap = QString::fromStdString(p.tap);
  ws.parameters = p;
  return ws;
}

QStringList MainWindow::applyWorkspace(const Workspace& ws) {
  QStringList problems;
  for (int i = 0; i < fs::service::kMaxSlots; ++i)
    if (session_->slot(i).loaded) session_->removeSlot(i);
  // Settings first, so that the models and the image below are computed once, with them.
  display_->setSettings(ws.colormap, int(workspaceSignNames().indexOf(ws.sign)), ws.norm, ws.clipPercentile, ws.alpha);
  compare_->setOptions(ws.compareChannels, ws.compareRank, ws.compareMethod);
  fs::service::SaliencyParams p = session_->saliencyParams();
  p.tap = ws.tap.toStdString();
  static_cast<fs::analysis::MethodParameters&>(p) = ws.parameters;
  saliency_->setParameters(ws.saliencyMethods, ws.saliencyTarget, p);
  // A checkpoint that moved or changed is reported and its slot stays empty: never other weights.
  for (size_t i = 0; i < ws.slots.size(); ++i) {
    const WorkspaceSlot& s = ws.slots[i];
    const QString problem = checkpointProblem(s);
    if (problem.isEmpty()) session_->addSlot(s.model, s.weights);
    else problems << tr("Model %1 (%2) not loaded: %3").arg(i + 1).arg(QFileInfo(s.model).fileName(), problem);
  }
  if (!ws.folder.isEmpty()) {
    if (QFileInfo(ws.folder).isDir()) input_->openFolder(ws.folder, ws.image);
    else problems << tr("%1: the folder is missing (moved or deleted)").arg(ws.folder);
  }
  if (!ws.image.isEmpty() && session_->imagePath() != ws.image) {
    if (QFileInfo(ws.image).isFile()) input_->openFile(ws.image);  // a corrupt image reports itself
    else problems << tr("%1: the image is missing (moved or deleted)").arg(ws.image);
  }
  showView(ws.view);
  return problems;
}

bool MainWindow::openWorkspace(const QString& path) {
  Workspace ws;
  try {
    ws = readWorkspace(path);  // a malformed file changes nothing
  } catch (const WorkspaceError& e) {
    reportProblems(tr("Could not open the workspace"), {QString::fromStdString(e.what())});
    return false;
  }
  const QStringList problems = applyWorkspace(ws);
  setWorkspacePath(path);
  if (problems.isEmpty()) status_->setText(tr("Opened workspace %1").arg(path));
  else reportProblems(tr("Workspace %1 opened with problems").arg(QFileInfo(path).fileName()), problems);
  return true;
}

bool MainWindow::saveWorkspace(const QString& path) {
  try {
    writeWorkspace(path, captureWorkspace());
  } catch (const WorkspaceError& e) {
    reportProblems(tr("Could not save the workspace"), {QString::fromStdString(e.what())});
    return false;
  }
  setWorkspacePath(path);
  status_->setText(tr("Saved workspace %1").arg(path));
  return true;
}

void MainWindow::setWorkspacePath(const QString& path) {
  workspacePath_ = QFileInfo(path).absoluteFilePath();
  setWindowTitle(tr("%1 – FeatureScope").arg(QFileInfo(path).fileName()));
}

// In the banner (it stays until the next image) and in a message box that does not block.
void MainWindow::reportProblems(const QString& title, const QStringList& problems) {
  showError(title + QStringLiteral(":\n") + problems.join(QLatin1Char('\n')));
  auto* box = new QMessageBox(QMessageBox::Warning, title, problems.join(QStringLiteral("\n\n")), QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();
}

}  // namespace fs::ui
