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

// Reads the scorecard files (evaluate's or merge's NAME.json), draws them to `out` (.png at `dpi`,
// .pdf, .svg) and writes OUT_STEM.manifest.json: per scorecard its path and SHA-256, the model
// (id, weights and their SHA-256, seed), the methods, metrics, method parameters, curve settings,
// sanity seed and image counts. Returns a one-line description. InputError for unreadable files.
std::string writeScorecardFigure(const std::vector<std::string>& scorecards, const std::string& out, double dpi,
                                 const std::string& title);

}  // namespace fs::app
