#pragma once
// The scorecard figure of evaluate (analysis/scorecard_figure.h) written to PNG/PDF/SVG with a
// manifest: used by `evaluate --figure` and `scorecard-figure`.
#include "analysis/figure_layout.h"

#include <string>
#include <vector>

namespace fs::app {

// Draws `layout` to `out` (.png at `dpi`, .pdf, .svg) with a headless QGuiApplication (offscreen
// unless QT_QPA_PLATFORM says otherwise) when none exists. Returns the size in points as "W x H pt".
std::string writeFigure(const fs::analysis::FigureLayout& layout, const std::string& out, double dpi);

// render::writeScorecardFigure (the figure and OUT_STEM.manifest.json, as the desktop app's
// Evaluate view writes them) with a headless QGuiApplication when none exists.
std::string writeScorecardFigure(const std::vector<std::string>& scorecards, const std::string& out, double dpi,
                                 const std::string& title);

}  // namespace fs::app
