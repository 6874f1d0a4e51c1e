#pragma once
// Saving the Evaluate view's scorecard as `featurescope-cli evaluate --out ... --figure FIG` leaves
// it: each model's scorecard files copied beside the figure, and the figure with its manifest drawn
// from those copies by the CLI's writer (render/scorecard_figure_file.h). GUI thread only (fonts).
#include "render/figure_renderer.h"
#include "service/evaluation_service.h"

#include <QString>
#include <QStringList>

namespace fs::ui {

// Writes FIG_STEM.slotN.ID.json with .rows.csv, .summary.csv and .agreement.csv for every scored
// model of `result`, then FIG (.png at `dpi`, .pdf or .svg, as evaluate --figure and
// scorecard-figure --dpi) and FIG_STEM.manifest.json. Returns the files written. InputError naming
// the file and the reason for an unknown extension, a resolution outside 10-1200 dpi (checkDpi), a result
// without files, or a file that cannot be read or written; the files this call wrote are removed
// again then.
QStringList saveScorecard(const fs::service::EvaluationResult& result, const QString& figurePath,
                          double dpi = fs::render::kDefaultDpi);

}  // namespace fs::ui
