#pragma once
// Private to render/: the figure renderer's text, image and scale helpers. The painter's unit is
// the point; text is measured on a 72 dpi device at 16x its size, so every output format (PNG at
// any dpi, PDF, SVG) breaks lines at the same words and places text identically.
#include "analysis/figure_layout.h"

#include <QColor>
#include <QFont>
#include <QImage>
#include <QRectF>
#include <QSizeF>
#include <QString>
#include <QStringList>

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

class QPainter;

namespace fs::render::drawing {

const QColor kInk(0x20, 0x20, 0x20);
const QColor kMuted(0x60, 0x60, 0x60);
// A legend entry: its swatch (a line with a marker), a gap, then its label; in points.
constexpr double kLegendSwatch = 18.0, kLegendSwatchGap = 3.0;

QFont makeFont(double pointSize, bool bold);
double textWidth(const QString& s, double pt, bool bold = false);
double lineHeight(double pt);
QStringList lines(const std::string& s);  // split at '\n'
// A label's first line in `first` pt bold, the others in `rest` pt.
QSizeF labelSize(const std::string& label, double first, double rest);
// Greedy word wrap with the measuring font.
QStringList wrap(const std::string& text, double pt, double width);
void drawText(QPainter& p, const QRectF& r, int flags, const QString& s, double pt, bool bold, const QColor& c);
void drawLabel(QPainter& p, const QRectF& r, int align, const std::string& label, double first, double rest);
// The largest rectangle of `aspect` (width / height) centred in box.
QRectF fitted(const QRectF& box, double aspect);
// Nearest-neighbour upscale so small maps stay crisp in every viewer, then to QImage.
QImage crispImage(const cv::Mat& rgb, double targetPixels);
double rowTilesHeight(const fs::analysis::FigureLayout& f, int row);
std::vector<fs::analysis::BarTick> ticksOf(const fs::analysis::ColorBar& bar, int maxTicks);
double tickFraction(const fs::analysis::ColorBar& bar, double v);  // 0..1 along the bar

}  // namespace fs::render::drawing
