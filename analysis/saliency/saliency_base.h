#pragma once
// The shared work of every saliency method (pytorch-grad-cam's BaseCAM): input and target checks,
// tap resolution, autograd guards, batching with progress and cancel. A method implements run().
// Runs on the calling thread; the context lives for one compute() call.
#include "analysis/saliency/saliency_method.h"

#include <cstdint>
#include <functional>
#include <string>

namespace fs::analysis {

// What one compute() call works on. `input` is a private, non-inference copy [1,3,H,W].
struct SaliencyContext {
  LoadedModel& model;
  at::Tensor input;
  const SaliencyOptions& options;
  std::string tap;   // resolved tap (CAM methods), else empty
  int target = -1;   // -1 until resolveTarget() has seen logits of the clean input
  const ProgressFn& progress;
  const std::atomic<bool>* cancel = nullptr;
  std::string caveat;  // set by a method whose assumptions the input breaks (SaliencyResult::caveat)

  bool cancelled() const { return cancel && cancel->load(); }
  void report(double fraction) const;
  // Keeps an explicit target; otherwise the argmax of logits row 0 ([B,K]).
  int resolveTarget(const at::Tensor& logits);
};

class SaliencyBase : public SaliencyMethod {
 public:
  // Activations at the tap and d logit[target] / d activations, batch dimension removed: [C,h,w].
  // (Nested: feature_stats.h has an fs::analysis::TapGradient of its own, [1,C,H,W] with the target.)
  struct TapGradient {
    at::Tensor activations;
    at::Tensor gradient;
  };

  SaliencyResult compute(LoadedModel& model, const at::Tensor& input, const SaliencyOptions& options,
                         const ProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr) final;

 protected:
  // The raw map; an undefined tensor when the context was cancelled.
  virtual at::Tensor run(SaliencyContext& ctx) = 0;

  // One forward with the tap kept and one backward from logit[target] to the tap.
  static TapGradient tapGradient(SaliencyContext& ctx);
  // The tap's activations [C,h,w] without autograd; resolves the target from the same forward.
  static at::Tensor tapActivations(SaliencyContext& ctx);
  // d logit[target] / d x for every sample of `batch` [B,3,H,W] (samples are independent in eval
  // mode). An unresolved target is taken from row 0, so pass the clean input first in that case.
  static at::Tensor inputGradient(SaliencyContext& ctx, const at::Tensor& batch);
  // Logits [B,K] without autograd.
  static at::Tensor logitsOf(SaliencyContext& ctx, const at::Tensor& batch);
  // A raw map as compute() finishes it into SaliencyResult::map2d: float32, reduced by the
  // method's convention (attributionToMap), contiguous; for mapFromPass as well.
  at::Tensor map2dOf(const at::Tensor& raw) const;
  // Resolves the target from the clean input when it is still -1.
  static void ensureTarget(SaliencyContext& ctx);
  // Calls fn(begin, end) over [0, total) in balanced chunks of at most chooseBatchSize() samples
  // (batch_budget.h: options.batchSize, or from memory when 0), reporting progress after each chunk. Returns false
  // (having stopped) as soon as the cancel flag is seen.
  static bool forEachBatch(SaliencyContext& ctx, int64_t total, bool gradients,
                           const std::function<void(int64_t, int64_t)>& fn);
};

// The tap a CAM method uses: `requested`, or the model's CAM tap (ClassifierImpl::camTap, the
// output of the last block or stage) when empty. InputError with
// the valid taps when unknown.
std::string resolveTap(const LoadedModel& model, const std::string& requested);

}  // namespace fs::analysis
