#pragma once
// Per-image evaluation metrics of a saliency map, one small class each, registered in one list
// (metric.cpp), like the saliency methods. Every metric ranks the pixels of the map that is
// displayed (SaliencyResult::map2d), bilinearly resized to the model input (mapToSize), so the
// numbers describe the picture the researcher sees. Each class cites its paper in its group's
// header: localisation.h, complexity.h, faithfulness_metrics.h, robustness.h.
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <any>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fs::analysis {

// The maps of the method under evaluation for other inputs [S,3,H,W], as displayed: [S,h,w]
// (max-sensitivity's re-explanations, all at once so that a method reading one gradient pass can
// take every map from one batched pass: saliency/gradient_pass.h).
using ExplainFunction = std::function<at::Tensor(const at::Tensor& inputs)>;

// What a metric computes from the image alone, kept for the image's other maps: a scorecard scores
// every method of one image with the same memo (infidelity's model differences, robustness.h),
// since the input, the target and the seed are the same for all of them. One image's, one thread's.
class MetricMemo {
 public:
  // The value under `key`, made by make() the first time; the key names everything it depends on
  // besides the image. std::bad_any_cast when a key is reused for another type.
  template <class T, class Make>
  const T& get(const std::string& key, const Make& make) {
    auto it = values_.find(key);
    if (it == values_.end()) it = values_.emplace(key, std::any(T(make()))).first;
    return std::any_cast<const T&>(it->second);
  }
  size_t size() const { return values_.size(); }

 private:
  std::map<std::string, std::any> values_;
};

struct MetricInput {
  LoadedModel* model = nullptr;  // faithfulness and robustness metrics
  at::Tensor input;              // float32 [1,3,H,W], normalised as the model expects
  at::Tensor map2d;              // the displayed map, any [h,w]
  int target = 0;                // the explained class
  at::Tensor mask;               // bool [H,W] at the input size (localisation); undefined: none
  ExplainFunction explain;       // robustness metrics
  uint64_t seed = 0;             // perturbation and imputation noise
  int batchSize = 0;             // forward batch; 0 = chosen from memory
  MetricMemo* memo = nullptr;    // shared by the image's maps; null: every value computed afresh
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
