#pragma once
// The input of the commands that run a model on one image: --image (the model's eval transform)
// or --input-npy (an already preprocessed float32 [1,3,H,W] tensor), and for overlays the image
// to draw on with the crop geometry that maps model-input pixels onto it.
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "analysis/saliency/saliency_method.h"
#include "app/cli_args.h"

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

namespace fs::app {

struct CliInput {
  at::Tensor input;                 // float32 [1,3,H,W]
  cv::Mat original;                 // CV_8UC3 RGB: the decoded image, or the denormalised NPY input
  fs::analysis::CropGeometry crop;  // model input -> `original` (identity for --input-npy)
};

// Exactly one of --image / --input-npy (UsageError otherwise); --max-pixels bounds the image.
// NPY inputs are validated against the model (InputError).
at::Tensor loadInput(const fs::analysis::LoadedModel& m, const Args& a);
CliInput loadCliInput(const fs::analysis::LoadedModel& m, const Args& a);

// The method options shared by `saliency`, `export` and `figure` (--samples --sigma --steps
// --baseline --window --stride --seed, a method's own --param NAME=VALUE, --batch --tap); the
// target is resolved by each command. Ranges from analysis/saliency/method_parameters.h.
fs::analysis::SaliencyOptions saliencyOptionsFromArgs(const Args& a, const std::string& command);
// The option names saliencyOptionsFromArgs reads, for a command's option list.
std::vector<std::string> saliencyOptionNames();
// --help text listing the registered methods (CAMs on a tap, then input attributions) and every
// method parameter with its default and range, from the registries: a new method needs no edit here.
std::string saliencyMethodsHelp();

// The decodable images of `dir` (analysis::listImageFiles order), at most `limit` when > 0;
// undecodable files are skipped with a warning. InputError for a missing or image-less folder.
std::vector<cv::Mat> loadImageFolder(const std::string& dir, int limit);

}  // namespace fs::app
