#pragma once
// Inference-only kernels, used when no gradient is wanted (GradMode off, e.g. InferenceMode):
//  - PackedConv: a convolution whose weights are reordered once into oneDNN's blocked layout, so
//    the per-call weight reorder that at::conv2d does (up to 2 ms for a 512x256x3x3 kernel on
//    two cores) disappears. It runs on dense inputs and on oneDNN-layout inputs; the latter keeps
//    a whole conv stack in oneDNN's layout with no activation reorders between layers.
// Results equal the autograd path's up to float rounding (tests/model/fast_inference_test.cpp).
#include <ATen/core/Tensor.h>
#include <torch/nn/modules/conv.h>

#include <cstdint>
#include <vector>

namespace fs::model {

// True when the caller wants no gradient, so the kernels above may be used.
bool fastInferenceAllowed();
// On by default; off makes every model take its autograd path (tests compare the two).
void setFastInferenceEnabled(bool on);

class PackedConv {
 public:
  // Packs `weight`/`bias` (the conv's own or BatchNorm-folded ones) with `conv`'s geometry.
  void pack(const torch::nn::Conv2dImpl& conv, const at::Tensor& weight, const at::Tensor& bias);
  void reset();
  bool ready() const { return packed_.defined(); }
  // x: dense NCHW / channels-last, or oneDNN layout (then the result is oneDNN layout too).
  at::Tensor run(const at::Tensor& x) const;

 private:
  at::Tensor packed_, bias_;
  int64_t kernelVolume_ = 0;  // in_channels/groups * kh * kw, for the MAC count
  std::vector<int64_t> stride_, padding_, dilation_;
  int64_t groups_ = 1;
};

}  // namespace fs::model
