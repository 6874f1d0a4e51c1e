#pragma once
// A colormap's ramp as a Qt gradient: the one way colour bars are painted, in figures
// (render/figure_elements.cpp: vector shading in PDF and SVG) and in the app's map grids
// (ui/map_grid.cpp). Any thread (no QPixmap).
#include "analysis/colormap.h"

#include <QLinearGradient>
#include <QPointF>

namespace fs::render {

// The colormap's 256 entries (fs::analysis::colorBar's ramp) as evenly spaced stops of a linear
// gradient from `low` (the lowest value's colour) to `high`.
QLinearGradient colorRamp(fs::analysis::Colormap map, const QPointF& low, const QPointF& high);

}  // namespace fs::render
