#include "render/figure_renderer.h"

#include "model/atomic_file.h"
#include "model/errors.h"
#include "render/banded_png.h"
#include "render/figure_drawing.h"
#include "render/figure_elements.h"
#include "render/image_conversion.h"

#include <QBuffer>
#include <QFont>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QPolygonF>
#include <QStringList>
#include <QSvgGenerator>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace fs::render {
namespace fa = fs::analysis;
using fs::model::InputError;

namespace {
constexpr double kVectorPixelsPerPoint = 4.0;

int dotsPerMeter(double dpi) { return int(std::lround(dpi / 0.0254)); }
}  // namespace

using namespace drawing;

void checkDpi(double dpi, const std::string& what) {
  if (!(dpi >= kMinDpi && dpi <= kMaxDpi))
    throw InputError(what + ": a resolution of " + std::to_string(dpi) + " dpi is outside " +
                     std::to_string(int(kMinDpi)) + "-" + std::to_string(int(kMaxDpi)));
}

FigureFormat figureFormatForPath(const std::string& path) {
  const auto dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == "png") return FigureFormat::Png;
  if (ext == "pdf") return FigureFormat::Pdf;
  if (ext == "svg") return FigureFormat::Svg;
  throw InputError(path + ": unknown figure format (valid extensions: .png, .pdf, .svg)");
}

void FigureRenderer::paint(QPainter& p, double pixelsPerPoint) const {
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  p.setRenderHint(QPainter::SmoothPixmapTransform, true);
  p.setRenderHint(QPainter::LosslessImageRendering, true);  // PDF: Flate instead of JPEG for tiles
  p.fillRect(QRectF(QPointF(0, 0), size_), Qt::white);
  paintHeader(p);
  paintLegend(p);
  for (int r = 0; r < layout_.rowCount(); ++r)
    for (int c = 0; c < layout_.columnCount(); ++c) paintCell(p, r, c, pixelsPerPoint);
  paintBars(p);
  const double lh = lineHeight(layout_.metrics.captionFont);
  for (int i = 0; i < captionLines_.size(); ++i)
    drawText(p, QRectF(captionRect_.left(), captionRect_.top() + i * lh, captionRect_.width(), lh),
             Qt::AlignLeft | Qt::AlignVCenter, captionLines_[i], layout_.metrics.captionFont, false, kInk);
}

void FigureRenderer::paintHeader(QPainter& p) const {
  const auto& m = layout_.metrics;
  if (!layout_.title.empty())
    drawText(p, QRectF(m.margin, m.margin, size_.width() - 2 * m.margin, lineHeight(m.titleFont)), Qt::AlignCenter,
             QString::fromStdString(layout_.title), m.titleFont, true, kInk);
  for (int c = 0; c < layout_.columnCount(); ++c) {
    const double h = labelSize(layout_.columnLabels[c], m.headerFont, m.noteFont).height();
    drawLabel(p, QRectF(colX_[c], headerTop_ + headerHeight_ - h, colW_[c], h), Qt::AlignHCenter,
              layout_.columnLabels[c], m.headerFont, m.noteFont);
  }
  for (int r = 0; r < layout_.rowCount(); ++r) {
    const double h = labelSize(layout_.rowLabels[r], m.headerFont, m.noteFont).height();
    drawLabel(p, QRectF(m.margin, rows_[r].top + (rows_[r].content - h) / 2, labelWidth_ - 6, h), Qt::AlignLeft,
              layout_.rowLabels[r], m.headerFont, m.noteFont);
  }
}

void FigureRenderer::paintCell(QPainter& p, int row, int col, double pixelsPerPoint) const {
  const auto& m = layout_.metrics;
  const fa::FigureCell& cell = layout_.cells[row][col];
  const QRectF box = cellRects_[row][col];
  if (cell.kind == fa::CellKind::Tiles) drawTiles(p, cell.tiles, box, m, pixelsPerPoint);
  if (cell.kind == fa::CellKind::Overlay) {  // photographic: JPEG is fine in PDF
    p.setRenderHint(QPainter::LosslessImageRendering, false);
    p.drawImage(box, toQImage(cell.overlay.rgb));
    p.setRenderHint(QPainter::LosslessImageRendering, true);
  }
  if (cell.kind == fa::CellKind::Plot) drawPlot(p, cell.plot, box, m);
  const RowBox& r = rows_[row];
  if (!cell.note.empty())
    drawText(p, QRectF(colX_[col] - m.columnGap / 2, r.noteY, colW_[col] + m.columnGap, lineHeight(m.noteFont)),
             Qt::AlignCenter, QString::fromStdString(cell.note), m.noteFont, false, kMuted);
  if (cell.bar) {
    const double w = std::max(box.width(), 40.0) * 0.8;
    drawHorizontalBar(p, *cell.bar, QRectF(box.center().x() - w / 2, r.barY, w, m.barThickness), false, m);
  }
}

