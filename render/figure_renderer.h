#pragma once
// Draws an analysis::FigureLayout to PNG (any DPI), PDF and SVG. The geometry is computed once, in
// points, from unhinted font metrics, so the three formats show the same figure: text stays text,
// colour bars are gradients with tick labels, images are embedded. Needs a QGuiApplication (fonts); the
// renderer owns a copy of the layout and may be used from any one thread at a time.
#include "analysis/figure_layout.h"

#include <QByteArray>
#include <QImage>
#include <QRectF>
#include <QSizeF>
#include <QStringList>

#include <string>
#include <vector>

class QPainter;

namespace fs::render {

enum class FigureFormat { Png, Pdf, Svg };

// From the file extension (.png, .pdf, .svg, any case); InputError otherwise.
FigureFormat figureFormatForPath(const std::string& path);

// A raster figure's resolution: the range every writer accepts (the programs' --dpi, the app's
// boxes) and their default.
inline constexpr double kMinDpi = 10, kMaxDpi = 1200, kDefaultDpi = 300;
// InputError "WHAT: a resolution of DPI dpi is outside 10-1200" unless kMinDpi <= dpi <= kMaxDpi.
void checkDpi(double dpi, const std::string& what);

class FigureRenderer {
 public:
  // Validates the layout (InputError) and lays it out.
  explicit FigureRenderer(fs::analysis::FigureLayout layout);

  QSizeF sizePoints() const { return size_; }   // whole points
  QSize pixelSize(double dpi) const;              // ceil(points * dpi / 72)
  QImage toImage(double dpi) const;               // checkDpi (InputError); DPI stored in the image
  QByteArray toPng(double dpi) const;             // the pixels of toImage(dpi), painted in bands (banded_png.h)
  QByteArray toPdf() const;                       // one page of sizePoints()
  QByteArray toSvg() const;                       // viewBox in points
  QByteArray encode(FigureFormat format, double dpi) const;
  // Encodes by extension and writes atomically (temporary file + rename); InputError on failure.
  void write(const std::string& path, double dpi) const;

 private:
  struct RowBox {
    double top = 0, content = 0, noteY = 0, barY = 0, bottom = 0;
  };
  void layOut();
  void layOutColumns(double labelWidth);
  double layOutRows(double y);
  double layOutLegend(double y, double width);
  QSizeF naturalSize(const fs::analysis::FigureCell& cell, double rowTilesHeight) const;
  void paint(QPainter& p, double pixelsPerPoint) const;
  void paintRows(QImage& img, int top, double dpi) const;  // the figure's pixel rows from `top` into img
  void paintHeader(QPainter& p) const;
  void paintCell(QPainter& p, int row, int col, double pixelsPerPoint) const;
  void paintBars(QPainter& p) const;
  void paintLegend(QPainter& p) const;

  fs::analysis::FigureLayout layout_;
  QSizeF size_;
  double labelWidth_ = 0, headerTop_ = 0, headerHeight_ = 0, rowBarWidth_ = 0;
  std::vector<double> colX_, colW_;
  std::vector<RowBox> rows_;
  std::vector<std::vector<QRectF>> cellRects_;  // content rectangles [row][col]
  double columnBarY_ = -1, sharedBarY_ = -1;
  std::vector<QRectF> legendBoxes_;  // one per legend entry: its swatch and label
  QRectF captionRect_;
  QStringList captionLines_;
};

}  // namespace fs::render
