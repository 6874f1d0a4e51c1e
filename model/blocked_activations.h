#pragma once
// Activations in oneDNN's layouts for the fast inference path (fast_inference.h): the blocked
// layout, when to use it, and max pooling on it.
//
// oneDNN's convolutions run fastest on its blocked layouts (channels in blocks of 8 on AVX2, 16 on
// AVX-512, the block innermost): at batch 10 its AVX2 channels-last (nhwc) kernels took 10-60%
// longer per ResNet-50 layer, which is why Python's NCHW path, reordering to nChw8c and back around
// every convolution, kept up with the channels-last one on batched work. A family whose
// convolutions all fill whole blocks (ResNet, ConvMLP) keeps its activations blocked from the stem
// to its last convolution when blockedConvolutions() says so: no reorders between layers, taps
// converted when asked for.
//
// A blocked activation is a float tensor [N, C/b, H, W, b] with b = channelBlock(): channel c of
// pixel (h, w) of sample n at [n][c/b][h][w][c%b] (oneDNN's nChw8c, or nChw16c on AVX-512).
// Elementwise ops (ReLU's mask, sums) work on it as on any
// tensor of its shape; per-channel spatial ops (pooling) on blockedSpatialView(); autograd sees
// ordinary tensors.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace fs::model {

int64_t channelBlock();
inline bool isBlocked(const at::Tensor& x) { return x.dim() == 5; }
// [N,C,H,W] (any memory format; C a multiple of channelBlock()) -> blocked; differentiable.
at::Tensor toBlocked(const at::Tensor& x);
// Blocked -> [N,C,H,W] channels-last; differentiable.
at::Tensor fromBlocked(const at::Tensor& x);
// The same memory as [N*C/b, b, H, W] channels-last (a view), for ATen's per-channel spatial ops;
// fromSpatialView() undoes it for a result of that form.
at::Tensor blockedSpatialView(const at::Tensor& x);
at::Tensor fromSpatialView(const at::Tensor& v, int64_t batch);
// Whether a batch of `batch` samples should run its convolutions on blocked activations: at batch 2
// and more, on both ISAs, as measured in the README's "Kernels per ISA" (at batch 1 the channels-last
// kernels were as fast forward and faster forward+backward); FEATURESCOPE_CONV_LAYOUT=blocked|nhwc,
// or setConvLayout(), overrides that for every batch (benchmarks and tests compare both).
bool blockedConvolutions(int64_t batch);
enum class ConvLayout { Measured, Blocked, ChannelsLast };
void setConvLayout(ConvLayout layout);

// Max pooling (square kernel, stride, symmetric padding, floor mode) for inference, as oneDNN's
// forward-inference pooling on a float channels-last, NCHW or blocked tensor; the output in the
// input's layout, with the values of at::max_pool2d. LibTorch 1.13's CPU max_pool2d always computes
// int64 indices as well, twice the output's bytes: on ConvMLP-S's tokenizer at 112 px and batch 41
// a 16 MB block whose pages faulted afresh on every batch (glibc's aligned allocations missed the
// chunk the previous batch freed by their alignment slack). Undefined when oneDNN offers only a
// reference kernel or none: the caller runs ATen's. Counted in kernelUses() as "pooling".
at::Tensor maxPool2dInference(const at::Tensor& x, int64_t kernel, int64_t stride, int64_t padding);

}  // namespace fs::model