void FigureRenderer::paintBars(QPainter& p) const {
  const auto& m = layout_.metrics;
  for (int c = 0; c < int(layout_.columnBars.size()); ++c) {
    if (!layout_.columnBars[c]) continue;
    const double w = colW_[c] * 0.85;
    drawHorizontalBar(p, *layout_.columnBars[c],
                      QRectF(colX_[c] + (colW_[c] - w) / 2, columnBarY_, w, m.barThickness), true, m);
  }
  for (int r = 0; r < int(layout_.rowBars.size()); ++r) {
    if (!layout_.rowBars[r]) continue;
    const double x = colX_.back() + colW_.back() + 6;
    drawVerticalBar(p, *layout_.rowBars[r], QRectF(x, rows_[r].top, m.barThickness, rows_[r].content), rowBarWidth_, m);
  }
  if (!layout_.sharedBar) return;
  const double right = colX_.empty() ? size_.width() - m.margin : colX_.back() + colW_.back();
  const QRectF rect(right - m.barLength, sharedBarY_, m.barLength, m.barThickness);
  drawHorizontalBar(p, *layout_.sharedBar, rect, false, m);
  const QString label = QString::fromStdString(layout_.sharedBar->label);
  const double w = textWidth(label, m.noteFont) + 2;
  drawText(p, QRectF(rect.left() - 4 - w, rect.center().y() - lineHeight(m.noteFont) / 2, w, lineHeight(m.noteFont)),
           Qt::AlignRight | Qt::AlignVCenter, label, m.noteFont, false, kInk);
}

void FigureRenderer::paintLegend(QPainter& p) const {
  const auto& m = layout_.metrics;
  for (size_t i = 0; i < layout_.legend.size(); ++i) {
    const fa::LegendEntry& e = layout_.legend[i];
    const QRectF& box = legendBoxes_[i];
    const double cy = box.center().y();
    fa::PlotSeries key;  // the series' look, a little bolder
    std::copy(e.rgb, e.rgb + 3, key.rgb);
    key.dashed = e.dashed, key.openMarker = e.openMarker, key.lineWidth = 1.2, key.markerRadius = 2.1;
    drawSeries(p, key, QPolygonF({QPointF(box.left(), cy), QPointF(box.left() + kLegendSwatch, cy)}),
               QPolygonF({QPointF(box.left() + kLegendSwatch / 2, cy)}));
    drawText(p, QRectF(box.left() + kLegendSwatch + kLegendSwatchGap, box.top(), box.width() - kLegendSwatch - kLegendSwatchGap, box.height()),
             Qt::AlignLeft | Qt::AlignVCenter, QString::fromStdString(e.label), m.captionFont, false, kInk);
  }
}

QImage FigureRenderer::toImage(double dpi) const {
  checkDpi(dpi, "figure");
  QImage img(pixelSize(dpi), QImage::Format_RGB32);
  img.fill(Qt::white);
  const int dpm = dotsPerMeter(dpi);
  img.setDotsPerMeterX(dpm);
  img.setDotsPerMeterY(dpm);
  paintRows(img, 0, dpi);
  return img;
}

void FigureRenderer::paintRows(QImage& img, int top, double dpi) const {
  QPainter p(&img);
  p.translate(0, -top);
  p.scale(dpi / 72.0, dpi / 72.0);
  paint(p, dpi / 72.0);
}

QByteArray FigureRenderer::toPng(double dpi) const {
  checkDpi(dpi, "figure");
  return encodePngInBands(pixelSize(dpi), dotsPerMeter(dpi),
                          [&](QImage& band, int top) { paintRows(band, top, dpi); });
}

QByteArray FigureRenderer::toPdf() const {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  {
    QPdfWriter pdf(&buffer);
    pdf.setCreator(QStringLiteral("FeatureScope " FS_VERSION));
    pdf.setTitle(QString::fromStdString(layout_.title));
    pdf.setResolution(1200);
    pdf.setPageSize(QPageSize(size_, QPageSize::Point, QString(), QPageSize::ExactMatch));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout::Point);
    QPainter p(&pdf);
    const double s = pdf.resolution() / 72.0;
    p.scale(s, s);
    paint(p, kVectorPixelsPerPoint);
  }
  return bytes;
}

QByteArray FigureRenderer::toSvg() const {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  {
    QSvgGenerator svg;
    svg.setOutputDevice(&buffer);
    svg.setResolution(72);
    svg.setSize(size_.toSize());
    svg.setViewBox(QRectF(QPointF(0, 0), size_));
    svg.setTitle(QString::fromStdString(layout_.title));
    svg.setDescription(QString::fromStdString(layout_.caption));
    QPainter p(&svg);
    paint(p, kVectorPixelsPerPoint);
  }
  return bytes;
}

QByteArray FigureRenderer::encode(FigureFormat format, double dpi) const {
  switch (format) {
    case FigureFormat::Png: return toPng(dpi);
    case FigureFormat::Pdf: return toPdf();
    case FigureFormat::Svg: return toSvg();
  }
  return {};
}

void FigureRenderer::write(const std::string& path, double dpi) const {
  const QByteArray bytes = encode(figureFormatForPath(path), dpi);
  fs::model::writeFileAtomically(path, std::string_view(bytes.constData(), size_t(bytes.size())));
}

}  // namespace fs::render
