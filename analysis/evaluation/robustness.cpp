#include "analysis/evaluation/robustness.h"

#include "analysis/faithfulness.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <string>
#include <vector>

namespace fs::analysis {
using fs::model::InputError;

namespace {

void checkInput(const at::Tensor& input) {
  if (!input.defined() || input.dim() != 4 || input.size(0) != 1)
    throw InputError("robustness metric: input must be [1,C,H,W]");
}

at::Tensor targetLogits(LoadedModel& model, const at::Tensor& batch, int target) {
  const at::Tensor logits = model.net->forward(batch, {}).logits;
  if (target < 0 || target >= logits.size(1)) throw InputError("robustness metric: target class out of range");
  return logits.select(1, target).to(at::kDouble);
}

}  // namespace

InfidelityProbe infidelityProbe(LoadedModel& model, const at::Tensor& input, int target, const InfidelityOptions& o) {
  checkInput(input);
  if (o.samples < 1 || !(o.sigma > 0)) throw InputError("infidelity: samples must be >= 1 and sigma > 0");
  c10::InferenceMode guard;
  const int64_t h = input.size(2), w = input.size(3);
  at::Generator gen = at::detail::createCPUGenerator(o.seed);
  const at::Tensor noise = at::randn({o.samples, 1, h, w}, gen, at::kFloat).mul_(o.sigma);
  const at::Tensor x = input.to(at::kFloat);
  const double fx = targetLogits(model, x, target).item<double>();
  const int64_t batch = o.batchSize > 0 ? o.batchSize : o.samples;
  std::vector<at::Tensor> parts;
  for (int64_t s0 = 0; s0 < o.samples; s0 += batch) {
    const at::Tensor i = noise.narrow(0, s0, std::min<int64_t>(batch, o.samples - s0));
    parts.push_back(targetLogits(model, x - i, target));
  }
  return {noise.to(at::kDouble).select(1, 0), fx - at::cat(parts)};  // I, f(x) - f(x - I)
}

double infidelity(const InfidelityProbe& probe, const at::Tensor& map) {
  if (!probe.perturbations.defined() || !probe.logitChange.defined())
    throw InputError("infidelity: no model differences computed");
  c10::InferenceMode guard;
  const at::Tensor& noise = probe.perturbations;
  const at::Tensor phi = mapToSize(map, noise.size(1), noise.size(2)).to(at::kDouble);
  const at::Tensor& df = probe.logitChange;
  const at::Tensor dots = (noise * phi).sum({1, 2});  // I^T Phi
  const double dd = (dots * dots).sum().item<double>();
  const double beta = dd > 0 ? (dots * df).sum().item<double>() / dd : 0.0;
  return (beta * dots - df).square().mean().item<double>();
}

double infidelity(LoadedModel& model, const at::Tensor& input, const at::Tensor& map, int target,
                  const InfidelityOptions& o) {
  return infidelity(infidelityProbe(model, input, target, o), map);
}

double maxSensitivity(const ExplainFunction& explain, const at::Tensor& input, const at::Tensor& map,
                      const SensitivityOptions& o) {
  checkInput(input);
  if (!explain) throw InputError("max-sensitivity: needs the method to explain perturbed inputs");
  if (o.samples < 1 || !(o.radius > 0)) throw InputError("max-sensitivity: samples must be >= 1 and radius > 0");
  const at::Tensor base = map.detach().to(at::kDouble);
  const double norm = base.norm().item<double>();
  at::Generator gen = at::detail::createCPUGenerator(o.seed);
  std::vector<at::Tensor> ys;  // one draw per sample, in order
  for (int s = 0; s < o.samples; ++s)
    ys.push_back(input.to(at::kFloat) + at::empty_like(input, at::kFloat).uniform_(-o.radius, o.radius, gen));
  const at::Tensor others = explain(at::cat(ys)).detach().to(at::kDouble);
  if (others.dim() < 1 || others.size(0) != o.samples || others[0].sizes() != base.sizes())
    throw InputError("max-sensitivity: the perturbed maps are " + c10::str(others.sizes()) + ", the original " +
                     c10::str(base.sizes()) + " for " + std::to_string(o.samples) + " samples");
  double worst = 0.0;
  for (int s = 0; s < o.samples; ++s) {
    const double d = (others[s] - base).norm().item<double>();
    worst = std::max(worst, norm > 0 ? d / norm : d);
  }
  return worst;
}

namespace {

class InfidelityMetric : public EvaluationMetric {
 public:
  std::string name() const override { return "infidelity"; }
  std::string title() const override { return "Infidelity"; }
  bool higherIsBetter() const override { return false; }
  bool needsModel() const override { return true; }
  double compute(const MetricInput& in) const override {
    InfidelityOptions o;
    o.seed = in.seed, o.batchSize = in.batchSize;
    if (!in.map2d.defined()) throw InputError("metric: no saliency map");
    const auto probe = [&] { return infidelityProbe(metricModel(in), in.input, in.target, o); };
    if (!in.memo) return infidelity(probe(), in.map2d);
    const std::string key = "infidelity target " + std::to_string(in.target) + " seed " + std::to_string(o.seed) +
                            " samples " + std::to_string(o.samples) + " sigma " + std::to_string(o.sigma) +
                            " batch " + std::to_string(o.batchSize);
    return infidelity(in.memo->get<InfidelityProbe>(key, probe), in.map2d);
  }
};

class MaxSensitivityMetric : public EvaluationMetric {
 public:
  std::string name() const override { return "max_sensitivity"; }
  std::string title() const override { return "Max-sensitivity"; }
  bool higherIsBetter() const override { return false; }
  bool needsExplain() const override { return true; }
  double compute(const MetricInput& in) const override {
    SensitivityOptions o;
    o.seed = in.seed;
    if (!in.map2d.defined()) throw InputError("metric: no saliency map");
    return maxSensitivity(in.explain, in.input, in.map2d, o);
  }
};

}  // namespace

std::unique_ptr<EvaluationMetric> makeInfidelity() { return std::make_unique<InfidelityMetric>(); }
std::unique_ptr<EvaluationMetric> makeMaxSensitivity() { return std::make_unique<MaxSensitivityMetric>(); }

}  // namespace fs::analysis
