// Integrated Gradients. Sundararajan, Taly & Yan 2017, "Axiomatic Attribution for Deep Networks",
// Eq. 1: IG_i(x) = (x_i - x'_i) * integral_0^1 dF(x' + a (x - x'))/dx_i da. The integral is taken
// with `steps`-point Gauss-Legendre quadrature (Captum's default) instead of the Riemann sums of
// Sec. 5. Completeness (sum IG = F(x) - F(x')), measured on the reference fixtures at 128 steps:
// within 0.1% from the zero baseline on all three (ReLU kinks in ConvMLP, LayerNorm-steep paths in
// Mixer) where the midpoint rule is off by 1-7%, and from every baseline on the token models; from
// the blur and mean baselines through ConvMLP's ReLUs the integrand has many kinks and the gap is
// 1.5% / 7% at 128 steps, 0.3% at 2048 (tests/analysis/saliency_properties_test.cpp). Baselines x':
// zero (zeros of the normalised input = the dataset's mean colour, the usual "zero baseline"),
// black (pixel value 0, normalised: the black image of Sundararajan et al.'s sec. 3), a Gaussian blur
// of x (sigma 10 px) or the per-channel mean of x. Steps run in bounded batches.
#include "analysis/saliency/saliency_base.h"
#include "analysis/string_list.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <vector>

namespace fs::analysis {
namespace {

constexpr double kBlurSigmaPx = 10.0;
constexpr double kPi = 3.14159265358979323846;

// Gauss-Legendre nodes and weights on [0,1] (Newton on P_n from the Chebyshev guesses; Numerical
// Recipes' gauleg). Nodes ascending, weights summing to 1.
void gaussLegendre(int n, std::vector<double>& nodes, std::vector<double>& weights) {
  nodes.assign(n, 0.0), weights.assign(n, 0.0);
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double z = std::cos(kPi * (i + 0.75) / (n + 0.5)), dp = 1.0, dz = 1.0;
    for (int iter = 0; iter < 100 && std::abs(dz) > 1e-15; ++iter) {
      double p = 1.0, prev = 0.0;
      for (int j = 1; j <= n; ++j) {
        const double next = ((2.0 * j - 1.0) * z * p - (j - 1.0) * prev) / j;
        prev = p, p = next;
      }
      dp = n * (z * p - prev) / (z * z - 1.0);
      dz = p / dp;
      z -= dz;
    }
    const double w = 1.0 / ((1.0 - z * z) * dp * dp);  // (2 / ((1 - z^2) P'^2)) / 2 on [0,1]
    nodes[i] = 0.5 * (1.0 - z), nodes[n - 1 - i] = 0.5 * (1.0 + z);
    weights[i] = weights[n - 1 - i] = w;
  }
}

at::Tensor blurred(const at::Tensor& x) {
  const at::Tensor src = x[0].contiguous();
  at::Tensor out = at::empty_like(src);
  const int h = static_cast<int>(src.size(1)), w = static_cast<int>(src.size(2));
  for (int64_t c = 0; c < src.size(0); ++c) {
    const cv::Mat in(h, w, CV_32F, src[c].data_ptr<float>());
    cv::Mat dst(h, w, CV_32F, out[c].data_ptr<float>());
    cv::GaussianBlur(in, dst, cv::Size(0, 0), kBlurSigmaPx, kBlurSigmaPx, cv::BORDER_REFLECT_101);
  }
  return out.unsqueeze(0);
}

}  // namespace

const std::vector<std::string>& integratedGradientsBaselines() {
  static const std::vector<std::string> kinds{"zero", "black", "blur", "mean"};
  return kinds;
}

at::Tensor integratedGradientsBaseline(const at::Tensor& x, const std::string& kind, const fs::model::InputSpec& spec) {
  if (kind == "zero") return at::zeros_like(x);
  if (kind == "black") {  // pixel value 0 in every channel, normalised as the model's input
    at::Tensor b = at::empty_like(x);
    for (int64_t c = 0; c < x.size(1); ++c) b.select(1, c).fill_(-spec.mean[size_t(c)] / spec.std[size_t(c)]);
    return b;
  }
  if (kind == "blur") return blurred(x);
  if (kind == "mean") return x.mean({2, 3}, /*keepdim=*/true).expand_as(x).contiguous();
  throw fs::model::InputError("integrated_gradients: unknown baseline '" + kind + "' (valid: " +
                              joinList(integratedGradientsBaselines()) + ")");
}

namespace {

class IntegratedGradients : public SaliencyBase {
 public:
  std::string name() const override { return "integrated_gradients"; }
  std::string title() const override { return "Integrated gradients"; }
  std::vector<std::string> parameters() const override { return {"steps", "baseline"}; }
  bool usesTap() const override { return false; }
  bool gradientFree() const override { return false; }

 protected:
  at::Tensor run(SaliencyContext& ctx) override {
    const int steps = ctx.options.steps;
    if (steps < 1) throw fs::model::InputError("integrated_gradients: steps must be at least 1");
    const at::Tensor baseline = integratedGradientsBaseline(ctx.input, ctx.options.baseline, ctx.model.config.input);
    const at::Tensor diff = ctx.input - baseline;
    ensureTarget(ctx);
    std::vector<double> nodes, weights;
    gaussLegendre(steps, nodes, weights);
    at::Tensor sum = at::zeros_like(ctx.input);
    const bool done = forEachBatch(ctx, steps, true, [&](int64_t begin, int64_t end) {
      const at::Tensor alphas = at::tensor(std::vector<double>(nodes.begin() + begin, nodes.begin() + end));
      const at::Tensor w = at::tensor(std::vector<double>(weights.begin() + begin, weights.begin() + end));
      const at::Tensor points = baseline + alphas.to(at::kFloat).view({-1, 1, 1, 1}) * diff;
      sum += (inputGradient(ctx, points) * w.to(at::kFloat).view({-1, 1, 1, 1})).sum(0, /*keepdim=*/true);
    });
    if (!done) return {};
    return diff * sum;
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeIntegratedGradients() { return std::make_unique<IntegratedGradients>(); }

}  // namespace fs::analysis
