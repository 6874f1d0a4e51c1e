#include "analysis/batch_budget.h"

#include "model/environment.h"

#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <tuple>

namespace fs::analysis {
namespace {
// Live values during an inference-only forward, as a multiple of the largest tap (input, output,
// residual and an MLP's hidden layer, 4x wide in Mixer and ResMLP, can be alive together).
constexpr double kLivePerLargestTap = 8.0;
// When the heap cannot be measured (a sanitizer's allocator): activations autograd keeps per
// sample, as a multiple of all tap-sized streams together (measured: ~14x on Mixer-B/16).
constexpr double kSavedPerTapValue = 16.0;
// The backward pass's own buffers (gradients of the activations, freed as it goes) on top of what
// the forward saved: measured peak / saved on ResNet-50 and Mixer-B/16 stayed under 2.
constexpr double kBackwardFactor = 2.0;
constexpr double kBudgetBytes = 1024.0 * 1024.0 * 1024.0;
constexpr int64_t kMaxInferenceBatch = 256;  // beyond this progress and cancel get coarse for no gain
constexpr int64_t kGradientBatch = 16;       // backward passes: at most this many by default
// Inference batches also keep the largest block within 3 MiB, so that a layer's output is still in
// cache when the next layer reads it, but take at least 8 samples, so that a large model's weights
// are still shared by several. Not scaled with the thread count: results differ by batch in their
// last digits, and the same settings give the same numbers with any number of threads or jobs (the
// Evaluate view's workers, evaluate --jobs). Demo models at 112 px (tests/forward_batch): on one
// thread, two processes side by side (evaluate --jobs 2), batches of 10-20 gave 3-25% more images
// per second than the 85 of the 32 MiB rule; on two threads 16-32 were best.
constexpr double kCacheBlockBytes = 3.0 * 1024.0 * 1024.0;
constexpr int64_t kCacheBatchFloor = 8;

double memAvailableBytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    double kb = 0;
    if (fields >> kb) return kb * 1024.0;
  }
  return 0.0;
}

double heapBytes() {
  const struct mallinfo2 info = mallinfo2();
  return double(info.uordblks) + double(info.hblkhd);
}

// What the heap holds after a forward at batch 1 with the autograd graph alive: everything a
// backward pass needs. Measured once per model and input size; 0 when it cannot be measured.
double savedBytesPerSample(LoadedModel& model, int64_t height, int64_t width) {
  static std::mutex mutex;
  static std::map<std::tuple<const void*, std::string, int64_t, int64_t>, double> cache;
  const auto key = std::make_tuple(static_cast<const void*>(model.net.get()), model.config.id, height, width);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  c10::InferenceMode notInference(false);
  c10::AutoGradMode gradients(true);
  const double before = heapBytes();
  double after = before;
  {
    const at::Tensor x = at::zeros({1, 3, height, width}).requires_grad_(true);
    const at::Tensor logits = model.net->forward(x, {}).logits;
    after = heapBytes();
  }
  const double bytes = std::max(0.0, after - before);
  std::lock_guard<std::mutex> lock(mutex);
  cache[key] = bytes;
  return bytes;
}

// Passes CPU allocations through to the allocator it replaces, remembering the largest request.
// Installed only while a probe runs; other threads' allocations in that window count too, which can
// only make the chosen batch smaller. Blocks keep the inner allocator's deleter, so they are freed
// correctly after it is removed. It lives for the whole process: a thread may still hold it.
class LargestAllocation final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t bytes) const override {
    size_t seen = largest.load(std::memory_order_relaxed);
    while (bytes > seen && !largest.compare_exchange_weak(seen, bytes, std::memory_order_relaxed)) {
    }
    return inner->allocate(bytes);
  }
  c10::DeleterFnPtr raw_deleter() const override { return inner->raw_deleter(); }

  c10::Allocator* inner = nullptr;
  mutable std::atomic<size_t> largest{0};
};

// The largest single block an inference-only forward allocates, per sample: measured on a batch
// of 2 after one warm-up at that shape (so that primitive creation and weight reorders, which do
// not grow with the batch, are not counted). Blocks that are not taps (ConvMLP-S's stem output, an
// MLP's 4x-wide hidden layer, the input itself) can be several times the largest tap; a block above
// glibc's mmap threshold is mapped and page-faulted afresh on every batch (convmlp_s: the taps
// allowed 41, the stem's block allows 10, and occlusion went from 22.1 to 18.4 s). Cached per
// model and size; 0 when the model is training (its forward would update BatchNorm statistics).
double largestAllocationPerSample(fs::model::ClassifierImpl& net, const std::string& id, int64_t height,
                                  int64_t width) {
  if (net.is_training()) return 0.0;
  static std::mutex mutex;
  static std::map<std::tuple<const void*, std::string, int64_t, int64_t>, double> cache;
  static LargestAllocation recorder;
  const auto key = std::make_tuple(static_cast<const void*>(&net), id, height, width);
  std::lock_guard<std::mutex> lock(mutex);  // one probe at a time: the recorder is global
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  constexpr int64_t kProbeBatch = 2;
  c10::InferenceMode inference;
  const at::Tensor x = at::zeros({kProbeBatch, 3, height, width});
  net.forward(x, {});
  c10::Allocator* previous = c10::GetCPUAllocator();
  recorder.inner = previous;
  recorder.largest = 0;
  constexpr uint8_t kProbePriority = 255;  // SetCPUAllocator keeps the highest priority seen
  c10::SetCPUAllocator(&recorder, kProbePriority);
  try {
    net.forward(x, {});
  } catch (...) {
    c10::SetCPUAllocator(previous, kProbePriority);
    throw;
  }
  c10::SetCPUAllocator(previous, kProbePriority);
  const double bytes = double(recorder.largest.load()) / double(kProbeBatch);
  cache[key] = bytes;
  return bytes;
}

