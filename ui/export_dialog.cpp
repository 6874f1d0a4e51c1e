#include "ui/export_dialog.h"

#include "analysis/colormap.h"
#include "ui/analysis_session.h"
#include "render/figure_renderer.h"
#include "service/saliency_service.h"

#include <QBuffer>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPdfWriter>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QSvgGenerator>
#include <QVBoxLayout>

#include <cmath>
#include <exception>

namespace fs::ui {

using namespace fs::render;

using namespace fs::analysis;
using namespace fs::service;

ExportDialog::ExportDialog(AnalysisSession* session, std::function<QWidget*()> currentView,
                           std::function<QString()> viewName, QWidget* parent)
    : QDialog(parent), session_(session), currentView_(std::move(currentView)), viewName_(std::move(viewName)) {
  setWindowTitle(tr("Export figure"));
  auto* layout = new QHBoxLayout(this);
  auto* left = new QWidget;
  left->setMaximumWidth(300);
  auto* form = new QFormLayout(left);
  source_ = new QComboBox;
  source_->addItem(tr("Paper figure (models × stages)"));
  source_->addItem(tr("Current view, as shown"));
  form->addRow(tr("What"), source_);
  format_ = new QComboBox;
  format_->addItems({QStringLiteral("PNG"), QStringLiteral("PDF"), QStringLiteral("SVG")});
  form->addRow(tr("Format"), format_);
  dpi_ = new QDoubleSpinBox;
  dpi_->setRange(fs::render::kMinDpi, fs::render::kMaxDpi);
  dpi_->setValue(fs::render::kDefaultDpi);
  dpi_->setSuffix(QStringLiteral(" dpi"));
  form->addRow(tr("PNG resolution"), dpi_);
  createFigureOptions();
  form->addRow(figureOptions_);
  status_ = new QLabel;
  status_->setWordWrap(true);
  form->addRow(status_);
  auto* buttons = new QDialogButtonBox;
  auto* save = buttons->addButton(tr("Save…"), QDialogButtonBox::AcceptRole);
  auto* copy = buttons->addButton(tr("Copy"), QDialogButtonBox::ActionRole);
  buttons->addButton(QDialogButtonBox::Close);
  form->addRow(buttons);
  layout->addWidget(left);
  preview_label_ = new QLabel;
  preview_label_->setMinimumSize(560, 420);
  preview_label_->setAlignment(Qt::AlignCenter);
  preview_label_->setStyleSheet(QStringLiteral("background: white; border: 1px solid #bbb"));
  layout->addWidget(preview_label_, 1);

  connect(save, &QPushButton::clicked, this, &ExportDialog::saveAs);
  connect(copy, &QPushButton::clicked, this, &ExportDialog::copyToClipboard);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connectOptions();
  requestFigure();
}

// The paper figure's own options (channels, order, normalisation, colormap, saliency, title).
void ExportDialog::createFigureOptions() {
  figureOptions_ = new QWidget;
  auto* ff = new QFormLayout(figureOptions_);
  ff->setContentsMargins(0, 0, 0, 0);
  channels_ = new QSpinBox;
  channels_->setRange(1, 64);
  channels_->setValue(12);
  ff->addRow(tr("Channels per stage"), channels_);
  rank_ = new QComboBox;
  rank_->addItems({QStringLiteral("first"), QStringLiteral("mean"), QStringLiteral("max"), QStringLiteral("contribution")});
  ff->addRow(tr("Channel order"), rank_);
  norm_ = new QComboBox;
  norm_->addItems({QStringLiteral("channel"), QStringLiteral("tap"), QStringLiteral("shared")});
  ff->addRow(tr("Normalise"), norm_);
  colormap_ = new QComboBox;
  for (const std::string& n : colormapNames()) colormap_->addItem(QString::fromStdString(n));
  colormap_->setCurrentText(QStringLiteral("gray"));
  ff->addRow(tr("Colormap"), colormap_);
  saliency_ = new QComboBox;
  saliency_->addItem(tr("none"), QString());
  for (const std::string& m : fs::service::SaliencyService::methodNames())
    saliency_->addItem(QString::fromStdString(m), QString::fromStdString(m));
  saliency_->setCurrentIndex(saliency_->findData(QStringLiteral("gradcam")));
  ff->addRow(tr("Saliency column"), saliency_);
  title_ = new QLineEdit;
  title_->setPlaceholderText(tr("(no title)"));
  ff->addRow(tr("Title"), title_);
}

// Any option change re-lays the figure or the preview; the session's figure arrives here.
void ExportDialog::connectOptions() {
  connect(source_, &QComboBox::currentIndexChanged, this, [this] {
    figureOptions_->setEnabled(source_->currentIndex() == 0);
    if (source_->currentIndex() == 0) requestFigure();
    else updatePreview();
  });
  for (QComboBox* b : {rank_, norm_, colormap_, saliency_})
    connect(b, &QComboBox::currentIndexChanged, this, &ExportDialog::requestFigure);
  connect(channels_, &QSpinBox::valueChanged, this, &ExportDialog::requestFigure);
  connect(title_, &QLineEdit::editingFinished, this, &ExportDialog::requestFigure);
  connect(format_, &QComboBox::currentIndexChanged, this, [this] { dpi_->setEnabled(format_->currentIndex() == 0); });
  connect(session_, &AnalysisSession::figureReady, this, [this](const FigureLayout& layout) {
    if (!figurePending_) return;
    figurePending_ = false;
    try {
      renderer_ = std::make_unique<FigureRenderer>(layout);
      status_->setText(tr("%1 × %2 pt").arg(renderer_->sizePoints().width()).arg(renderer_->sizePoints().height()));
    } catch (const std::exception& e) {
      renderer_.reset();
      status_->setText(tr("The figure could not be laid out: %1").arg(QString::fromStdString(e.what())));
    }
    updatePreview();
  });
  connect(session_, &AnalysisSession::errorOccurred, this, [this](const QString& m) {
    if (!figurePending_) return;
    figurePending_ = false;
    status_->setText(m);
  });
}

ExportDialog::~ExportDialog() = default;

void ExportDialog::setSource(Source s) { source_->setCurrentIndex(s == Source::PaperFigure ? 0 : 1); }
void ExportDialog::setDpi(double dpi) { dpi_->setValue(dpi); }
void ExportDialog::setFigureChannels(int k) { channels_->setValue(k); }

bool ExportDialog::previewReady() const {
  return source_->currentIndex() == 1 ? currentView_ && currentView_() : renderer_ && !figurePending_;
}

void ExportDialog::requestFigure() {
  if (source_->currentIndex() != 0) return;
  FeatureFigureOptions o;
  o.channels = channels_->value();
  o.rank = rank_->currentText().toStdString();
  o.norm = norm_->currentText().toStdString();
  o.colormap = colormap_->currentText().toStdString();
  o.saliency = saliency_->currentData().toString().toStdString();
  o.saliencyParameters = session_->saliencyParams();  // the Saliency view's parameters
  o.title = title_->text().toStdString();
  requested_ = o;
  renderer_.reset();
  figurePending_ = true;
  status_->setText(tr("Building the figure…"));
  session_->requestPaperFigure(o);
}

QImage ExportDialog::renderImage(double dpi) const {
  if (source_->currentIndex() == 0) return renderer_ ? renderer_->toImage(dpi) : QImage();
  QWidget* view = currentView_ ? currentView_() : nullptr;
  if (!view) return {};
  const double scale = dpi / 96.0;
  QImage img(QSize(int(std::ceil(view->width() * scale)), int(std::ceil(view->height() * scale))), QImage::Format_ARGB32);
  img.fill(Qt::white);
  img.setDotsPerMeterX(int(std::lround(dpi / 0.0254)));
  img.setDotsPerMeterY(int(std::lround(dpi / 0.0254)));
  QPainter p(&img);
  p.scale(scale, scale);
  view->render(&p, QPoint(), QRegion(), QWidget::DrawChildren);
  return img;
}

void ExportDialog::updatePreview() {
  const QImage img = renderImage(source_->currentIndex() == 0 ? 72.0 : 96.0);
  preview_ = img;
  if (img.isNull()) preview_label_->setText(tr("Nothing to preview yet"));
  else
    preview_label_->setPixmap(QPixmap::fromImage(img).scaled(preview_label_->size() - QSize(8, 8), Qt::KeepAspectRatio,
                                                             Qt::SmoothTransformation));
  Q_EMIT previewUpdated();
}

QByteArray ExportDialog::encodeView(QWidget* view, const QString& suffix, double dpi) const {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  const QSizeF points(view->width() * 72.0 / 96.0, view->height() * 72.0 / 96.0);
  if (suffix == QLatin1String("png")) {
    renderImage(dpi).save(&buffer, "PNG");
  } else if (suffix == QLatin1String("pdf")) {
    QPdfWriter pdf(&buffer);
    pdf.setResolution(96);
    pdf.setPageSize(QPageSize(points, QPageSize::Point));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    pdf.setCreator(QStringLiteral("FeatureScope"));
    QPainter p(&pdf);
    view->render(&p, QPoint(), QRegion(), QWidget::DrawChildren);
  } else {
    QSvgGenerator svg;
    svg.setOutputDevice(&buffer);
    svg.setSize(view->size());
    svg.setViewBox(QRect(QPoint(), view->size()));
    svg.setTitle(QStringLiteral("FeatureScope %1 view").arg(viewName_ ? viewName_() : QString()));
    QPainter p(&svg);
    view->render(&p, QPoint(), QRegion(), QWidget::DrawChildren);
  }
  return bytes;
}

QString ExportDialog::exportTo(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix != QLatin1String("png") && suffix != QLatin1String("pdf") && suffix != QLatin1String("svg"))
    return tr("%1: unknown format (use .png, .pdf or .svg)").arg(path);
  ExportRecord record;
  const double dpi = dpi_->value();
  if (source_->currentIndex() == 0) {
    if (!renderer_) return tr("The figure is not ready yet (%1)").arg(status_->text());
    try {
      renderer_->write(path.toStdString(), dpi);
    } catch (const std::exception& e) {
      return QString::fromStdString(e.what());
    }
    record.what = "paper-figure";
    record.settings = {{"channels", std::to_string(requested_.channels)}, {"rank", requested_.rank},
                       {"norm", requested_.norm},                         {"colormap", requested_.colormap},
                       {"saliency", requested_.saliency},                 {"title", requested_.title}};
  } else {
    QWidget* view = currentView_ ? currentView_() : nullptr;
    if (!view) return tr("There is no view to export");
    const QByteArray bytes = encodeView(view, suffix, dpi);
    QSaveFile file(path);
    if (bytes.isEmpty() || !file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
      return tr("%1: could not write (%2)").arg(path, file.errorString());
    record.what = "view:" + (viewName_ ? viewName_() : QString()).toStdString();
    const DisplayOptions& d = session_->display();
    record.settings = {{"colormap", colormapName(d.colormap)},
                       {"sign", std::to_string(int(d.sign))},
                       {"norm", d.norm.toStdString()},
                       {"clip_percentile", std::to_string(d.clipPercentile)},
                       {"alpha", std::to_string(d.alpha)}};
  }
  record.settings.push_back({"format", suffix.toStdString()});
  if (suffix == QLatin1String("png")) record.settings.push_back({"dpi", std::to_string(dpi)});
  session_->writeManifest(path, record);
  status_->setText(tr("Wrote %1").arg(path));
  Q_EMIT exported(path);
  return {};
}

bool ExportDialog::copyToClipboard() {
  const QImage img = renderImage(source_->currentIndex() == 0 ? 150.0 : 96.0);
  if (img.isNull()) return false;
  QGuiApplication::clipboard()->setImage(img);
  status_->setText(tr("Copied %1×%2 px to the clipboard").arg(img.width()).arg(img.height()));
  return true;
}

void ExportDialog::saveAs() {
  const QString ext = format_->currentText().toLower();
  const QString path = QFileDialog::getSaveFileName(this, tr("Export"), QStringLiteral("figure.%1").arg(ext),
                                                    tr("%1 (*.%2)").arg(format_->currentText(), ext));
  if (path.isEmpty()) return;
  const QString error = exportTo(path);
  if (!error.isEmpty()) status_->setText(tr("Not exported: %1").arg(error));
}

}  // namespace fs::ui
