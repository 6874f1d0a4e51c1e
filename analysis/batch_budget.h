#pragma once
// How many samples one batched pass of a model takes: chosen from memory, not a fixed count.
// Gradient-free work (Score-CAM maskings, occlusion windows, deletion/insertion steps) runs through
// the inference path, which keeps only a few activation-sized tensors alive at a time; a pass that
// runs a backward keeps every activation autograd saves. Both estimates come from the taps' sizes.
#include "analysis/model_loader.h"

#include <cstdint>

namespace fs::analysis {

// The memory one batched pass may use: 1 GiB, or a quarter of MemAvailable when that is less.
double batchMemoryBudgetBytes();

// Samples per inference-only pass for inputs of height x width (>= 1, at most 256).
int64_t inferenceBatchSize(const LoadedModel& model, int64_t height, int64_t width);
// Samples per forward+backward pass (>= 1; Mixer-B/16 at 224: 8).
int64_t gradientBatchSize(const LoadedModel& model, int64_t height, int64_t width);

// Inference-only: `requested` when positive (an explicit --batch), else inferenceBatchSize().
// Gradients: `requested` (default 16) within gradientBatchSize().
int64_t chooseBatchSize(int requested, bool gradients, const LoadedModel& model, int64_t height, int64_t width);

}  // namespace fs::analysis
