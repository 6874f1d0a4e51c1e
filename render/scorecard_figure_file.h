#pragma once
// The scorecard figure (analysis/scorecard_figure.h) of evaluate's scorecard files, written to
// PNG/PDF/SVG with OUT_STEM.manifest.json beside it. One writer for featurescope-cli (evaluate
// --figure, scorecard-figure) and the desktop app's Evaluate view (Save scorecard), so the same
// files give the same figure and manifest. Needs a QGuiApplication (fonts), like FigureRenderer.
#include <string>
#include <vector>

namespace fs::render {

// Reads the scorecard files (evaluate's or merge's NAME.json), draws them to `out` (.png at `dpi`,
// .pdf, .svg) and writes OUT_STEM.manifest.json: `tool` (the program that wrote it), per scorecard
// its path and SHA-256, the model (id, weights and their SHA-256, seed), the methods, metrics,
// method parameters, curve settings, sanity seed and image counts. Returns "wrote OUT (W x H pt)
// and MANIFEST". InputError for an unknown extension (before any work) or an unreadable scorecard.
std::string writeScorecardFigure(const std::vector<std::string>& scorecards, const std::string& out, double dpi,
                                 const std::string& title, const std::string& tool);

}  // namespace fs::render
