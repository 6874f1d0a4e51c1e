#pragma once
// One forward and one backward of the target's logit for a batch of inputs, and the maps of the
// methods that are a function of that pass alone: the gradient-weighted CAMs (gradient_cam.h: the
// tap's activations A and gradients G), the input gradient and gradient x input (dS_c/dx).
// A scorecard's max-sensitivity (evaluation/robustness.h) explains the same perturbed inputs with
// each of its methods; those methods take their maps from one batched pass over the inputs
// (GradientPassCache, one per image) instead of one pass per method and input. Each map equals the
// method's own compute() on that input up to the rounding of a batched kernel
// (tests/analysis/gradient_pass_test.cpp); the samples are independent of each other (eval mode).
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fs::analysis {

struct GradientPass {
  at::Tensor inputs;          // [S,3,H,W], float32
  int target = 0;
  std::string tap;            // empty: no tap kept
  at::Tensor activations;     // [S,C,h,w] at the tap (undefined without one)
  at::Tensor tapGradients;    // d logit[target] / d activations, [S,C,h,w]
  at::Tensor inputGradients;  // d logit[target] / d inputs, [S,3,H,W] (undefined unless asked for)
};

// What a method reads from a pass (SaliencyMethod::passUse): nothing (it needs more than one
// pass, or none), the tap's activations and gradients, or the input's gradient.
enum class PassUse { None, Tap, Input };

// The pass over `inputs` [S,3,H,W] for class `target` (>= 0), keeping `tap` (empty: none) and the
// inputs' gradient when `inputGradient`; in chunks of at most the gradient batch
// (batch_budget.h's chooseBatchSize for `batchSize`, 0 = from memory).
GradientPass gradientPass(LoadedModel& model, const at::Tensor& inputs, int target, const std::string& tap,
                          bool inputGradient, int batchSize = 0);

// InputError unless `pass` holds what `use` reads and a sample `sample` (for `method`'s message).
void requirePass(const GradientPass& pass, int64_t sample, PassUse use, const std::string& method);

// One image's passes, by their inputs (compared by value) and target; every pass keeps the same tap
// and the input gradient or not, as the image's methods need (fixed at construction). One thread's.
class GradientPassCache {
 public:
  GradientPassCache(std::string tap, bool inputGradient, int batchSize = 0);
  // The pass over `inputs` for `target`, computed the first time it is asked for.
  const GradientPass& get(LoadedModel& model, const at::Tensor& inputs, int target);
  size_t size() const { return passes_.size(); }

 private:
  std::string tap_;
  bool inputGradient_ = false;
  int batchSize_ = 0;
  std::vector<GradientPass> passes_;
};

}  // namespace fs::analysis
