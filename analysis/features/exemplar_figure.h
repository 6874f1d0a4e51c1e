#pragma once
// The exemplar index as a figure: one row per channel (the first `channels` of each tap), one
// column per rank; each cell the receptive-field crop of the exemplar image around the channel's
// argmax (centred on it unless the image edge clips it), as the model saw it.
#include "analysis/features/exemplars.h"
#include "analysis/features/image_source.h"
#include "analysis/figure_layout.h"

namespace fs::analysis {

// `source` must be the index's data set (InputError when its hash differs).
FigureLayout exemplarFigure(const ExemplarIndex& index, const ImageSource& source, const fs::model::InputSpec& spec,
                            int channels);

}  // namespace fs::analysis
