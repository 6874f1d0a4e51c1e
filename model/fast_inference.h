#pragma once
// Inference-only convolutions and matrix products on oneDNN, used when no gradient is wanted
// (GradMode off, e.g. InferenceMode).
//
// PackedConv runs a convolution as a oneDNN primitive that is created once per input shape and
// cached, on weights reordered once into the layout that primitive wants, with its ReLU and
// residual sum fused in as post-ops. Activations are ordinary channels-last tensors, so taps need
// no conversion. Through ATen (at::conv2d / at::mkldnn_convolution) LibTorch 1.13 re-creates the
// primitive and reorders the weights on every call and cannot fuse; on ResNet-50 at batch 1 that
// overhead was about a fifth of the forward time.
//
// Results equal the autograd path's up to float rounding (tests/model/fast_inference_test.cpp).
#include "model/blocked_activations.h"

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/conv.h>

#include <memory>
#include <vector>

namespace fs::model {

// True when the caller wants no gradient, so the packed kernels below may be used.
bool fastInferenceAllowed();
// On by default; off makes every model take its autograd path (tests and benchmarks compare).
void setFastInferenceEnabled(bool on);
// True when a gradient is wanted and the packed convolutions may run its forward
// (PackedConv::runDifferentiable): the fast path is on and activation maximisation's redirected
// ReLU gradient is not active on this thread.
bool fastGradientAllowed();

// What happens to a convolution's output before it is handed back.
enum class PostOp {
  None,
  Relu,         // relu(conv(x))
  AddThenRelu,  // relu(conv(x) + addend): ResNet's last conv of a block
  ReluThenAdd,  // relu(conv(x)) + addend: ConvMLP's conv blocks
};

// The same with ATen ops (the autograd path, and the fallback).
at::Tensor applyPostOp(const at::Tensor& y, PostOp op, const at::Tensor& addend);

// The layout of a packed convolution's output: the input's (blocked stays blocked, anything else
// becomes channels-last), or blocked.
enum class ConvOutput { LikeInput, Blocked };

class PackedConv {
 public:
  // Keeps `weight`/`bias` (the conv's own or BatchNorm-folded ones, by reference: rebuild after
  // they change) and `conv`'s geometry; weights are reordered per cached primitive.
  // Leaves the object not ready when oneDNN cannot run this convolution.
  void pack(const torch::nn::Conv2dImpl& conv, const at::Tensor& weight, const at::Tensor& bias);
  // A linear layer's weight [O,I] (any strides: storeForMatmul's layout is read as it is) and bias
  // [O] as a 1x1 convolution: run on [N,H,W,I] tokens viewed as a channels-last [N,I,H,W] image.
  void packPointwise(const at::Tensor& weight, const at::Tensor& bias);
  void reset() { state_.reset(); }
  bool ready() const { return state_ != nullptr; }
  // x: float [N,C,H,W] in any memory format, or a blocked activation (below); the result in the
  // layout `out` says (blocked needs output channels that are a multiple of channelBlock()). An
  // addend that nobody else holds (pass it with std::move) receives the result in place, saving a
  // copy; it has the result's layout.
  at::Tensor run(const at::Tensor& x, PostOp op = PostOp::None, at::Tensor addend = {},
                 ConvOutput out = ConvOutput::LikeInput) const;
  // True when ready() and the output channels fill whole blocks.
  bool blockable() const;
  // True when ready() and the packed weight and bias need no gradient (the model's frozen parameters, or
  // BatchNorm-folded copies made without one): then runDifferentiable() may be used.
  bool differentiable() const;
  // run() recorded for autograd, for gradient passes through a prepared model (Grad-CAM, IG,
  // SmoothGrad, the evaluation lab): the forward is run()'s (the cached primitive on prepacked
  // weights, ReLU fused, no layout reorders), the backward a cached oneDNN backward-data primitive
  // for the input alone (an image stem's by phases, phase_gradient.h; ATen's where oneDNN has only
  // a reference kernel), with the ReLU's mask from the saved output, and the addend's gradient.
  // The weights get none (differentiable() must hold). ReluThenAdd runs as Relu and an ATen add.
  // On a batched integrated-gradients pass the forward half is what Python's autograd path spends
  // most beyond the kernels themselves (README "Kernels per ISA").
  at::Tensor runDifferentiable(const at::Tensor& x, PostOp op = PostOp::None, const at::Tensor& addend = {},
                               ConvOutput out = ConvOutput::LikeInput) const;

