#include "ui/input_panel.h"

#include "analysis/resources.h"
#include "ui/analysis_session.h"
#include "ui/feature_vis_session.h"
#include "render/image_conversion.h"
#include "ui/map_grid.h"
#include "ui/settings_keys.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMimeData>
#include <QPainter>
#include <QSignalBlocker>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

namespace fs::ui {

using namespace fs::render;

const QStringList& InputPanel::imageFilters() {
  static const QStringList filters{"*.png", "*.jpg", "*.jpeg", "*.bmp", "*.tif", "*.tiff", "*.webp"};
  return filters;
}

QStringList InputPanel::sampleImages() {
  // $FEATURESCOPE_RESOURCES, the installed share/featurescope, or the source tree's resources/.
  QDir dir(QString::fromStdString(fs::analysis::resourceDir()) + QStringLiteral("/samples"));
  QStringList out;
  for (const QString& f : dir.entryList(imageFilters(), QDir::Files, QDir::Name)) out << dir.filePath(f);
  return out;
}

InputPanel::InputPanel(AnalysisSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  createSourceButtons(layout);
  name_ = new QLabel(tr("Drop an image here"));
  name_->setWordWrap(true);
  layout->addWidget(name_);
  original_ = new MapGrid;
  original_->setTileSide(80);
  original_->setCaption(tr("Original (dashed: model crop)"));
  original_->setMinimumHeight(180);
  layout->addWidget(original_, 2);

  auto* inputsTitle = new QLabel(tr("<b>Model input</b> (de-normalised)"));
  layout->addWidget(inputsTitle);
  inputs_ = new QWidget;
  inputsLayout_ = new QGridLayout(inputs_);
  inputsLayout_->setContentsMargins(0, 0, 0, 0);
  inputsLayout_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
  layout->addWidget(inputs_, 1);

  strip_ = new QListWidget;
  strip_->setViewMode(QListView::IconMode);
  strip_->setFlow(QListView::LeftToRight);
  strip_->setWrapping(false);
  strip_->setIconSize(QSize(48, 48));
  strip_->setFixedHeight(78);
  strip_->setVisible(false);
  layout->addWidget(strip_);

  QSettings settings;
  recent_ = keys::kRecentFiles.read(settings);
  connectSession();
}

// Open, Folder, Paste; the built-in samples and the recent files.
void InputPanel::createSourceButtons(QVBoxLayout* layout) {
  auto* buttons = new QHBoxLayout;
  auto* open = new QToolButton;
  open->setText(tr("Open…"));
  open->setToolTip(tr("Open an image (Ctrl+O)"));
  auto* folder = new QToolButton;
  folder->setText(tr("Folder…"));
  folder->setToolTip(tr("Open a folder of images (Ctrl+Shift+O)"));
  auto* paste = new QToolButton;
  paste->setText(tr("Paste"));
  auto* recent = new QToolButton;
  recent->setText(tr("Recent"));
  recentMenu_ = new QMenu(recent);
  recent->setMenu(recentMenu_);
  recent->setPopupMode(QToolButton::InstantPopup);
  for (auto* b : {open, folder, paste}) buttons->addWidget(b);
  buttons->addStretch();
  layout->addLayout(buttons);

  // Recent beside the samples: every button fits the dock's default width (1366x768 screens).
  auto* pick = new QHBoxLayout;
  samples_ = new QComboBox;
  samples_->addItem(tr("Built-in samples…"));
  for (const QString& s : sampleImages()) samples_->addItem(QFileInfo(s).fileName(), s);
  samples_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  samples_->setMinimumContentsLength(10);
  pick->addWidget(samples_, 1);
  pick->addWidget(recent);
  layout->addLayout(pick);

  connect(open, &QToolButton::clicked, this, &InputPanel::chooseFile);
  connect(folder, &QToolButton::clicked, this, &InputPanel::chooseFolder);
  connect(paste, &QToolButton::clicked, this, &InputPanel::paste);
  connect(recentMenu_, &QMenu::aboutToShow, this, [this] {
    recentMenu_->clear();
    for (const QString& f : recent_) recentMenu_->addAction(f, this, [this, f] { openFile(f); });
    if (recent_.isEmpty()) recentMenu_->addAction(tr("(none)"))->setEnabled(false);
  });
  connect(samples_, &QComboBox::activated, this, [this](int i) {
    if (i > 0) openFile(samples_->itemData(i).toString());
  });
}

// The strip opens its image; the image, slots, predictions and display settings redraw the panel.
void InputPanel::connectSession() {
  connect(strip_, &QListWidget::currentRowChanged, this, [this](int row) {
    if (row >= 0) session_->openImageFile(strip_->item(row)->data(Qt::UserRole).toString());
  });
  connect(session_, &AnalysisSession::imageChanged, this, [this] {
    if (!pendingRecent_.isEmpty() && QFileInfo(pendingRecent_) == QFileInfo(session_->imagePath()))
      addRecent(pendingRecent_);
    pendingRecent_.clear();
    refresh();
  });
  connect(session_, &AnalysisSession::slotChanged, this, &InputPanel::refresh);
  connect(session_, &AnalysisSession::resultChanged, this, [this](int, ResultKind kind) {
    if (kind == ResultKind::Prediction) refresh();  // the crop outline and the model inputs
  });
  connect(session_, &AnalysisSession::displayChanged, this, &InputPanel::refresh);
  connect(&session_->featureVis(), &FeatureVisSession::markChanged, this, &InputPanel::refresh);
  connect(original_, &MapGrid::hovered, this, [this](QPointF p) { original_->setLinkedCursor(p); });
}

void InputPanel::chooseFile() {
  QSettings s;
  const QString f = QFileDialog::getOpenFileName(this, tr("Open image"), keys::kLastFolder.read(s),
                                                 tr("Images (%1)").arg(imageFilters().join(' ')));
  if (!f.isEmpty()) openFile(f);
}

void InputPanel::chooseFolder() {
  QSettings s;
  const QString d = QFileDialog::getExistingDirectory(this, tr("Open folder"), keys::kLastFolder.read(s));
  if (!d.isEmpty()) openFolder(d);
}

void InputPanel::openFile(const QString& path) {
  pendingRecent_ = path;  // a recent file once it opened (imageChanged)
  session_->openImageFile(path);
  QSettings s;
  keys::kLastFolder.write(s, QFileInfo(path).absolutePath());
}

void InputPanel::openFolder(const QString& folder, const QString& select) {
  QDir dir(folder);
  QStringList paths;
  for (const QString& f : dir.entryList(imageFilters(), QDir::Files, QDir::Name)) paths << dir.filePath(f);
  fillStrip(paths, select);
  folder_ = paths.isEmpty() ? QString() : dir.absolutePath();
  QSettings s;
  keys::kLastFolder.write(s, folder);
}

void InputPanel::openFiles(const QStringList& paths) {
  if (paths.size() == 1) {
    openFile(paths.front());
    return;
  }
  fillStrip(paths, {});
  folder_.clear();
}

void InputPanel::fillStrip(const QStringList& paths, const QString& select) {
  QSignalBlocker block(strip_);  // opens one image below, not every row on the way
  strip_->clear();
  int row = 0;
  for (const QString& path : paths) {
    auto* item = new QListWidgetItem(QFileInfo(path).fileName().left(12));
    QImageReader reader(path);
    reader.setScaledSize(QSize(48, 48));
    item->setIcon(QPixmap::fromImage(reader.read()));
    item->setData(Qt::UserRole, path);
    item->setToolTip(path);
    if (!select.isEmpty() && QFileInfo(path) == QFileInfo(select)) row = strip_->count();
    strip_->addItem(item);
  }
  strip_->setVisible(!paths.isEmpty());
  if (paths.isEmpty()) return;
  strip_->setCurrentRow(row);
  session_->openImageFile(paths[row]);
}

void InputPanel::step(int delta) {
  if (strip_->count() == 0) return;
  strip_->setCurrentRow(std::clamp(strip_->currentRow() + delta, 0, strip_->count() - 1));
}

bool InputPanel::handleMimeData(const QMimeData* mime) {
  if (!mime) return false;
  if (mime->hasUrls()) {
    QStringList files;
    for (const QUrl& url : mime->urls()) {
      if (!url.isLocalFile()) continue;
      const QFileInfo info(url.toLocalFile());
      if (info.isDir()) {
        openFolder(info.filePath());
        return true;
      }
      files << info.filePath();
    }
    if (files.size() == 1) {
      openFile(files.front());
      return true;
    }
    if (!files.isEmpty()) {  // several images: the strip, like a folder's
      openFiles(files);
      return true;
    }
  }
  if (mime->hasImage()) {
    session_->setImage(qvariant_cast<QImage>(mime->imageData()), tr("pasted image"));
    return true;
  }
  return false;
}

void InputPanel::paste() {
  if (!handleMimeData(QApplication::clipboard()->mimeData()))
    session_->setImage(QImage(), tr("clipboard"));  // reports "no image"
}

void InputPanel::addRecent(const QString& path) {
  recent_.removeAll(path);
  recent_.prepend(path);
  while (recent_.size() > 10) recent_.removeLast();
  QSettings s;
  keys::kRecentFiles.write(s, recent_);
}

void InputPanel::refresh() {
  const QImage img = session_->imageQ();
  if (img.isNull()) return;
  name_->setText(QStringLiteral("<b>%1</b>  %2 × %3").arg(session_->imageName()).arg(img.width()).arg(img.height()));
  fs::service::SessionCrop crop;
  cv::Mat none;
  const QList<int> loaded = session_->loadedSlots();
  for (int i : loaded)
    if (session_->slot(i).prediction) {
      crop = session_->slot(i).prediction->crop;
      none = cv::Mat(1, 1, CV_32F, cv::Scalar(0));  // enables the crop outline
      break;
    }
  original_->setPicture(img, none, crop);
  original_->setMark(session_->featureVis().mark());  // an exemplar's receptive field
  QLayoutItem* item;
  while ((item = inputsLayout_->takeAt(0)) != nullptr) {
    delete item->widget();
    delete item;
  }
  // Three per row at most: four models' inputs in one row were wider than the dock.
  int n = 0;
  for (int i : loaded) {
    const auto& s = session_->slot(i);
    if (!s.prediction) continue;
    auto* label = new QLabel;
    label->setAlignment(Qt::AlignCenter);
    label->setPixmap(QPixmap::fromImage(toQImage(s.prediction->modelInput)).scaled(68, 68, Qt::KeepAspectRatio));
    label->setToolTip(QStringLiteral("%1: %2×%3").arg(QString::fromStdString(s.info.modelId))
                          .arg(s.info.inputWidth).arg(s.info.inputHeight));
    inputsLayout_->addWidget(label, n / 3, n % 3);
    ++n;
  }
}

QStringList InputPanel::folderImages() const {
  QStringList out;
  for (int i = 0; i < strip_->count(); ++i) out << strip_->item(i)->data(Qt::UserRole).toString();
  return out;
}

}  // namespace fs::ui
