#pragma once
// Sanity checks for saliency maps.
//
// Model-parameter randomisation: Adebayo et al. 2018, "Sanity Checks for Saliency Maps", NeurIPS,
// sec. 3.1. The units are the model's blocks/stages from the logits down (randomisationOrder in
// analysis/faithfulness.h: the head, the final norm, each block or stage, the stem). Cascading:
// unit after unit stays randomised (the paper's Figure 2); independent: one unit at a time, the
// others at their trained values. A unit is re-initialised with its family's own initialisation:
// a fresh model of the same config is built by the family registry (buildModel) from a seed
// derived from `seed`, and the unit's parameters and buffers are copied from it, so BatchNorm
// statistics stay those of a freshly built model (finite). After each step the map is recomputed
// and compared with the original by the paper's four similarities (similarity.h). The trained
// weights and buffers are restored on every exit path.
//
// Random-logit test: Sixt et al. 2020, "When Explanations Lie: Why Many Modified BP Attributions
// Fail", ICML, sec. 5: the map for the target class against the map for a random other class
// (drawn uniformly from a 64-bit Mersenne Twister seeded with `seed`); a method whose map barely
// changes does not explain the class.
#include "analysis/evaluation/similarity.h"
#include "analysis/faithfulness.h"
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fs::analysis {

enum class RandomisationMode { Cascading, Independent };

struct RandomisationStep {
  std::string unit;               // the unit randomised at this step
  at::Tensor map;                 // the map after it
  SimilarityScores similarity;    // to the original map
};
struct RandomisationResult {
  at::Tensor original;
  std::vector<RandomisationStep> steps;
  bool cancelled = false;
};

// The seed of the fresh model whose units replace the trained ones: derived from the sanity seed,
// and never the loaded model's own seed when it has no trained weights (so a random-init model is
// not "randomised" into itself).
uint64_t freshModelSeed(const LoadedModel& model, uint64_t seed);

// computeMap recomputes the map on the (partly randomised) model. InputError when the family
// cannot build a fresh model of the config.
RandomisationResult modelRandomisation(LoadedModel& model, const MapFunction& computeMap, RandomisationMode mode,
                                       uint64_t seed = 0, const std::function<void(double)>& progress = {},
                                       const std::atomic<bool>* cancel = nullptr);

struct RandomLogitResult {
  int target = 0;
  int other = 0;                  // the random other class
  SimilarityScores similarity;
};
// mapForClass(c) computes the map for class c. InputError for fewer than two classes.
RandomLogitResult randomLogitTest(const std::function<at::Tensor(int)>& mapForClass, int target, int numClasses,
                                  uint64_t seed = 0);

}  // namespace fs::analysis
