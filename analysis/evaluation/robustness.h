#pragma once
// Yeh et al. 2019, "On the (In)fidelity and Sensitivity of Explanations", NeurIPS. Registered as
// metrics (metric.h) under the names in brackets; lower is better for both.
#include "analysis/evaluation/metric.h"
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace fs::analysis {

// [infidelity] Eq. 2: INFD = E_I[(I^T Phi - (f(x) - f(x - I)))^2] with f the target's logit and Phi
// the displayed map at the input size. The perturbation I is per pixel, shared by the colour
// channels (the map is per pixel), I ~ N(0, sigma^2) in the normalised input space (the paper's
// "noisy baseline"); `samples` draws from a generator seeded with `seed`. As in the authors' code
// and Captum's default, Phi is first scaled by the optimal beta = E[I^T Phi * df] / E[(I^T Phi)^2]
// (the paper's Proposition 2.5 discusses this scale invariance), so the map's unit does not matter.
struct InfidelityOptions {
  int samples = 32;
  double sigma = 0.1;
  uint64_t seed = 0;
  int batchSize = 0;  // 0: all samples in one batch
};
double infidelity(LoadedModel& model, const at::Tensor& input, const at::Tensor& map, int target,
                  const InfidelityOptions& options = {});

// Infidelity in two halves. The model's half depends on the input, the target and the options but
// not on the map: the perturbations I [S,H,W] (float64) and f(x) - f(x - I) [S] (float64). A
// scorecard computes it once per image and scores every method's map against it (metric.h's
// MetricMemo): the same numbers as infidelity() above, which is the two halves in a row.
struct InfidelityProbe {
  at::Tensor perturbations;
  at::Tensor logitChange;
};
InfidelityProbe infidelityProbe(LoadedModel& model, const at::Tensor& input, int target,
                                const InfidelityOptions& options = {});
double infidelity(const InfidelityProbe& probe, const at::Tensor& map);

// [max_sensitivity] Eq. 3: SENS_max = max over ||y - x||_inf <= r of ||Phi(y) - Phi(x)||, estimated
// as Captum does by Monte Carlo: `samples` inputs y = x + U(-r, r) per element (normalised input
// space), drawn in order from one generator seeded with `seed` and explained again by `explain` (all
// of them in one call); the norm is Frobenius, and as in Captum the result is divided by ||Phi(x)||
// (when non-zero) so that methods with maps of different units compare.
// 0 for a method whose map does not depend on the input.
struct SensitivityOptions {
  int samples = 10;
  double radius = 0.02;
  uint64_t seed = 0;
};
double maxSensitivity(const ExplainFunction& explain, const at::Tensor& input, const at::Tensor& map,
                      const SensitivityOptions& options = {});

}  // namespace fs::analysis
