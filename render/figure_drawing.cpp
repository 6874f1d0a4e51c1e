// Text, images and scales of the figure renderer, measured and drawn in points (private to
// render/).
#include "render/figure_drawing.h"

#include "render/image_conversion.h"

#include <QFontMetricsF>
#include <QPainter>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace fs::render::drawing {
namespace fa = fs::analysis;

constexpr double kMeasureScale = 16.0;  // measure at 16x to avoid hinting and rounding effects

QFont makeFont(double pointSize, bool bold) {
  QFont f(QStringLiteral("DejaVu Sans"));
  f.setStyleHint(QFont::SansSerif);
  f.setHintingPreference(QFont::PreferNoHinting);
  f.setPointSizeF(pointSize);
  f.setBold(bold);
  return f;
}

namespace {

// A 72 dpi device: one font pixel = one point.
const QImage& measureDevice() {
  static const QImage device = [] {
    QImage img(1, 1, QImage::Format_RGB32);
    img.setDotsPerMeterX(2835);
    img.setDotsPerMeterY(2835);
    return img;
  }();
  return device;
}

QFontMetricsF metrics(double pt, bool bold) {
  return QFontMetricsF(makeFont(pt * kMeasureScale, bold), &measureDevice());
}
}  // namespace

double textWidth(const QString& s, double pt, bool bold) {
  return metrics(pt, bold).horizontalAdvance(s) / kMeasureScale;
}

double lineHeight(double pt) { return metrics(pt, false).height() / kMeasureScale; }

QStringList lines(const std::string& s) { return QString::fromStdString(s).split(QLatin1Char('\n')); }

// A label's first line in `first` pt bold, the others in `rest` pt.
QSizeF labelSize(const std::string& label, double first, double rest) {
  if (label.empty()) return {0, 0};
  const QStringList ls = lines(label);
  QSizeF size(textWidth(ls[0], first, true), lineHeight(first));
  for (int i = 1; i < ls.size(); ++i)
    size = QSizeF(std::max(size.width(), textWidth(ls[i], rest)), size.height() + lineHeight(rest));
  return size;
}

// Greedy word wrap with the measuring font, so every format breaks lines at the same words.
QStringList wrap(const std::string& text, double pt, double width) {
  QStringList out;
  QString line;
  for (const QString& word : QString::fromStdString(text).split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
    const QString candidate = line.isEmpty() ? word : line + QLatin1Char(' ') + word;
    if (!line.isEmpty() && textWidth(candidate, pt) > width) {
      out << line;
      line = word;
    } else {
      line = candidate;
    }
  }
  if (!line.isEmpty()) out << line;
  return out;
}

// Text is set at 16x its size under a 1/16 scale, so no device rounds small font sizes: the
// painter's unit is the point, and the font size compensates for the device's own DPI.
void drawText(QPainter& p, const QRectF& r, int flags, const QString& s, double pt, bool bold, const QColor& c) {
  p.save();
  p.scale(1 / kMeasureScale, 1 / kMeasureScale);
  p.setFont(makeFont(pt * kMeasureScale * 72.0 / p.device()->logicalDpiY(), bold));
  p.setPen(c);
  p.drawText(QRectF(r.topLeft() * kMeasureScale, r.size() * kMeasureScale), flags | Qt::TextDontClip, s);
  p.restore();
}

void drawLabel(QPainter& p, const QRectF& r, int align, const std::string& label, double first, double rest) {
  const QStringList ls = lines(label);
  double y = r.top();
  for (int i = 0; i < ls.size(); ++i) {
    const double pt = i == 0 ? first : rest, h = lineHeight(pt);
    drawText(p, QRectF(r.left(), y, r.width(), h), align | Qt::AlignVCenter, ls[i], pt, i == 0, i == 0 ? kInk : kMuted);
    y += h;
  }
}

QRectF fitted(const QRectF& box, double aspect) {
  const double w = std::min(box.width(), box.height() * aspect), h = w / aspect;
  return QRectF(box.center().x() - w / 2, box.center().y() - h / 2, w, h);
}

// Nearest-neighbour upscale so small maps stay crisp in every viewer, then to QImage.
QImage crispImage(const cv::Mat& rgb, double targetPixels) {
  const int factor = std::clamp(int(std::ceil(targetPixels / std::max(rgb.cols, rgb.rows))), 1, 64);
  if (factor == 1) return toQImage(rgb);
  cv::Mat big;
  cv::resize(rgb, big, cv::Size(), factor, factor, cv::INTER_NEAREST);
  return toQImage(big);
}

double rowTilesHeight(const fa::FigureLayout& f, int row) {
  double h = 0;
  for (const auto& c : f.cells[row])
    if (c.kind == fa::CellKind::Tiles)
      h = std::max(h, c.tiles.rows * f.metrics.tileSize + (c.tiles.rows - 1) * f.metrics.tileGap);
  return h > 0 ? h : 3 * f.metrics.tileSize + 2 * f.metrics.tileGap;
}

std::vector<fa::BarTick> ticksOf(const fa::ColorBar& bar, int maxTicks) {
  return bar.ticks.empty() ? fa::niceTicks(bar.range, maxTicks) : bar.ticks;
}

double tickFraction(const fa::ColorBar& bar, double v) {
  const double span = bar.range.hi - bar.range.lo;
  return span > 0 ? std::clamp((v - bar.range.lo) / span, 0.0, 1.0) : 0.5;
}


}  // namespace fs::render::drawing
