#pragma once
// What the feature-visualisation commands (atlas, erf, exemplars) share: loading the model
// arguments, the weights' fingerprint, rendering a figure headless, and the output file names.
#include "analysis/features/image_source.h"
#include "analysis/figure_layout.h"
#include "analysis/model_loader.h"
#include "app/cli_args.h"

#include <string>
#include <vector>

namespace fs::app {

uint64_t featvisSeed(const Args& a);

// Exactly one of --dataset fashion-mnist (the test set; --dataset-dir overrides its folder) or
// --images DIR (UsageError otherwise); --limit N keeps the first N images (0: all).
fs::analysis::ImageSource imageSourceFromArgs(const Args& a, const std::string& command, int defaultLimit);

// "T1,T2" -> taps; empty when the option is absent.
std::vector<std::string> tapList(const Args& a);

// SHA-256 of the checkpoint file, or "random-init-seed-<seed>" for a seeded initialisation.
std::string weightsFingerprint(const fs::analysis::LoadedModel& m);

// OUT without its extension: "dir/fig.png" -> "dir/fig" (manifest and NPY files go beside it).
std::string outputStem(const std::string& out);

// Renders the layout to PNG/PDF/SVG by extension (a headless QGuiApplication when none exists)
// and returns a one-line description ("wrote F (W x H pt)").
std::string renderFigure(fs::analysis::FigureLayout layout, const std::string& out, double dpi);

}  // namespace fs::app
