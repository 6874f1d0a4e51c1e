// The figure's self-contained elements (render/figure_elements.h).
#include "render/figure_elements.h"

#include "analysis/colormap.h"
#include "render/color_ramp.h"
#include "render/figure_drawing.h"

#include <QBrush>
#include <QColor>
#include <QPainter>
#include <QPen>

#include <algorithm>

namespace fs::render::drawing {
namespace fa = fs::analysis;

namespace {
// The colormap's 256 entries as gradient stops along the bar (low values left, or at the bottom
// when vertical), and the bar's outline.
void fillBar(QPainter& p, fa::Colormap map, const QRectF& rect, bool vertical) {
  p.fillRect(rect, QBrush(colorRamp(map, vertical ? rect.bottomLeft() : rect.topLeft(),
                                     vertical ? rect.topLeft() : rect.topRight())));
  p.setPen(QPen(kMuted, 0.3));
  p.setBrush(Qt::NoBrush);
  p.drawRect(rect);
}
}  // namespace

void drawSeries(QPainter& p, const fa::PlotSeries& s, const QPolygonF& line, const QPolygonF& dots) {
  const QColor colour(s.rgb[0], s.rgb[1], s.rgb[2]);
  if (s.line && line.size() > 1 && s.lineWidth > 0) {
    QPen pen(colour, s.lineWidth, Qt::SolidLine, Qt::FlatCap, Qt::RoundJoin);
    if (s.dashed) pen.setDashPattern({3.0, 2.0});  // in pen widths
    p.setPen(pen);
    p.setBrush(Qt::NoBrush);
    p.drawPolyline(line);
  }
  if (s.markerRadius > 0) {
    const QColor edge = s.edge[0] < 0 ? colour : QColor(s.edge[0], s.edge[1], s.edge[2]);
    p.setPen(QPen(edge, s.openMarker ? 0.8 : s.edge[0] < 0 ? 0.3 : 0.5));
    p.setBrush(s.openMarker ? QBrush(Qt::white) : QBrush(colour));
    for (const QPointF& q : dots) p.drawEllipse(q, s.markerRadius, s.markerRadius);
  }
  p.setBrush(Qt::NoBrush);
}

void drawPlot(QPainter& p, const fa::FigurePlot& plot, const QRectF& box, const fa::FigureMetrics& m) {
  const double th = lineHeight(m.tickFont);
  double yLabels = 0;
  for (const auto& t : plot.yGrid) yLabels = std::max(yLabels, textWidth(QString::fromStdString(t.label), m.tickFont));
  const double left = plot.yGrid.empty() ? 0 : yLabels + 3, top = plot.yGrid.empty() ? 0 : th / 2;
  const double bottom = plot.xTicks.empty() ? 0 : th + 2.5, right = plot.xTicks.empty() ? 0 : th;
  const QRectF area(box.left() + left, box.top() + top, box.width() - left - right, box.height() - top - bottom);
  const auto along = [](const fa::ValueRange& r, double v) { return (std::clamp(v, r.lo, r.hi) - r.lo) / (r.hi - r.lo); };
  const auto at = [&](double x, double y) {
    return QPointF(area.left() + along(plot.xRange, x) * area.width(), area.bottom() - along(plot.yRange, y) * area.height());
  };
  if (plot.fill) p.fillRect(area, QColor((*plot.fill)[0], (*plot.fill)[1], (*plot.fill)[2]));
  for (const auto& t : plot.yGrid) {  // grid lines and their labels
    const bool strong = plot.emphasis && *plot.emphasis == t.value;
    const double y = at(plot.xRange.lo, t.value).y();
    p.setPen(QPen(strong ? QColor(150, 150, 150) : QColor(222, 222, 222), strong ? 0.5 : 0.4));
    p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y));
    drawText(p, QRectF(box.left(), y - th / 2, yLabels, th), Qt::AlignRight | Qt::AlignVCenter,
             QString::fromStdString(t.label), m.tickFont, false, kMuted);
  }
  double lastRight = -1e9;
  for (const auto& t : plot.xTicks) {  // ticks under the plot, labels that fit
    const double x = at(t.value, plot.yRange.lo).x();
    p.setPen(QPen(kMuted, 0.4));
    p.drawLine(QPointF(x, area.bottom()), QPointF(x, area.bottom() + 2));
    const QString label = QString::fromStdString(t.label);
    const double w = textWidth(label, m.tickFont) + 2;
    if (x - w / 2 < lastRight + 2) continue;
    drawText(p, QRectF(x - w / 2, area.bottom() + 2.5, w, th), Qt::AlignCenter, label, m.tickFont, false, kInk);
    lastRight = x + w / 2;
  }
  for (const fa::PlotSeries& s : plot.series) {
    QPolygonF points;
    for (size_t i = 0; i < s.x.size(); ++i) points << at(s.x[i], s.y[i]);
    drawSeries(p, s, points, points);
  }
}