  struct State;

 private:
  // weight4: the OIHW weights as used (a view of the caller's when groups == 1); weightSource: the
  // caller's tensor, whose requires_grad decides differentiable().
  void packWith(const at::Tensor& weight4, const at::Tensor& weightSource, const at::Tensor& bias,
                const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                const std::vector<int64_t>& dilation, int64_t groups);

  std::shared_ptr<State> state_;
};

// What happens to a matrix product's output (bias included) before it is handed back.
enum class MatmulOp {
  None,
  Gelu,  // exact (erf) GELU, as at::gelu
  Add,   // + addend: the residual connection around an MLP
};

at::Tensor applyMatmulOp(const at::Tensor& y, MatmulOp op, const at::Tensor& addend);

// Stores a linear layer's weight W [N,K] (a parameter; changed in place, values kept) as the
// transpose of a row-major [K, ld] buffer, ld = N plus a little padding: a strided [N,K] view that
// ATen handles like any other. oneDNN's matmul reads that layout as it is, where the plain layout
// made it copy W into blocks on every call; the padding keeps rows off 4 KiB multiples. On
// Mixer-B/16's channel MLPs this was 5-7% faster, as fast as a reordered copy, with no extra memory.
// Does nothing when W is already stored so.
void storeForMatmul(at::Tensor& weight);
bool storedForMatmul(const at::Tensor& weight);

// A weight matrix W [rows, cols] and bias [rows], held by reference (the parameters themselves),
// with the oneDNN matmul primitives built for it so far, and for a linear layer on brgemm a copy of
// W in the primitive's blocked layout (blockedMatmulWeights(), kernel_policy.h): pack again after
// the parameters change.
class PackedMatmul {
 public:
  void pack(const at::Tensor& weight, const at::Tensor& bias);  // on matmulBackend()
  void pack(const at::Tensor& weight, const at::Tensor& bias, bool blas);
  void reset() { state_.reset(); }
  bool ready() const { return state_ != nullptr; }
  // True when ready() and the weight and bias need no gradient (frozen): runDifferentiable() may run.
  bool differentiable() const;

  struct State;

 protected:
  std::shared_ptr<State> state_;
};

// A linear layer y = x W^T + b (W [N,K]) as a cached oneDNN matmul primitive per row count, with
// GELU or the residual sum fused, or as BLAS's sgemm into a buffer holding the bias (and residual)
// with GELU after it, as kernel_policy.h decides. On AVX-512 oneDNN's brgemm ran Mixer-B/16's
// channel MLP 20-35% faster than OpenBLAS's sgemm (plain layout; faster still after storeForMatmul).
class PackedLinear : public PackedMatmul {
 public:
  // x: float [..., K]; result [..., N]. An exclusive addend [..., N] receives the result in place.
  at::Tensor run(const at::Tensor& x, MatmulOp op = MatmulOp::None, at::Tensor addend = {}) const;
};

// Token mixing y[b] = W x[b] + bias[:, None] for x [B,T,C] and W [O,T] (Mixer's token MLP,
// ResMLP's linear_tokens), the same way; the activations are the primitive's right operand, and one
// primitive per batch size covers the batch (W broadcast over it).
class PackedTokenMix : public PackedMatmul {
 public:
  // x: float [B,T,C]; result [B,O,C]. An exclusive addend [B,O,C] receives the result in place.
  at::Tensor run(const at::Tensor& x, MatmulOp op = MatmulOp::None, at::Tensor addend = {}) const;
  // run() recorded for autograd (gradient passes through frozen weights): the backward is W^T
  // times the output's gradient, by the same batched primitive. ATen's bmm over an expanded W
  // runs a GEMM per image forward and backward (mixTokens), 64x49x128 each on mixer_fmnist.
  at::Tensor runDifferentiable(const at::Tensor& x) const;
};

}  // namespace fs::model
