#pragma once
// How many samples one batched pass of a model takes: chosen from memory, not a fixed count.
// Gradient-free work (Score-CAM maskings, occlusion windows, deletion/insertion steps) runs through
// the inference path, which keeps only a few activation-sized tensors alive at a time; a pass that
// runs a backward keeps every activation autograd saves.
#include "analysis/memory_limits.h"
#include "analysis/model_loader.h"

#include <cstdint>

namespace fs::analysis {

// The memory one batched pass may use: 1 GiB, or a quarter of MemAvailable when that is less.
double batchMemoryBudgetBytes();

// Samples per inference-only pass for inputs of height x width (>= 1, at most 256): the largest
// activation stays under 32 MiB (glibc's largest mmap threshold, app/process_setup.h) and the
// live activations (8x the largest tap) within the budget. The largest activation is measured:
// the largest block one forward of the model (eval mode) allocates per sample, probed once per
// model and size on a batch of 2; the net-only overload (the trainer's) goes by the taps alone.
// Within that, the batch keeps the largest block under 3 MiB, so that the layers' outputs stay in
// cache, but takes at least 8 samples (a large model's weights are then read once per 8): on the
// demo models at 112 px 15-20 a pass instead of 167-222. The same with any thread count, so that
// results do not change with it. FEATURESCOPE_BATCH_RULE=memory in the environment leaves out this
// cap (the memory rule alone), to compare the two in one build; =cache is the default; other
// values throw InputError.
int64_t inferenceBatchSize(const LoadedModel& model, int64_t height, int64_t width);
int64_t inferenceBatchSize(const fs::model::ClassifierImpl& net, const fs::model::ModelConfig& config, int64_t height,
                           int64_t width);
// Samples per forward+backward pass (>= 1): the budget over twice what the heap holds after one
// forward at batch 1 with the graph alive (measured once per model and size, one forward);
// from the taps' sizes where the heap cannot be measured.
int64_t gradientBatchSize(LoadedModel& model, int64_t height, int64_t width);

// Inference-only: `requested` when positive (an explicit --batch), else inferenceBatchSize().
// Gradients: `requested` within gradientBatchSize(); by default at most 16 and the largest block
// (as measured for inferenceBatchSize) under 32 MiB as well.
int64_t chooseBatchSize(int requested, bool gradients, LoadedModel& model, int64_t height, int64_t width);

// The batch that runs `total` samples in as few passes of at most `limit` as possible, all of
// nearly equal size: 169 occlusion windows at a limit of 167 run as 85 + 84, not 167 + 2.
int64_t balancedBatch(int64_t total, int64_t limit);
// The batch of `total` samples as the saliency methods and metrics run them:
// balancedBatch(total, chooseBatchSize(requested, gradients, ...)).
int64_t balancedBatchFor(int64_t total, int requested, bool gradients, LoadedModel& model, int64_t height,
                         int64_t width);

}  // namespace fs::analysis
