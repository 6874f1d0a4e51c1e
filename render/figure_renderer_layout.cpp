// FigureRenderer's geometry (figure_renderer.h): every box of the figure in points, computed once
// from the layout and unhinted font metrics, so that painting (figure_renderer.cpp) is the same for
// PNG, PDF and SVG.
#include "render/figure_renderer.h"

#include "render/figure_drawing.h"

#include <QString>

#include <algorithm>
#include <cmath>

namespace fs::render {
namespace fa = fs::analysis;
using namespace drawing;

namespace {
constexpr double kLegendGap = 10.0;  // points between legend entries

double legendEntryWidth(const fa::LegendEntry& e, double pt) {
  return kLegendSwatch + kLegendSwatchGap + textWidth(QString::fromStdString(e.label), pt);
}
}  // namespace

FigureRenderer::FigureRenderer(fa::FigureLayout layout) : layout_(std::move(layout)) {
  fa::validateFigureLayout(layout_);
  layOut();
}

void FigureRenderer::layOut() {
  const auto& m = layout_.metrics;
  double labelWidth = 0;
  for (const auto& l : layout_.rowLabels)
    labelWidth = std::max(labelWidth, labelSize(l, m.headerFont, m.noteFont).width());
  labelWidth_ = labelWidth > 0 ? labelWidth + 6 : 0;
  headerHeight_ = 0;
  for (const auto& l : layout_.columnLabels)
    headerHeight_ = std::max(headerHeight_, labelSize(l, m.headerFont, m.noteFont).height());
  layOutColumns(labelWidth_);
  double width = (colX_.empty() ? m.margin + labelWidth_ : colX_.back() + colW_.back()) + rowBarWidth_ + m.margin;
  width = std::max(width, textWidth(QString::fromStdString(layout_.title), m.titleFont, true) + 2 * m.margin);
  if (layout_.sharedBar)
    width = std::max(width, 2 * m.margin + m.barLength + 6 +
                                textWidth(QString::fromStdString(layout_.sharedBar->label), m.noteFont));
  for (const fa::LegendEntry& e : layout_.legend)
    width = std::max(width, legendEntryWidth(e, m.captionFont) + 2 * m.margin);
  double y = m.margin;
  if (!layout_.title.empty()) y += lineHeight(m.titleFont) + 3;
  if (!layout_.legend.empty()) y = layOutLegend(y, width) + 3;
  headerTop_ = y;
  y = layOutRows(y + headerHeight_ + 3);
  const double barBlock = m.barThickness + 1.5 + lineHeight(m.tickFont);
  if (std::any_of(layout_.columnBars.begin(), layout_.columnBars.end(), [](const auto& b) { return b.has_value(); })) {
    columnBarY_ = y + 2;
    y = columnBarY_ + barBlock + lineHeight(m.noteFont);
  }
  if (layout_.sharedBar) {
    sharedBarY_ = y + 4;
    y = sharedBarY_ + barBlock;
  }
  if (!layout_.caption.empty()) {
    captionLines_ = wrap(layout_.caption, m.captionFont, width - 2 * m.margin);
    captionRect_ = QRectF(m.margin, y + 5, width - 2 * m.margin, captionLines_.size() * lineHeight(m.captionFont));
    y = captionRect_.bottom();
  }
  size_ = QSizeF(std::ceil(width), std::ceil(y + m.margin));
}

// The legend's entries left to right from y, a new line when the next would pass the margin,
// each line centred; returns the bottom.
double FigureRenderer::layOutLegend(double y, double width) {
  const auto& m = layout_.metrics;
  const double lh = lineHeight(m.captionFont) + 2, room = width - 2 * m.margin;
  legendBoxes_.assign(layout_.legend.size(), QRectF());
  size_t first = 0;
  while (first < layout_.legend.size()) {
    size_t end = first;
    double lineWidth = 0;
    while (end < layout_.legend.size()) {
      const double w = legendEntryWidth(layout_.legend[end], m.captionFont);
      if (end > first && lineWidth + kLegendGap + w > room) break;
      lineWidth += (end > first ? kLegendGap : 0) + w;
      ++end;
    }
    double x = m.margin + (room - lineWidth) / 2;
    for (size_t i = first; i < end; ++i) {
      const double w = legendEntryWidth(layout_.legend[i], m.captionFont);
      legendBoxes_[i] = QRectF(x, y, w, lh);
      x += w + kLegendGap;
    }
    y += lh;
    first = end;
  }
  return y;
}

QSizeF FigureRenderer::naturalSize(const fa::FigureCell& cell, double rowTilesHeight) const {
  const auto& m = layout_.metrics;
  if (cell.kind == fa::CellKind::Tiles) {
    const auto& t = cell.tiles;
    return {t.cols * m.tileSize + (t.cols - 1) * m.tileGap, t.rows * m.tileSize + (t.rows - 1) * m.tileGap};
  }
  if (cell.kind == fa::CellKind::Overlay)
    return {rowTilesHeight * cell.overlay.rgb.cols / cell.overlay.rgb.rows, rowTilesHeight};
  if (cell.kind == fa::CellKind::Plot) return {rowTilesHeight * cell.plot.aspect, rowTilesHeight};
  return {0, 0};
}

void FigureRenderer::layOutColumns(double labelWidth) {
  const auto& m = layout_.metrics;
  const int cols = layout_.columnCount();
  colX_.assign(cols, 0);
  colW_.assign(cols, 0);
  double x = m.margin + labelWidth;
  for (int c = 0; c < cols; ++c) {
    double w = labelSize(layout_.columnLabels[c], m.headerFont, m.noteFont).width();
    for (int r = 0; r < layout_.rowCount(); ++r) {
      const auto& cell = layout_.cells[r][c];
      w = std::max({w, naturalSize(cell, rowTilesHeight(layout_, r)).width(),
                    textWidth(QString::fromStdString(cell.note), m.noteFont)});
    }
    colX_[c] = x;
    colW_[c] = w;
    x += w + m.columnGap;
  }
  rowBarWidth_ = 0;
  for (const auto& bar : layout_.rowBars) {
    if (!bar) continue;
    double ticks = 0;
    for (const auto& t : ticksOf(*bar, 5))
      ticks = std::max(ticks, textWidth(QString::fromStdString(t.label), m.tickFont));
    rowBarWidth_ = std::max(rowBarWidth_, 6 + m.barThickness + 2 + ticks);
  }
}

double FigureRenderer::layOutRows(double y) {
  const auto& m = layout_.metrics;
  const double noteH = lineHeight(m.noteFont), barH = m.barThickness + 1.5 + lineHeight(m.tickFont);
  rows_.assign(layout_.rowCount(), RowBox{});
  cellRects_.assign(layout_.rowCount(), std::vector<QRectF>(layout_.columnCount()));
  for (int r = 0; r < layout_.rowCount(); ++r) {
    RowBox& box = rows_[r];
    const double tilesH = rowTilesHeight(layout_, r);
    bool notes = false, bars = false;
    for (const auto& cell : layout_.cells[r]) {
      box.content = std::max(box.content, naturalSize(cell, tilesH).height());
      notes |= !cell.note.empty();
      bars |= cell.bar.has_value();
    }
    box.top = r == 0 ? y : rows_[r - 1].bottom + m.rowGap;
    box.noteY = box.top + box.content + 1;
    box.barY = box.noteY + (notes ? noteH : 0) + (bars ? 1 : 0);
    box.bottom = box.barY + (bars ? barH : 0);
    for (int c = 0; c < layout_.columnCount(); ++c) {
      const QSizeF s = naturalSize(layout_.cells[r][c], tilesH);
      cellRects_[r][c] = QRectF(colX_[c] + (colW_[c] - s.width()) / 2, box.top + (box.content - s.height()) / 2,
                                s.width(), s.height());
    }
  }
  return rows_.empty() ? y : rows_.back().bottom;
}

QSize FigureRenderer::pixelSize(double dpi) const {
  return QSize(int(std::ceil(size_.width() * dpi / 72.0 - 1e-9)), int(std::ceil(size_.height() * dpi / 72.0 - 1e-9)));
}

}  // namespace fs::render
