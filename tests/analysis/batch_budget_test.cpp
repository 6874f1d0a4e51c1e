// Batch sizes come from memory, not a fixed 16: small models get large batches, full-size models
// batches that fit the budget, larger inputs smaller batches; gradient passes keep the old bound.
#include "analysis/batch_budget.h"
#include "analysis/model_loader.h"

#include <gtest/gtest.h>

namespace fs::analysis {
namespace {

TEST(BatchBudget, InferenceBatchesFollowTheActivationSize) {
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
