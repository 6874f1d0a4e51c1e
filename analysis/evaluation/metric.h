#pragma once
// Per-image evaluation metrics of a saliency map, one small class each, registered in one list
// (metric.cpp), like the saliency methods. Every metric ranks the pixels of the map that is
// displayed (SaliencyResult::map2d), bilinearly resized to the model input (mapToSize), so the
// numbers describe the picture the researcher sees. Each class cites its paper in its group's
// header: localisation.h, complexity.h, faithfulness_metrics.h, robustness.h.
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fs::analysis {

// The map of the method under evaluation for another input [1,3,H,W] (max-sensitivity).
using ExplainFunction = std::function<at::Tensor(const at::Tensor& input)>;

struct MetricInput {
  LoadedModel* model = nullptr;  // faithfulness and robustness metrics
  at::Tensor input;              // float32 [1,3,H,W], normalised as the model expects
  at::Tensor map2d;              // the displayed map, any [h,w]
  int target = 0;                // the explained class
  at::Tensor mask;               // bool [H,W] at the input size (localisation); undefined: none
  ExplainFunction explain;       // robustness metrics
  uint64_t seed = 0;             // perturbation and imputation noise
  int batchSize = 0;             // forward batch; 0 = chosen from memory
};

class EvaluationMetric {
 public:
  virtual ~EvaluationMetric() = default;
  virtual std::string name() const = 0;   // e.g. "pointing_game"
  virtual std::string title() const = 0;  // e.g. "Pointing game"
  virtual bool higherIsBetter() const = 0;
  virtual bool needsMask() const { return false; }
  virtual bool needsModel() const { return false; }
  virtual bool needsExplain() const { return false; }
  // InputError when an input the metric needs is missing or malformed.
  virtual double compute(const MetricInput& in) const = 0;
};

// Unknown name -> InputError listing the valid ones.
std::unique_ptr<EvaluationMetric> makeMetric(const std::string& name);
std::vector<std::string> metricNames();

// in.map2d resized to in.input's height and width, float64 [H,W] (InputError when undefined).
at::Tensor metricMap(const MetricInput& in);
// in.mask checked against the input size: bool [H,W], not empty (InputError otherwise).
at::Tensor metricMask(const MetricInput& in);
LoadedModel& metricModel(const MetricInput& in);  // InputError when in.model is null

}  // namespace fs::analysis
