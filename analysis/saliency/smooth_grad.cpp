// SmoothGrad. Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise", Sec. 3:
// M(x) = 1/n sum_i dS_c/dx (x + N(0, sigma^2)), with sigma = options.sigma * (max(x) - min(x)).
// Samples are drawn from a generator seeded with options.seed and run in bounded batches. With
// sigma 0 every sample is x itself, so the result is the plain gradient, computed once.
#include "analysis/saliency/saliency_base.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace fs::analysis {
namespace {

class SmoothGrad : public SaliencyBase {
 public:
  std::string name() const override { return "smoothgrad"; }
  std::string title() const override { return "SmoothGrad"; }
  std::vector<std::string> parameters() const override { return {"samples", "sigma", "seed"}; }
  // A magnitude map: max over colour channels of |g| (Simonyan et al. 2014, sec. 3.1).
  MapConvention convention() const override {
    MapConvention c;
    c.reduction = ChannelReduction::MaxAbs, c.sign = SignMode::Absolute, c.clipPercentile = 99.0;
    return c;
  }
  bool usesTap() const override { return false; }
  bool gradientFree() const override { return false; }

 protected:
  at::Tensor run(SaliencyContext& ctx) override {
    const SaliencyOptions& o = ctx.options;
    if (o.samples < 1) throw fs::model::InputError("smoothgrad: samples must be at least 1");
    if (!(o.sigma >= 0)) throw fs::model::InputError("smoothgrad: sigma must be >= 0");
    if (o.sigma == 0) return inputGradient(ctx, ctx.input);
    ensureTarget(ctx);
    const at::Tensor& x = ctx.input;
    const double sd = o.sigma * (x.max() - x.min()).item<double>();
    at::Generator gen = at::detail::createCPUGenerator(o.seed);
    at::Tensor sum = at::zeros_like(x);
    const bool done = forEachBatch(ctx, o.samples, true, [&](int64_t begin, int64_t end) {
      const int64_t n = end - begin;
      const at::Tensor noise = at::randn({n, x.size(1), x.size(2), x.size(3)}, gen, x.options()) * sd;
      sum += inputGradient(ctx, x + noise).sum(0, /*keepdim=*/true);
    });
    if (!done) return {};
    return sum / static_cast<double>(o.samples);
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeSmoothGrad() { return std::make_unique<SmoothGrad>(); }

}  // namespace fs::analysis
