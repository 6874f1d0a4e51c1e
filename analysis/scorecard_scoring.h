#pragma once
// The per-image work of a scorecard run (analysis/scorecard.cpp): one method's maps and metrics on
// one image, and what the image's methods share (the gradient passes of max-sensitivity's
// re-explanations, saliency/gradient_pass.h). Internal to the scorecard; not part of its interface.
#include "analysis/evaluation/metric.h"
#include "analysis/model_loader.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/scorecard.h"

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fs::analysis::scoring {

// The metrics the scorecard computes itself rather than through the metric registry (metric.h).
inline bool legacyMetric(const std::string& name) {
  return name == "deletion" || name == "insertion" || name == "drop" || name == "sanity" || name == "random_logit";
}

// One image as the model sees it, its mask (undefined unless a metric needs one) and its index.
struct ScoredImage {
  at::Tensor input;
  at::Tensor mask;
  size_t index = 0;
};

// What the image's gradient passes keep (saliency/gradient_pass.h): the CAM tap when a method reads
// it, the input gradient when a method reads that. One cache per image, in its memo, serves every
// such method's re-explanations of the same inputs.
struct PassPlan {
  std::string tap;
  bool inputGradient = false;
};
PassPlan passPlan(const LoadedModel& m, const std::vector<std::unique_ptr<SaliencyMethod>>& methods,
                  const SaliencyOptions& o);

// The displayed maps [S,h,w] of `method` (max-sensitivity's re-explanations): for inputs ys
// [S,3,H,W] each explained by compute(), or for every input of one gradient pass, read off it
// (mapFromPass). A scorecard takes the second for the methods that read a pass.
at::Tensor mapsByCompute(LoadedModel& m, SaliencyMethod& method, const SaliencyOptions& opts, const at::Tensor& ys);
at::Tensor mapsFromPass(const SaliencyMethod& method, const GradientPass& pass);

// One method's metrics on one image, target = the top-1 prediction; every metric ranks the
// displayed map (map2d). Registered metrics draw their noise from seed + image index, and keep what
// depends on the image alone in `memo` for the image's other methods. The wall time of each step
// (the explanation, each metric) is added to seconds[step].
nlohmann::json scoreMethod(LoadedModel& m, const ScoredImage& img, int target, SaliencyMethod& method,
                           const ScorecardOptions& o, const PassPlan& plan, MetricMemo& memo,
                           std::map<std::string, double>& seconds);

}  // namespace fs::analysis::scoring
