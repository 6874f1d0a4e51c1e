#pragma once
// The scorecard figure of featurescope-cli evaluate (issue 14): rows = model x method, columns = the
// metrics; each cell draws the mean (a dot, coloured and placed on the column's scale, the colour
// bar under the column) and the percentile-bootstrap 95% CI (the line) of that metric over the
// images, with the numbers and the rank under it; then per model the agreement matrix, Kendall's
// tau-b between the metrics' method rankings (rows = metric i, columns = metric j, diverging
// colours on [-1, 1]). Built from the scorecard files alone (scorecard.h: the header's "methods"
// and "aggregate"."statistics", scorecard_statistics.h), so a merged run draws the same figure.
// Torch-free data (figure_layout.h), drawn by render/figure_renderer.h.
#include "analysis/figure_layout.h"

#include <string>
#include <vector>

namespace fs::analysis {

struct ScorecardFigureInput {
  std::string label;     // the model's row label (its id)
  std::string scorecard; // the scorecard file's JSON text (NAME.json of evaluate or merge)
  std::string source;    // its path, for errors
};

// InputError naming the source when a scorecard has no statistics (no done images) or is not a
// scorecard. Metrics: the union over the scorecards, in first-seen order.
FigureLayout buildScorecardFigure(const std::vector<ScorecardFigureInput>& scorecards, const std::string& title);

}  // namespace fs::analysis
