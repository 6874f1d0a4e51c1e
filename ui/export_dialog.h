#pragma once
// The export dialog: what (the paper figure of the loaded models, or the current view as shown),
// a live preview, PNG at a chosen DPI, PDF or SVG, and copy to the clipboard. Every file is
// written atomically and gets FILE.manifest.json beside it (image, models, weights' SHA-256,
// settings). GUI thread only.
#include "analysis/figure_layout.h"

#include <QDialog>
#include <QImage>

#include <functional>
#include <memory>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace fs::render {
class FigureRenderer;
}

namespace fs::ui {

class AnalysisSession;
using fs::render::FigureRenderer;

class ExportDialog : public QDialog {
  Q_OBJECT

 public:
  enum class Source { PaperFigure, CurrentView };
  // currentView: the widget "current view" exports (the visible tab); viewName names it.
  ExportDialog(AnalysisSession* session, std::function<QWidget*()> currentView,
               std::function<QString()> viewName, QWidget* parent = nullptr);
  ~ExportDialog() override;

  void setSource(Source s);
  void setDpi(double dpi);
  void setFigureChannels(int k);
  // True once the preview of the chosen source is ready (the paper figure is built by the worker).
  bool previewReady() const;
  QImage previewImage() const { return preview_; }
  // Writes the export to `path` (PNG, PDF or SVG by extension) and asks for its manifest.
  // Returns an empty string on success, else the reason (nothing is written then).
  QString exportTo(const QString& path);
  bool copyToClipboard();

 Q_SIGNALS:
  void previewUpdated();
  void exported(const QString& path);

 private:
  void createFigureOptions();
  void connectOptions();
  void requestFigure();
  void updatePreview();
  QImage renderImage(double dpi) const;
  QByteArray encodeView(QWidget* view, const QString& suffix, double dpi) const;
  void saveAs();

  AnalysisSession* session_;
  std::function<QWidget*()> currentView_;
  std::function<QString()> viewName_;
  QComboBox* source_;
  QComboBox* format_;
  QDoubleSpinBox* dpi_;
  QSpinBox* channels_;
  QComboBox* rank_;
  QComboBox* norm_;
  QComboBox* colormap_;
  QComboBox* saliency_;
  QLineEdit* title_;
  QWidget* figureOptions_;
  QLabel* preview_label_;
  QLabel* status_;
  QImage preview_;
  std::unique_ptr<FigureRenderer> renderer_;
  fs::analysis::FeatureFigureOptions requested_;
  bool figurePending_ = false;
};

}  // namespace fs::ui
