#include "analysis/batch_budget.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace fs::analysis {
namespace {
// Live values during an inference-only forward, as a multiple of the largest tap (input, output,
// residual and an MLP's hidden layer, 4x wide in Mixer and ResMLP, can be alive together).
constexpr double kLivePerLargestTap = 8.0;
// Activations autograd keeps per sample for a backward pass, as a multiple of all tap-sized
// streams together (measured: ~14x on Mixer-B/16).
constexpr double kSavedPerTapValue = 16.0;
constexpr double kBudgetBytes = 1024.0 * 1024.0 * 1024.0;
constexpr int64_t kMaxInferenceBatch = 256;  // beyond this progress and cancel get coarse for no gain
constexpr int64_t kGradientBatch = 16;       // backward passes: larger batches were not faster per sample

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

double areaScale(const LoadedModel& model, int64_t height, int64_t width) {
  const auto& spec = model.config.input;
  return double(height) * double(width) / (double(spec.height) * double(spec.width));
}
}  // namespace

double batchMemoryBudgetBytes() {
  const double available = memAvailableBytes();
  return available > 0 ? std::min(kBudgetBytes, available / 4.0) : kBudgetBytes;
}

int64_t inferenceBatchSize(const LoadedModel& model, int64_t height, int64_t width) {
  double largest = 0.0;
  for (const auto& t : model.net->taps()) largest = std::max(largest, double(t.channels) * t.height * t.width);
  const double bytes = largest * areaScale(model, height, width) * sizeof(float) * kLivePerLargestTap;
  if (bytes <= 0) return kMaxInferenceBatch;
  return std::clamp<int64_t>(static_cast<int64_t>(batchMemoryBudgetBytes() / bytes), 1, kMaxInferenceBatch);
}

int64_t gradientBatchSize(const LoadedModel& model, int64_t height, int64_t width) {
  double values = 0.0;
  for (const auto& t : model.net->taps()) values += double(t.channels) * t.height * t.width;
  const double bytes = values * areaScale(model, height, width) * sizeof(float) * kSavedPerTapValue;
  if (bytes <= 0) return 1 << 20;
  return std::max<int64_t>(1, static_cast<int64_t>(kBudgetBytes / bytes));
}

int64_t chooseBatchSize(int requested, bool gradients, const LoadedModel& model, int64_t height, int64_t width) {
  if (gradients) {
    const int64_t limit = gradientBatchSize(model, height, width);
    return std::min<int64_t>(requested > 0 ? requested : kGradientBatch, limit);
  }
  return requested > 0 ? requested : inferenceBatchSize(model, height, width);
}

}  // namespace fs::analysis
