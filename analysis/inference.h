#pragma once
// Running a LoadedModel: input validation, top-k prediction, tap extraction (NCHW).
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace fs::analysis {

struct ClassScore {
  int index = 0;
  std::string label;
  float prob = 0.f;
  float logit = 0.f;
};

struct Prediction {
  std::vector<ClassScore> top;  // sorted by probability, descending
  at::Tensor logits;            // float32 [1, classes]
  double elapsedMs = 0.0;       // forward only
};

// Checks a preprocessed tensor: float32 [1,3,H,W], finite, H/W the model accepts. `what` names
// the source for the InputError message.
void validateInput(const LoadedModel& m, const at::Tensor& input, const std::string& what);

// Inference mode (no autograd); topK is clamped to the class count.
Prediction predict(LoadedModel& m, const at::Tensor& input, int topK);

// The named tap as float32 NCHW [1,C,H,W]; InputError listing valid taps if the name is unknown.
at::Tensor extractTap(LoadedModel& m, const at::Tensor& input, const std::string& tap);

std::vector<std::string> tapNames(const LoadedModel& m);

// The TapInfo of a named tap; the one unknown-tap check (InputError listing the valid taps).
fs::model::TapInfo findTap(const LoadedModel& model, const std::string& name);

}  // namespace fs::analysis
