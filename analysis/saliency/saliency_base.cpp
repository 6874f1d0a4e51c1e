#include "analysis/saliency/saliency_base.h"

#include "analysis/feature_stats.h"

#include "analysis/batch_budget.h"
#include "analysis/inference.h"
#include "analysis/saliency/prefix_token_caveat.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>

namespace fs::analysis {
using fs::model::InputError;

namespace {
void checkTarget(const LoadedModel& model, int target) {
  const int classes = model.config.numClasses;
  if (target < -1 || target >= classes)
    throw InputError("target class " + std::to_string(target) + " is out of range for " + model.config.id + " (" +
                     std::to_string(classes) + " classes: 0.." + std::to_string(classes - 1) + ")");
}
}  // namespace

std::string resolveTap(const LoadedModel& model, const std::string& requested) {
  if (requested.empty()) return model.net->camTap();
  return findTap(model, requested).name;  // InputError listing the valid taps
}

void SaliencyContext::report(double fraction) const {
  if (progress) progress(std::clamp(fraction, 0.0, 1.0));
}

int SaliencyContext::resolveTarget(const at::Tensor& logits) {
  if (target < 0) target = static_cast<int>(logits[0].argmax().item<int64_t>());
  return target;
}

SaliencyResult SaliencyBase::compute(LoadedModel& model, const at::Tensor& input, const SaliencyOptions& options,
                                     const ProgressFn& progress, const std::atomic<bool>* cancel) {
  validateInput(model, input, "saliency input");
  checkTarget(model, options.target);
  if (options.batchSize < 0) throw InputError("saliency: batch size must be >= 0 (0 = chosen from memory)");
  c10::InferenceMode notInference(false);
  c10::AutoGradMode gradMode(true);
  SaliencyContext ctx{model, input.detach().clone(), options, usesTap() ? resolveTap(model, options.tap) : "",
                      options.target, progress, cancel, {}};
  SaliencyResult result;
  result.method = name();
  result.tap = ctx.tap;
  result.inputAttribution = !usesTap();
  const at::Tensor map = ctx.cancelled() ? at::Tensor() : run(ctx);
  result.target = ctx.target;
  result.caveat = ctx.caveat;
  if (!map.defined()) return result;
  result.map = map.detach().to(at::kFloat).contiguous();
  // An exactly-zero map in a model with prefix tokens: that is the caveat, before any other.
  if (std::string zero = usesTap() ? prefixTokenZeroMapCaveat(model, ctx.tap, result.map) : ""; !zero.empty()) result.caveat = zero;
  result.map2d = map2dOf(result.map);
  ctx.report(1.0);
  return result;
}

SaliencyBase::TapGradient SaliencyBase::tapGradient(SaliencyContext& ctx) {
  const TapGradients g = tapGradients(ctx.model, ctx.input, {ctx.tap}, ctx.target);  // feature_stats.h
  ctx.target = g.target;
  return {g.activations[0][0], g.gradients[0][0]};
}

at::Tensor SaliencyBase::tapActivations(SaliencyContext& ctx) {
  c10::NoGradGuard noGrad;
  const fs::model::ForwardResult r = ctx.model.net->forward(ctx.input, {ctx.tap});
  ctx.resolveTarget(r.logits);
  return r.taps.at(ctx.tap)[0].contiguous();
}

at::Tensor SaliencyBase::map2dOf(const at::Tensor& raw) const {
  return attributionToMap(raw.detach().to(at::kFloat).contiguous(), convention().reduction).contiguous();
}

at::Tensor SaliencyBase::inputGradient(SaliencyContext& ctx, const at::Tensor& batch) {
  const at::Tensor x = batch.detach().requires_grad_(true);
  const at::Tensor logits = ctx.model.net->forward(x, {}).logits;
  const int t = ctx.resolveTarget(logits);
  // NCHW: on a gradient handed back channels-last (oneDNN's backward kernels) the methods' own
  // broadcasting ops are about 20x slower (a [32,3,112,112] times [32,1,1,1]: 1.6 against 0.07 ms).
  return torch::autograd::grad({logits.select(1, t).sum()}, {x})[0].contiguous();
}

at::Tensor SaliencyBase::logitsOf(SaliencyContext& ctx, const at::Tensor& batch) {
  c10::NoGradGuard noGrad;
  return ctx.model.net->forward(batch, {}).logits;
}

void SaliencyBase::ensureTarget(SaliencyContext& ctx) {
  if (ctx.target < 0) ctx.resolveTarget(logitsOf(ctx, ctx.input));
}

bool SaliencyBase::forEachBatch(SaliencyContext& ctx, int64_t total, bool gradients,
                                const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t step =
      balancedBatchFor(total, ctx.options.batchSize, gradients, ctx.model, ctx.input.size(2), ctx.input.size(3));
  for (int64_t begin = 0; begin < total; begin += step) {
    if (ctx.cancelled()) return false;
    const int64_t end = std::min(total, begin + step);
    fn(begin, end);
    ctx.report(static_cast<double>(end) / static_cast<double>(total));
  }
  return !ctx.cancelled();
}

}  // namespace fs::analysis
