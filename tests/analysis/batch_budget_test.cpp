// Batch sizes come from memory, not a fixed 16: small models get large batches, full-size models
// batches that fit the budget, larger inputs smaller batches; gradient passes keep the old bound.
// Inference batches are then held to the cache's share per intra-op thread (at least 8).
#include "analysis/batch_budget.h"
#include "analysis/memory_limits.h"
#include "analysis/model_loader.h"
#include "app/process_setup.h"
#include "model/errors.h"
#include "model/threads.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <cmath>
#include <cstdlib>
#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace fs::analysis {
namespace {

// The memory rule alone, as FEATURESCOPE_BATCH_RULE=memory selects it, for the tests of that rule.
struct MemoryRuleOnly {
  MemoryRuleOnly() { setenv("FEATURESCOPE_BATCH_RULE", "memory", 1); }
  ~MemoryRuleOnly() { unsetenv("FEATURESCOPE_BATCH_RULE"); }
};

TEST(BatchBudget, InferenceBatchesFollowTheActivationSize) {
  const MemoryRuleOnly memoryRule;
  LoadedModel small = loadModel("resnet_fmnist", "", 0);
  LoadedModel big = loadModel("resnet50", "", 0);
  const int64_t smallBatch = inferenceBatchSize(small, 112, 112);
  const int64_t bigBatch = inferenceBatchSize(big, 224, 224);
  EXPECT_GT(smallBatch, 16) << "a 0.3 M-parameter model at 112 px is not held to 16";
  EXPECT_LE(smallBatch, 256);
  EXPECT_GE(bigBatch, 1);
  EXPECT_LT(bigBatch, smallBatch);
  // Twice the side, four times the activations: at most a quarter of the batch (rounding down).
  EXPECT_LE(inferenceBatchSize(big, 448, 448), std::max<int64_t>(1, bigBatch / 4 + 1));
  // ResNet-50's largest stream (layer1, 256 x 56 x 56 floats) times the live-tensor factor fits.
  const double perSample = 256.0 * 56 * 56 * 4 * 8;
  EXPECT_LE(double(bigBatch) * perSample, batchMemoryBudgetBytes() * 1.0001);
}

// Touched 2 MiB heap blocks, each followed by a small block that stays: freeing the large ones
// leaves holes between live blocks, which glibc cannot trim from the top of its heap.
std::vector<std::unique_ptr<char[]>> holesBetweenLiveBlocks(size_t bytes) {
  const size_t block = size_t(2) << 20;
  std::vector<std::unique_ptr<char[]>> large, pins;
  for (size_t n = 0; n < bytes / block; ++n) {
    large.emplace_back(new char[block]);
    std::memset(large.back().get(), int(n), block);
    pins.emplace_back(new char[64]);
    pins.back()[0] = char(n);
  }
  return pins;  // `large` is freed here
}

// A long run's freed blocks between live ones kept its resident memory growing (memory_limits.h):
// between images, once the resident memory has grown by more than kFreedHeapKeptBetweenImages,
// the freed pages go back to the system; freed heap within that stays for the next image.
TEST(BatchBudget, FreedHeapBeyondTheKeptAmountGoesBackBetweenImages) {
  fs::app::keepFreedMemoryForReuse();  // as both programs run: glibc keeps up to 512 MiB itself
  const int64_t kept = int64_t(kFreedHeapKeptBetweenImages);
  malloc_trim(0);
  releaseFreedHeapBetweenImages();  // the base
  {
    const auto pins = holesBetweenLiveBlocks(size_t(kept / 2));
    const int64_t resident = residentMemoryBytes();
    releaseFreedHeapBetweenImages();
    EXPECT_GT(residentMemoryBytes(), resident - (int64_t(8) << 20)) << "half the kept amount freed: nothing goes back";
  }
  const auto pins = holesBetweenLiveBlocks(size_t(kept + (int64_t(64) << 20)));
  const int64_t resident = residentMemoryBytes();
  releaseFreedHeapBetweenImages();
  EXPECT_LT(residentMemoryBytes(), resident - kept) << "the holes' pages go back";
}

// Minor page faults of an inference forward at `batch`, with the allocator set up as both programs
// set it: the fewest of three forwards after two warm-ups at that shape. A block that is mapped
// afresh faults in every forward; a single forward may still fault in new heap pages (4,018
// faults, about 16 MiB, seen once with another test running beside this one).
long forwardPageFaults(LoadedModel& m, int64_t batch, int64_t side) {
  fs::app::keepFreedMemoryForReuse();
  c10::InferenceMode inference;
  const at::Tensor x = at::rand({batch, 3, side, side});
  m.net->forward(x, {});
  m.net->forward(x, {});
  long fewest = std::numeric_limits<long>::max();
  for (int i = 0; i < 3; ++i) {
    struct rusage before {}, after {};
    getrusage(RUSAGE_SELF, &before);
    m.net->forward(x, {});
    getrusage(RUSAGE_SELF, &after);
    fewest = std::min(fewest, after.ru_minflt - before.ru_minflt);
  }
  return fewest;
}

// ConvMLP-S's stem output (64 x H/2 x W/2) is four times its largest tap, so the batch the taps
// allowed put that block far above glibc's 32 MiB mmap threshold: it was mapped and page-faulted
// afresh on every batch. The batch measured from the largest block a forward allocates keeps every
// block on the reused heap.
TEST(BatchBudget, InferenceBatchKeepsTheLargestBlockOnTheHeap) {
  const MemoryRuleOnly memoryRule;
  LoadedModel m = loadModel("convmlp_s", "", 0);
  const int64_t chosen = inferenceBatchSize(m, 112, 112);
  const int64_t fromTaps = inferenceBatchSize(*m.net, m.config, 112, 112);
  EXPECT_LE(chosen, fromTaps / 3) << "the stem's block is 4x the largest tap";
  EXPECT_GE(double(chosen) * 64 * 56 * 56 * 4, 0.9 * kLargestTensorBytes) << "and not much smaller than it allows";
  const long atChosen = forwardPageFaults(m, chosen, 112), atTaps = forwardPageFaults(m, fromTaps, 112);
  // A 32 MiB block is 8192 pages.
  EXPECT_LT(atChosen, 2000) << "batch " << chosen;
  EXPECT_GT(atTaps, 8192) << "batch " << fromTaps << ": the check would not see a mapped block";
}

// By default the batch also keeps the largest block within 3 MiB (3/32 of the memory rule's 32 MiB,
// so 3/32 of its batch), but at least 8 samples; the same with any number of threads.
TEST(BatchBudget, InferenceBatchesKeepTheLargestBlockInCache) {
  LoadedModel small = loadModel("resnet_fmnist", "", 0);
  LoadedModel big = loadModel("resnet50", "", 0);
  int64_t memorySmall = 0, memoryBig = 0;
  {
    const MemoryRuleOnly memoryRule;
    memorySmall = inferenceBatchSize(small, 112, 112);
    memoryBig = inferenceBatchSize(big, 224, 224);
  }
  ASSERT_GT(memorySmall, 8 * 32 / 3) << "the cache's share must be what decides for the small model";
  const double share = double(memorySmall) * 3.0 / 32.0;
  const int64_t chosen = inferenceBatchSize(small, 112, 112);
  EXPECT_GE(chosen, int64_t(std::floor(share)) - 1);
  EXPECT_LE(chosen, int64_t(std::ceil(share)) + 1);
  EXPECT_EQ(inferenceBatchSize(big, 224, 224), std::min<int64_t>(memoryBig, 8)) << "at least 8, within memory";
  EXPECT_EQ(chooseBatchSize(0, false, small, 112, 112), chosen);
  EXPECT_EQ(chooseBatchSize(50, false, small, 112, 112), 50) << "an explicit batch still wins";
  for (int threads : {1, 3}) {
    const fs::model::CallingThreadThreads t(threads);
    EXPECT_EQ(inferenceBatchSize(small, 112, 112), chosen) << threads << " threads";
  }
  // FEATURESCOPE_BATCH_RULE=cache names the default; other values are refused, not ignored.
  setenv("FEATURESCOPE_BATCH_RULE", "cache", 1);
  EXPECT_EQ(inferenceBatchSize(small, 112, 112), chosen);
  setenv("FEATURESCOPE_BATCH_RULE", "memry", 1);
  try {
    inferenceBatchSize(small, 112, 112);
    ADD_FAILURE() << "an unknown FEATURESCOPE_BATCH_RULE was accepted";
  } catch (const fs::model::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("FEATURESCOPE_BATCH_RULE: 'memry'"), std::string::npos) << e.what();
  }
  unsetenv("FEATURESCOPE_BATCH_RULE");
}

