// One batched gradient pass shared by the methods that read it (analysis/saliency/gradient_pass.h).
#include "analysis/saliency/gradient_pass.h"

#include "analysis/batch_budget.h"
#include "analysis/feature_stats.h"
#include "model/errors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <utility>

namespace fs::analysis {
using fs::model::InputError;

GradientPass gradientPass(LoadedModel& model, const at::Tensor& inputs, int target, const std::string& tap,
                          bool inputGradient, int batchSize) {
  if (!inputs.defined() || inputs.dim() != 4 || inputs.size(0) < 1)
    throw InputError("gradient pass: the inputs must be [S,3,H,W]");
  if (target < 0 || target >= model.config.numClasses)
    throw InputError("gradient pass: target class " + std::to_string(target) + " is out of range for " +
                     model.config.id);
  if (tap.empty() && !inputGradient) throw InputError("gradient pass: neither a tap nor the input gradient asked for");
  GradientPass p;
  p.inputs = inputs.detach().to(at::kFloat).contiguous();
  p.target = target, p.tap = tap;
  const int64_t total = p.inputs.size(0);
  const int64_t step =
      balancedBatchFor(total, batchSize, /*gradients=*/true, model, p.inputs.size(2), p.inputs.size(3));
  const std::vector<std::string> taps = tap.empty() ? std::vector<std::string>{} : std::vector{tap};
  std::vector<at::Tensor> acts, tapGrads, inputGrads;
  for (int64_t begin = 0; begin < total; begin += step) {
    const at::Tensor chunk = p.inputs.narrow(0, begin, std::min(step, total - begin));
    TapGradients g = tapGradients(model, chunk, taps, target, inputGradient);  // feature_stats.h
    if (!tap.empty()) acts.push_back(g.activations[0]), tapGrads.push_back(g.gradients[0]);
    if (inputGradient) inputGrads.push_back(g.inputGradient);
  }
  if (!tap.empty()) p.activations = at::cat(acts), p.tapGradients = at::cat(tapGrads);
  if (inputGradient) p.inputGradients = at::cat(inputGrads);
  return p;
}

void requirePass(const GradientPass& pass, int64_t sample, PassUse use, const std::string& method) {
  const bool holds = use == PassUse::Tap ? pass.activations.defined() && pass.tapGradients.defined()
                                         : use == PassUse::Input && pass.inputGradients.defined();
  if (!holds) throw InputError(method + ": the gradient pass does not hold what the method reads");
  if (!pass.inputs.defined() || sample < 0 || sample >= pass.inputs.size(0))
    throw InputError(method + ": no sample " + std::to_string(sample) + " in the gradient pass");
}

GradientPassCache::GradientPassCache(std::string tap, bool inputGradient, int batchSize)
    : tap_(std::move(tap)), inputGradient_(inputGradient), batchSize_(batchSize) {}

const GradientPass& GradientPassCache::get(LoadedModel& model, const at::Tensor& inputs, int target) {
  for (const GradientPass& p : passes_)
    if (p.target == target && p.inputs.sizes() == inputs.sizes() && at::equal(p.inputs, inputs.to(at::kFloat)))
      return p;
  passes_.push_back(gradientPass(model, inputs, target, tap_, inputGradient_, batchSize_));
  return passes_.back();
}

}  // namespace fs::analysis
