#pragma once
// Training and evaluation of classifiers on an in-memory image dataset (Fashion-MNIST for the
// bundled demo): AdamW (Loshchilov & Hutter 2019), linear warm-up + cosine schedule, light
// augmentation (random 2-px shifts, horizontal flips), label smoothing. Runs on the calling thread.
#include "analysis/fashion_mnist.h"
#include "model/classifier.h"
#include "model/model_config.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fs::analysis {

struct TrainOptions {
  int epochs = 5;
  int batchSize = 64;
  double lr = 2e-3;
  double weightDecay = 0.05;
  double labelSmoothing = 0.1;
  int warmupSteps = 200;
  uint64_t seed = 0;
  int64_t maxSteps = -1;     // stop early after this many steps (tests, smoke runs)
  int64_t trainLimit = -1;   // use only the first N training images
  bool augment = true;
  // Data randomisation (Adebayo et al. 2018, "Sanity Checks for Saliency Maps", sec. 3.2): the
  // labels of the n training images used are permuted among them, labels[labelPermutation(n, seed)],
  // so the images keep the dataset's label frequencies but no label carries information.
  bool permuteLabels = false;
  // Resumable training: at the end of every epoch but the last, the weights, the AdamW moments, the
  // step and the random generator's state are written atomically to this safetensors file; a run
  // that finds it (same model and options) continues from there and reproduces the uninterrupted
  // run's weights exactly (same build, CPU and thread count). Empty: no checkpoints.
  std::string checkpointPath;
};

struct TrainProgress {
  int epoch = 0;
  int64_t step = 0, totalSteps = 0;
  double loss = 0, accuracy = 0, lr = 0;  // running averages over the last report interval
};

struct EvalResult {
  double accuracy = 0;
  at::Tensor confusion;                  // int64 [classes, classes], rows = true class
  std::vector<int64_t> misclassified;    // dataset indices
  at::Tensor predictions;                // int64 [N]
};

struct TrainResult {
  EvalResult test;
  double seconds = 0;
  int64_t steps = 0;
  double firstLoss = 0, lastLoss = 0;    // averages over the first / last report interval
  bool stopped = false;                  // *stop was set: the caller must not save
  int64_t resumedAtStep = 0;             // > 0: continued from options.checkpointPath
};

TrainResult trainClassifier(fs::model::ClassifierImpl& net, const fs::model::ModelConfig& config,
                            const ImageDataset& train, const ImageDataset& test, const TrainOptions& options,
                            const std::function<void(const TrainProgress&)>& progress,
                            const std::atomic<bool>* stop);

// A permutation of 0..n-1 by Fisher-Yates with a 64-bit Mersenne Twister seeded with `seed`
// (j drawn uniformly from 0..i by rejection), the same on every platform.
at::Tensor labelPermutation(int64_t n, uint64_t seed);

// Accuracy, confusion matrix and misclassified indices on the first `limit` items (all if < 0).
EvalResult evaluateDataset(fs::model::ClassifierImpl& net, const fs::model::ModelConfig& config,
                           const ImageDataset& data, int64_t limit = -1);

}  // namespace fs::analysis
