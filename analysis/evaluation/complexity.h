#pragma once
// Complexity of a map: how concentrated its attribution is. Both read the magnitudes |a| of the
// map's pixels (any shape, flattened). Registered as metrics (metric.h) under the names in brackets.
#include <ATen/core/Tensor.h>

namespace fs::analysis {

// [gini] Chalasani et al. 2020, "Concise Explanations of Neural Networks using Adversarial
// Training", ICML, sec. 5: the Gini index of |a| (Hurley & Rickard 2009, eq. for G): with the
// magnitudes sorted ascending a_(1) <= ... <= a_(n),
//   G = 1 - 2 * sum_k (a_(k) / ||a||_1) * (n - k + 1/2) / n,
// 0 for a uniform map, (n - 1) / n for a single non-zero pixel; 0 for an all-zero map.
double giniSparseness(const at::Tensor& map);

// [entropy] Bhatt et al. 2020, "Evaluating and Aggregating Feature-based Model Explanations",
// IJCAI, definition of complexity: the entropy -sum_i P(i) ln P(i) of the fractional contribution
// P(i) = |a_i| / sum_j |a_j| (natural log; 0 ln 0 = 0); ln n for a uniform map, 0 for one pixel.
// 0 for an all-zero map. Lower is simpler.
double entropyComplexity(const at::Tensor& map);

}  // namespace fs::analysis
