// RISE. Petsiuk, Das & Saenko 2018, "RISE: Randomized Input Sampling for Explanation of Black-box
// Models" (BMVC), Sec. 3, eq. 6, and the authors' code (github.com/eclique/RISE, explanations.py):
// N binary grids of s x s cells, each cell kept with probability p, upsampled bilinearly to
// (s + 1) * ceil(H / s) pixels and cropped at a random shift of up to one cell; the map is
//   S_c = 1 / (N p) * sum_i P_c(x ⊙ M_i) M_i,
// with P_c the softmax probability of the target class. The masks multiply the normalised input,
// as the authors' PyTorch code does (a removed pixel becomes 0 = the dataset's mean colour).
// Defaults N = 4000, s = 7, p = 0.5 (the paper's ResNet-50 setting); the masks come from `seed`.
// Deviation: the upsampling is ATen's bilinear (align_corners = false, border pixels repeated)
// where the authors call skimage's resize with mode="reflect"; the two differ only within half a
// cell of the upsampled grid's border. Gradient-free: batched through the inference path. Map [H,W].
#include "analysis/saliency/saliency_base.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <string>
#include <vector>

namespace fs::analysis {
namespace {

class Rise : public SaliencyBase {
 public:
  std::string name() const override { return "rise"; }
  std::string title() const override { return "RISE"; }
  std::vector<std::string> parameters() const override { return {"seed"}; }
  std::vector<ParameterSpec> ownParameters() const override {
    return {{"masks", "RISE masks", "random masks averaged (RISE's N)", 1, 100000, true, {}, 4000},
            {"cells", "RISE grid cells", "cells per side of each mask's grid (RISE's s)", 2, 64, true, {}, 7},
            {"keep", "RISE keep probability", "probability that a cell is kept (RISE's p)", 0.01, 1.0, false, {}, 0.5}};
  }
  bool usesTap() const override { return false; }
  bool gradientFree() const override { return true; }
  // A probability-weighted sum of masks: non-negative, shown like a CAM.
  MapConvention convention() const override { return {ChannelReduction::SignedSum, SignMode::Relu, 100.0, Colormap::Turbo}; }

 protected:
  at::Tensor run(SaliencyContext& ctx) override {
    const SaliencyOptions& o = ctx.options;
    const int64_t n = int64_t(parameterValue(o, "masks")), s = int64_t(parameterValue(o, "cells"));
    const double keep = parameterValue(o, "keep");
    const at::Tensor& x = ctx.input;
    const int64_t height = x.size(2), width = x.size(3);
    const int64_t cellH = (height + s - 1) / s, cellW = (width + s - 1) / s;
    at::Generator gen = at::detail::createCPUGenerator(o.seed);
    const at::Tensor grids = (at::rand({n, 1, s, s}, gen) < keep).to(at::kFloat);
    const at::Tensor shiftY = at::randint(cellH, {n}, gen), shiftX = at::randint(cellW, {n}, gen);
    ensureTarget(ctx);
    at::Tensor sum = at::zeros({height, width}, at::kDouble);
    const bool done = forEachBatch(ctx, n, false, [&](int64_t begin, int64_t end) {
      const at::Tensor up = at::upsample_bilinear2d(grids.slice(0, begin, end), {(s + 1) * cellH, (s + 1) * cellW},
                                                    /*align_corners=*/false);
      at::Tensor masks = at::empty({end - begin, 1, height, width}, at::kFloat);
      for (int64_t i = begin; i < end; ++i) {
        const int64_t dy = shiftY[i].item<int64_t>(), dx = shiftX[i].item<int64_t>();
        masks[i - begin].copy_(up[i - begin].narrow(1, dy, height).narrow(2, dx, width));
      }
      const at::Tensor probs = at::softmax(logitsOf(ctx, x * masks), 1).select(1, ctx.target);
      sum.add_((probs.to(at::kDouble).view({-1, 1, 1}) * masks.select(1, 0).to(at::kDouble)).sum(0));
    });
    if (!done) return {};
    return (sum / (double(n) * keep)).to(at::kFloat);
  }
};

}  // namespace

std::unique_ptr<SaliencyMethod> makeRise() { return std::make_unique<Rise>(); }

}  // namespace fs::analysis
