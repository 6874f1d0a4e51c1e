#pragma once
// Private to render/: the figure's self-contained elements, drawn in points into a rectangle from
// their own data and the layout's metrics alone (no renderer state): a plot cell, a grid of channel
// tiles, a series' line and dots, and colour bars with their ticks. A colour bar is a linear
// gradient through its colormap's 256 entries (fs::analysis::colorBar's ramp): vector shading in PDF
// and SVG, the same ramp in PNG.
#include "analysis/figure_layout.h"

#include <QPolygonF>
#include <QRectF>

class QPainter;

namespace fs::render::drawing {

// A series' look: its line through `line` (solid or dashed; none when s.line is false or the
// width 0) and its dots at `dots` (filled, or open on white; none at radius 0). Plot cells pass
// the points for both; a legend key a short line and one dot on it.
void drawSeries(QPainter& p, const fs::analysis::PlotSeries& s, const QPolygonF& line, const QPolygonF& dots);
// Grid lines with their labels left, ticks with the labels that fit below, then the series.
void drawPlot(QPainter& p, const fs::analysis::FigurePlot& plot, const QRectF& box,
              const fs::analysis::FigureMetrics& m);
// Row-major tiles of m.tileSize points, each channel colourised with its range, labels in a corner.
void drawTiles(QPainter& p, const fs::analysis::FigureTiles& t, const QRectF& box,
               const fs::analysis::FigureMetrics& m, double pixelsPerPoint);
// Low values left; tick labels below and, with labelBelow, the bar's label under them.
void drawHorizontalBar(QPainter& p, const fs::analysis::ColorBar& bar, const QRectF& rect, bool labelBelow,
                       const fs::analysis::FigureMetrics& m);
// Low values at the bottom; tick labels right, in labelWidth points.
void drawVerticalBar(QPainter& p, const fs::analysis::ColorBar& bar, const QRectF& rect, double labelWidth,
                     const fs::analysis::FigureMetrics& m);

}  // namespace fs::render::drawing
