#pragma once
// Internal to fs_model: the input gradient (backward data) of a strided convolution over few input
// channels, an image stem, for the gradient passes of PackedConv (fast_inference.h).
//
// A convolution's input gradient is a transposed convolution of the output gradient, and a
// transposed convolution of stride s equals a stride-1 convolution with s_h x s_w sub-kernels, one
// per phase (the output pixels at offset (a, e) modulo the stride), followed by a periodic shuffle
// of the phases into space (Shi et al. 2016, "Is the deconvolution layer the same as a convolutional
// layer?", arXiv:1609.07009, sec. 2-3; the sub-pixel convolution of Shi et al., CVPR 2016). Here the
// sub-kernels are the entries of W that reach each phase:
//   dx[c, s u + a] = sum_{o, d} W[o, c, a + p - s d] dy[o, u + d]   (per axis; zero outside W)
// computed as one oneDNN forward convolution from dy's O channels to C s_h s_w phase channels,
// then copied into place. oneDNN's own backward-data kernels vectorise over the input channels,
// which an image has three of: resnet_fmnist's 7x7 stride-2 stem took 0.22 ms per image that way,
// more than the model's whole forward (README "Kernels per ISA").
#include "model/onednn_support.h"

#include <ATen/core/Tensor.h>

namespace fs::model::onednn {

class PhaseGradient {
 public:
  // Whether the form allows it: groups 1, no dilation, a stride above 1, at most kMaxChannels
  // input channels, H and W multiples of the stride, and padding below the kernel size.
  static constexpr int64_t kMaxChannels = 4;
  static bool applies(const at::Tensor& weight, const Dims& stride, const Dims& padding, const Dims& dilation,
                      int64_t groups, int64_t h, int64_t w);

  // weight: OIHW float; the output gradient arrives as [n, O, Ho, Wo] in the layout `gradOut`.
  // ready() is false where oneDNN offers only a reference kernel for the phase convolution.
  PhaseGradient(const at::Tensor& weight, const Dims& stride, const Dims& padding, int64_t n, int64_t h, int64_t w,
                const dnnl::memory::desc& gradOut);
  bool ready() const { return ready_; }

  // gradOut in the layout given at construction; the result is NCHW contiguous [n, C, h, w].
  at::Tensor run(const at::Tensor& gradOut) const;

 private:
  bool ready_ = false;
  int64_t n_ = 0, c_ = 0, h_ = 0, w_ = 0;
  Dims stride_;
  dnnl::convolution_forward primitive_;
  dnnl::memory weights_;
  dnnl::memory::desc src_, dst_;
};

}  // namespace fs::model::onednn
