#pragma once
// The Saliency view's sanity cascade (issue 14; Adebayo et al. 2018, "Sanity Checks for Saliency
// Maps", NeurIPS, sec. 3.1, Figure 2) for the current image, one slot and one method: the map as the
// model's units are randomised from the logits down, cascading (or independent: one unit at a time),
// and its similarity to the original map (Spearman, |Spearman|, SSIM, HOG) after each unit. Progress
// after each unit; a cancel stops within one unit. Computed by analysis::runSanityCascade, the
// same function as `featurescope-cli sanity`, with its figures (the rows of maps and the curves).
// Torch-free header.
#include "analysis/figure_layout.h"
#include "analysis/saliency/method_parameters.h"
#include "service/types.h"

#include <opencv2/core/mat.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace fs::service {

class SlotStore;

struct SanityCascadeRequest {
  int slot = 0;
  std::string method = "gradcam";
  fs::analysis::MethodParameters parameters;  // the method's parameters (sanity's saliency options)
  uint64_t seed = 0;                          // sanity --seed: the fresh model's initialisation
  std::string mode = "cascading";             // sanity --mode: cascading or independent
};

struct SanityCascadeMaps {
  int slot = 0;
  std::string modelId, method, title, image;
  std::string mode;                      // cascading or independent
  std::vector<std::string> units;        // randomised in this order (the head first)
  std::vector<cv::Mat> maps;             // [0 = original, k = after units 0..k-1], CV_32F at the input size
  DisplaySettings display;               // the method's display convention
  std::vector<std::string> keys;         // spearman, spearman_abs, ssim, hog
  std::vector<std::vector<double>> similarity;  // [key][unit]: to the original map; NaN when undefined
  fs::analysis::FigureLayout figure;     // the paper's Figure 2: one row, the maps left to right
  fs::analysis::FigureLayout curves;     // similarity vs randomised units, one panel per similarity
  bool cancelled = false;                // stopped by the cancel flag: nothing else is filled in
};

class SanityService {
 public:
  explicit SanityService(SlotStore& store) : store_(store) {}
  // InputError without an image, for an unknown method or mode, or a method that does not apply
  // to the model. progress: after each randomised unit; cancel: checked before each unit.
  SanityCascadeMaps cascade(const SanityCascadeRequest& request, const SessionProgress& progress = {},
                            const std::atomic<bool>* cancel = nullptr);

 private:
  SlotStore& store_;
};

}  // namespace fs::service