void drawTiles(QPainter& p, const fa::FigureTiles& t, const QRectF& box, const fa::FigureMetrics& m, double ppp) {
  const double labelPt = std::min(4.5, m.tileSize / 5);
  for (size_t i = 0; i < t.channels.size(); ++i) {
    const cv::Mat& ch = t.channels[i];
    const int r = int(i) / t.cols, c = int(i) % t.cols;
    const QRectF cellBox(box.left() + c * (m.tileSize + m.tileGap), box.top() + r * (m.tileSize + m.tileGap),
                         m.tileSize, m.tileSize);
    const QRectF tile = fitted(cellBox, double(ch.cols) / ch.rows);
    const fa::ValueRange range = t.ranges.size() == 1 ? t.ranges[0] : t.ranges[i];
    p.drawImage(tile, crispImage(fa::colorize(ch, range, t.colormap), m.tileSize * ppp));
    if (i >= t.tileLabels.size()) continue;
    const QString label = QString::fromStdString(t.tileLabels[i]);
    const QRectF tag(tile.left(), tile.top(), textWidth(label, labelPt) + 1.6, lineHeight(labelPt));
    p.fillRect(tag, QColor(0, 0, 0, 150));
    drawText(p, tag, Qt::AlignCenter, label, labelPt, false, Qt::white);
  }
}

void drawHorizontalBar(QPainter& p, const fa::ColorBar& bar, const QRectF& rect, bool labelBelow,
                       const fa::FigureMetrics& m) {
  fillBar(p, bar.colormap, rect, false);
  const double th = lineHeight(m.tickFont);
  for (const auto& t : ticksOf(bar, std::max(3, int(rect.width() / 25)))) {
    const double x = rect.left() + tickFraction(bar, t.value) * rect.width();
    p.setPen(QPen(kInk, 0.3));
    p.drawLine(QPointF(x, rect.bottom()), QPointF(x, rect.bottom() + 1.5));
    const QString label = QString::fromStdString(t.label);
    const double w = textWidth(label, m.tickFont) + 2;
    drawText(p, QRectF(x - w / 2, rect.bottom() + 1.5, w, th), Qt::AlignCenter, label, m.tickFont, false, kInk);
  }
  if (labelBelow && !bar.label.empty())
    drawText(p, QRectF(rect.left() - 10, rect.bottom() + 1.5 + th, rect.width() + 20, lineHeight(m.noteFont)),
             Qt::AlignCenter, QString::fromStdString(bar.label), m.noteFont, false, kMuted);
}

void drawVerticalBar(QPainter& p, const fa::ColorBar& bar, const QRectF& rect, double labelWidth,
                     const fa::FigureMetrics& m) {
  fillBar(p, bar.colormap, rect, true);
  const double th = lineHeight(m.tickFont);
  for (const auto& t : ticksOf(bar, 5)) {
    const double y = rect.bottom() - tickFraction(bar, t.value) * rect.height();
    p.setPen(QPen(kInk, 0.3));
    p.drawLine(QPointF(rect.right(), y), QPointF(rect.right() + 1.5, y));
    drawText(p, QRectF(rect.right() + 2, y - th / 2, labelWidth, th), Qt::AlignLeft | Qt::AlignVCenter,
             QString::fromStdString(t.label), m.tickFont, false, kInk);
  }
}

}  // namespace fs::render::drawing
