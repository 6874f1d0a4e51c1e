// Occlusion. Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional Networks",
// Sec. 4.2: a window x window square (all channels) slides with `stride` and is replaced by the
// baseline 0; each window's score is the drop of the target logit, f(x) - f(x occluded), given to
// every pixel it covers and averaged over the windows that cover a pixel (Captum's convention).
// A last window is aligned with the right/bottom edge so every pixel is covered; a stride larger
// than the window is refused (it would leave pixels between windows without a score). Map [H,W].
#include "analysis/saliency/saliency_base.h"
#include "model/errors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <string>
#include <vector>

namespace fs::analysis {
namespace {

std::vector<int64_t> windowStarts(int64_t size, int64_t window, int64_t stride) {
  std::vector<int64_t> starts;
  for (int64_t p = 0; p + window <= size; p += stride) starts.push_back(p);
  if (starts.empty() || starts.back() + window < size) starts.push_back(std::max<int64_t>(0, size - window));
  return starts;
}

class Occlusion : public SaliencyBase {
 public:
  std::string name() const override { return "occlusion"; }
  std::string title() const override { return "Occlusion"; }
  std::vector<std::string> parameters() const override { return {"window", "stride"}; }
  bool usesTap() const override { return false; }
  bool gradientFree() const override { return true; }

 protected:
  at::Tensor run(SaliencyContext& ctx) override {
    const SaliencyOptions& o = ctx.options;
    if (o.window < 1 || o.stride < 1) throw fs::model::InputError("occlusion: window and stride must be at least 1");
    if (o.stride > o.window)
      throw fs::model::InputError("occlusion: stride " + std::to_string(o.stride) + " is larger than the window " +
                                  std::to_string(o.window) + ": pixels between windows would get no score");
    const at::Tensor& x = ctx.input;
    const int64_t height = x.size(2), width = x.size(3);
    const auto ys = windowStarts(height, o.window, o.stride), xs = windowStarts(width, o.window, o.stride);
    const int64_t total = static_cast<int64_t>(ys.size() * xs.size());
    const at::Tensor base = logitsOf(ctx, x);
    const double reference = base[0][ctx.resolveTarget(base)].item<double>();
    at::Tensor sum = at::zeros({height, width}, at::kDouble), count = at::zeros({height, width}, at::kDouble);
    const int64_t nx = static_cast<int64_t>(xs.size());
    const bool done = forEachBatch(ctx, total, false, [&](int64_t begin, int64_t end) {
      at::Tensor batch = x.expand({end - begin, -1, -1, -1}).clone();
      for (int64_t i = begin; i < end; ++i) windowOf(batch[i - begin], ys[i / nx], xs[i % nx], o.window).zero_();
      const at::Tensor drops = reference - logitsOf(ctx, batch).select(1, ctx.target).to(at::kDouble);
      for (int64_t i = begin; i < end; ++i) {
        windowOf(sum, ys[i / nx], xs[i % nx], o.window).add_(drops[i - begin]);
        windowOf(count, ys[i / nx], xs[i % nx], o.window).add_(1.0);
      }
    });
    if (!done) return {};
    return (sum / count.clamp_min(1.0)).to(at::kFloat);
  }

 private:
  // The window's view of an [..., H, W] tensor.
  static at::Tensor windowOf(const at::Tensor& t, int64_t y, int64_t x, int64_t window) {
    return t.narrow(-2, y, std::min(window, t.size(-2) - y)).narrow(-1, x, std::min(window, t.size(-1) - x));
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeOcclusion() { return std::make_unique<Occlusion>(); }

}  // namespace fs::analysis