TEST(BatchBudget, BalancedBatchesSplitEvenly) {
  EXPECT_EQ(balancedBatch(169, 167), 85);
  EXPECT_EQ(balancedBatch(32, 10), 8);
  EXPECT_EQ(balancedBatch(33, 10), 9);
  EXPECT_EQ(balancedBatch(10, 16), 10);
  EXPECT_EQ(balancedBatch(16, 16), 16);
  EXPECT_EQ(balancedBatch(1, 1), 1);
  for (int64_t total = 1; total < 300; ++total)
    for (int64_t limit = 1; limit < 40; ++limit) {
      const int64_t b = balancedBatch(total, limit), passes = (total + b - 1) / b;
      ASSERT_LE(b, limit);
      ASSERT_EQ(passes, (total + limit - 1) / limit) << total << " " << limit;  // no extra pass
      ASSERT_GT(total - (passes - 1) * b, b - passes) << "the last pass is not short";
    }
}

TEST(BatchBudget, ExplicitRequestsWinForInferenceAndAreBoundedForGradients) {
  LoadedModel mixer = loadModel("mixer_b16", "", 0);
  EXPECT_EQ(chooseBatchSize(5, false, mixer, 224, 224), 5);
  EXPECT_EQ(chooseBatchSize(0, false, mixer, 224, 224), inferenceBatchSize(mixer, 224, 224));
  const int64_t bound = gradientBatchSize(mixer, 224, 224);
  EXPECT_GE(bound, 1);
  EXPECT_EQ(chooseBatchSize(0, true, mixer, 224, 224), std::min<int64_t>(16, bound));
  EXPECT_EQ(chooseBatchSize(100000, true, mixer, 224, 224), bound);
  EXPECT_EQ(chooseBatchSize(1, true, mixer, 224, 224), 1);
}

// The gradient bound comes from the heap a batch-1 forward holds with its graph alive: Mixer-B/16
// keeps about 12 activation-sized [196, 3072] hidden layers and more per block, tens of MB.
TEST(BatchBudget, GradientBoundIsMeasuredAndScalesWithTheInput) {
  LoadedModel resnet = loadModel("resnet50", "", 0);
  const int64_t at224 = gradientBatchSize(resnet, 224, 224), at448 = gradientBatchSize(resnet, 448, 448);
  EXPECT_GE(at224, 2);
  EXPECT_LE(at448, at224 / 3 + 1) << at224;
  EXPECT_EQ(gradientBatchSize(resnet, 224, 224), at224) << "measured once, then the same";
}

}  // namespace
}  // namespace fs::analysis
