#include "model/phase_gradient.h"

#include "model/kernel_policy.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace fs::model::onednn {
namespace {

int64_t floorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// One axis of the phase convolution: input size `in` (a multiple of s), kernel k, stride s,
// padding p. Phase a of the gradient reads dy[u + d] through W[a + p - s d] for d in
// [dmin, dmin + taps); the phase convolution pads dy by padL before and padR after.
struct PhaseAxis {
  int64_t stride = 1, dmin = 0, taps = 0, padL = 0, padR = 0, phases = 0;
  bool valid = false;

  PhaseAxis(int64_t in, int64_t k, int64_t s, int64_t p) : stride(s) {
    const int64_t out = (in + 2 * p - k) / s + 1;
    dmin = -floorDiv(k - 1 - p, s);
    taps = floorDiv(s - 1 + p, s) - dmin + 1;
    padL = -dmin;
    phases = in / s;
    padR = phases - 1 + taps - out - padL;  // so that the phase convolution gives `phases` outputs
    valid = in % s == 0 && p < k && padL >= 0 && padR >= 0 && out >= 1;
  }
  // The kernel entry that phase `a`, tap `t` reads, or -1.
  int64_t kernelIndex(int64_t a, int64_t t, int64_t k, int64_t p) const {
    const int64_t i = a + p - stride * (t + dmin);
    return i >= 0 && i < k ? i : -1;
  }
};

}  // namespace

bool PhaseGradient::applies(const at::Tensor& weight, const Dims& stride, const Dims& padding, const Dims& dilation,
                            int64_t groups, int64_t h, int64_t w) {
  if (groups != 1 || weight.dim() != 4 || weight.size(1) > kMaxChannels || dilation[0] != 0 || dilation[1] != 0)
    return false;
  if (stride[0] <= 1 && stride[1] <= 1) return false;
  const PhaseAxis ah(h, weight.size(2), stride[0], padding[0]), aw(w, weight.size(3), stride[1], padding[1]);
  return ah.valid && aw.valid;
}

PhaseGradient::PhaseGradient(const at::Tensor& weight, const Dims& stride, const Dims& padding, int64_t n, int64_t h,
                             int64_t w, const dnnl::memory::desc& gradOut)
    : n_(n), c_(weight.size(1)), h_(h), w_(w), stride_(stride) {
  const int64_t o = weight.size(0), kh = weight.size(2), kw = weight.size(3);
  const int64_t sh = stride[0], sw = stride[1];
  const PhaseAxis ah(h, kh, sh, padding[0]), aw(w, kw, sw, padding[1]);
  // The sub-kernels as one OIHW kernel: output channel (c, a, e), input channel o, tap (th, tw).
  at::Tensor phases;
  {
    torch::NoGradGuard noGrad;
    const at::Tensor wc = weight.detach().contiguous();
    phases = at::zeros({c_ * sh * sw, o, ah.taps, aw.taps}, wc.options());
    const auto src = wc.accessor<float, 4>();
    auto dst = phases.accessor<float, 4>();
    for (int64_t c = 0; c < c_; ++c)
      for (int64_t a = 0; a < sh; ++a)
        for (int64_t e = 0; e < sw; ++e)
          for (int64_t th = 0; th < ah.taps; ++th)
            for (int64_t tw = 0; tw < aw.taps; ++tw) {
              const int64_t ky = ah.kernelIndex(a, th, kh, padding[0]), kx = aw.kernelIndex(e, tw, kw, padding[1]);
              if (ky < 0 || kx < 0) continue;
              for (int64_t oc = 0; oc < o; ++oc) dst[(c * sh + a) * sw + e][oc][th][tw] = src[oc][c][ky][kx];
            }
  }
  try {
    src_ = gradOut;
    dst_ = dnnl::memory::desc({n, c_ * sh * sw, ah.phases, aw.phases}, kF32, Tag::nhwc);
    const dnnl::memory::desc anyWeights({c_ * sh * sw, o, ah.taps, aw.taps}, kF32, Tag::any);
    const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                            src_, anyWeights, dst_, {1, 1}, {0, 0}, {ah.padL, aw.padL},
                                            {ah.padR, aw.padR});
    const dnnl::convolution_forward::primitive_desc pd(d, engine());
    if (isSlowImplementation(pd.impl_info_str())) return;
    primitive_ = dnnl::convolution_forward(pd);
    weights_ = reordered(wrap(dnnl::memory::desc({c_ * sh * sw, o, ah.taps, aw.taps}, kF32, Tag::oihw), phases),
                         pd.weights_desc());
  } catch (const dnnl::error&) {
    return;  // no oneDNN implementation for this form: not ready
  }
  ready_ = true;
}

at::Tensor PhaseGradient::run(const at::Tensor& gradOut) const {
  const int64_t sh = stride_[0], sw = stride_[1], u = h_ / sh, v = w_ / sw;
  // The phases channels-last: [n, u, v, (c, a, e)].
  const at::Tensor phases = at::empty({n_, u, v, c_ * sh * sw}, gradOut.options());
  syncThreads();
  dnnl::memory src = wrap(src_, gradOut), dst = wrap(dst_, phases);
  dnnl::memory weights = weights_;
  primitive_.execute(threadStream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
  threadStream().wait();
  // dx[b, c, u sh + a, v sw + e] = phases[b, u, v, c, a, e]
  return phases.view({n_, u, v, c_, sh, sw}).permute({0, 3, 1, 4, 2, 5}).reshape({n_, c_, h_, w_});
}

}  // namespace fs::model::onednn
