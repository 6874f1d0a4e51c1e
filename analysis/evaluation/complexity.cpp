#include "analysis/evaluation/complexity.h"

#include "analysis/evaluation/metric.h"

#include <ATen/ATen.h>

namespace fs::analysis {

double giniSparseness(const at::Tensor& map) {
  const at::Tensor a = std::get<0>(map.detach().reshape({-1}).to(at::kDouble).abs().sort());
  const double total = a.sum().item<double>();
  const int64_t n = a.numel();
  if (!(total > 0) || n == 0) return 0.0;
  const at::Tensor k = at::arange(1, n + 1, at::kDouble);
  return 1.0 - 2.0 * ((a / total) * (double(n) - k + 0.5) / double(n)).sum().item<double>();
}

double entropyComplexity(const at::Tensor& map) {
  const at::Tensor a = map.detach().reshape({-1}).to(at::kDouble).abs();
  const double total = a.sum().item<double>();
  if (!(total > 0)) return 0.0;
  const at::Tensor p = (a / total).masked_select(a > 0);
  return -(p * p.log()).sum().item<double>();
}

namespace {

class ComplexityMetric : public EvaluationMetric {
 public:
  using Fn = double (*)(const at::Tensor&);
  ComplexityMetric(std::string name, std::string title, bool higherIsBetter, Fn fn)
      : name_(std::move(name)), title_(std::move(title)), higher_(higherIsBetter), fn_(fn) {}
  std::string name() const override { return name_; }
  std::string title() const override { return title_; }
  bool higherIsBetter() const override { return higher_; }
  double compute(const MetricInput& in) const override { return fn_(metricMap(in)); }

 private:
  std::string name_, title_;
  bool higher_;
  Fn fn_;
};

}  // namespace

std::unique_ptr<EvaluationMetric> makeGiniSparseness() {
  return std::make_unique<ComplexityMetric>("gini", "Gini sparseness", true, giniSparseness);
}
std::unique_ptr<EvaluationMetric> makeEntropyComplexity() {
  return std::make_unique<ComplexityMetric>("entropy", "Entropy complexity", false, entropyComplexity);
}

}  // namespace fs::analysis
