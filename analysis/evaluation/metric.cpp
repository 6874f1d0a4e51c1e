#include "analysis/evaluation/metric.h"

#include "analysis/faithfulness.h"
#include "analysis/named_registry.h"
#include "model/errors.h"

#include <ATen/ATen.h>

namespace fs::analysis {

// Defined in each group's own .cpp.
std::unique_ptr<EvaluationMetric> makePointingGame();
std::unique_ptr<EvaluationMetric> makeEnergyPointingGame();
std::unique_ptr<EvaluationMetric> makeRelevanceMass();
std::unique_ptr<EvaluationMetric> makeRelevanceRank();
std::unique_ptr<EvaluationMetric> makeTopKIou();
std::unique_ptr<EvaluationMetric> makeGiniSparseness();
std::unique_ptr<EvaluationMetric> makeEntropyComplexity();
std::unique_ptr<EvaluationMetric> makeDeletionMetric();
std::unique_ptr<EvaluationMetric> makeInsertionMetric();
std::unique_ptr<EvaluationMetric> makeRoadMorf();
std::unique_ptr<EvaluationMetric> makeRoadLerf();
std::unique_ptr<EvaluationMetric> makeInfidelity();
std::unique_ptr<EvaluationMetric> makeMaxSensitivity();

namespace {

// The registration list: one line per metric, in report order (faithfulness, localisation,
// complexity, robustness). The name is the metric's own.
const NamedRegistry<EvaluationMetric>& registry() {
  static const NamedRegistry<EvaluationMetric> kAll{"metric",
                                                    {
                                                        makeDeletionMetric,
                                                        makeInsertionMetric,
                                                        makeRoadMorf,
                                                        makeRoadLerf,
                                                        makePointingGame,
                                                        makeEnergyPointingGame,
                                                        makeRelevanceMass,
                                                        makeRelevanceRank,
                                                        makeTopKIou,
                                                        makeGiniSparseness,
                                                        makeEntropyComplexity,
                                                        makeInfidelity,
                                                        makeMaxSensitivity,
                                                    }};
  return kAll;
}

}  // namespace

std::vector<std::string> metricNames() { return registry().names(); }

std::unique_ptr<EvaluationMetric> makeMetric(const std::string& name) { return registry().make(name); }

at::Tensor metricMap(const MetricInput& in) {
  if (!in.input.defined() || in.input.dim() != 4 || in.input.size(0) != 1)
    throw fs::model::InputError("metric: the input must be [1,C,H,W]");
  if (!in.map2d.defined()) throw fs::model::InputError("metric: no saliency map");
  return mapToSize(in.map2d, in.input.size(2), in.input.size(3)).to(at::kDouble);
}

at::Tensor metricMask(const MetricInput& in) {
  if (!in.mask.defined()) throw fs::model::InputError("metric: this metric needs a ground-truth mask");
  if (in.mask.dim() != 2 || in.mask.size(0) != in.input.size(2) || in.mask.size(1) != in.input.size(3))
    throw fs::model::InputError("metric: the mask is " + c10::str(in.mask.sizes()) + ", the input " +
                                std::to_string(in.input.size(2)) + "x" + std::to_string(in.input.size(3)));
  const at::Tensor m = in.mask.to(at::kBool);
  if (!m.any().item<bool>()) throw fs::model::InputError("metric: the mask is empty");
  return m;
}

LoadedModel& metricModel(const MetricInput& in) {
  if (!in.model) throw fs::model::InputError("metric: this metric needs the model");
  return *in.model;
}

}  // namespace fs::analysis