double areaScale(const fs::model::ModelConfig& config, int64_t height, int64_t width) {
  const auto& spec = config.input;
  return double(height) * double(width) / (double(spec.height) * double(spec.width));
}

double areaScale(const LoadedModel& model, int64_t height, int64_t width) {
  return areaScale(model.config, height, width);
}

// Bytes of the largest tap of one sample at this input size.
double largestTapBytes(const fs::model::ClassifierImpl& net, const fs::model::ModelConfig& config, int64_t height,
                       int64_t width) {
  double largest = 0.0;
  for (const auto& t : net.taps()) largest = std::max(largest, double(t.channels) * t.height * t.width);
  return largest * areaScale(config, height, width) * sizeof(float);
}

double largestTapBytes(const LoadedModel& model, int64_t height, int64_t width) {
  return largestTapBytes(*model.net, model.config, height, width);
}

// FEATURESCOPE_BATCH_RULE: cache (the default) or memory; other values are refused.
bool memoryRuleOnly() {
  return fs::model::environmentChoice("FEATURESCOPE_BATCH_RULE", {"cache", "memory"}) == "memory";
}

}  // namespace

double batchMemoryBudgetBytes() {
  const double available = memAvailableBytes();
  return available > 0 ? std::min(kBudgetBytes, available / 4.0) : kBudgetBytes;
}

int64_t inferenceBatchSize(const LoadedModel& model, int64_t height, int64_t width) {
  const int64_t fromTaps = inferenceBatchSize(*model.net, model.config, height, width);
  const double perSample = largestAllocationPerSample(*model.net, model.config.id, height, width);
  if (perSample <= 0) return fromTaps;
  const int64_t memory = std::clamp<int64_t>(static_cast<int64_t>(double(kLargestTensorBytes) / perSample), 1, fromTaps);
  if (memoryRuleOnly()) return memory;
  return std::min(memory, std::max(kCacheBatchFloor, static_cast<int64_t>(kCacheBlockBytes / perSample)));
}

int64_t inferenceBatchSize(const fs::model::ClassifierImpl& net, const fs::model::ModelConfig& config, int64_t height,
                           int64_t width) {
  const double largest = largestTapBytes(net, config, height, width);
  if (largest <= 0) return kMaxInferenceBatch;
  const double budget = std::min(batchMemoryBudgetBytes() / kLivePerLargestTap, double(kLargestTensorBytes));
  return std::clamp<int64_t>(static_cast<int64_t>(budget / largest), 1, kMaxInferenceBatch);
}

int64_t gradientBatchSize(LoadedModel& model, int64_t height, int64_t width) {
  double values = 0.0;
  for (const auto& t : model.net->taps()) values += double(t.channels) * t.height * t.width;
  const double tapBytes = values * areaScale(model, height, width) * sizeof(float);
  // The graph keeps at least every tap-sized stream (the next layer's saved input); less than that
  // means the heap was not measurable (a sanitizer's allocator serves the tensors).
  const double measured = savedBytesPerSample(model, height, width);
  if (measured >= tapBytes && measured > 0)
    return std::max<int64_t>(1, static_cast<int64_t>(batchMemoryBudgetBytes() / (measured * kBackwardFactor)));
  const double bytes = tapBytes * kSavedPerTapValue;
  if (bytes <= 0) return 1 << 20;
  return std::max<int64_t>(1, static_cast<int64_t>(kBudgetBytes / bytes));
}

int64_t chooseBatchSize(int requested, bool gradients, LoadedModel& model, int64_t height, int64_t width) {
  if (gradients) {
    const int64_t limit = gradientBatchSize(model, height, width);
    if (requested > 0) return std::min<int64_t>(requested, limit);
    const double largest = std::max(largestTapBytes(model, height, width),
                                    largestAllocationPerSample(*model.net, model.config.id, height, width));
    const int64_t unmapped = largest > 0 ? std::max<int64_t>(1, int64_t(double(kLargestTensorBytes) / largest)) : kGradientBatch;
    return std::min({kGradientBatch, limit, unmapped});
  }
  return requested > 0 ? requested : inferenceBatchSize(model, height, width);
}

int64_t balancedBatch(int64_t total, int64_t limit) {
  if (total <= 0 || limit <= 0) return std::max<int64_t>(1, limit);
  const int64_t passes = (total + limit - 1) / limit;
  return (total + passes - 1) / passes;
}

int64_t balancedBatchFor(int64_t total, int requested, bool gradients, LoadedModel& model, int64_t height,
                         int64_t width) {
  return balancedBatch(total, chooseBatchSize(requested, gradients, model, height, width));
}

}  // namespace fs::analysis
