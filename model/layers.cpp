#include "model/layers.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace fs::model {
namespace {
thread_local MacCounter* tCounter = nullptr;

at::Tensor rawConv(const torch::nn::Conv2dImpl& c, const at::Tensor& x, const at::Tensor& w,
                   const at::Tensor& b) {
  const auto& o = c.options;
  const auto* pad = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  at::IntArrayRef padding = pad ? at::IntArrayRef(**pad) : at::IntArrayRef({0, 0});
  at::Tensor y = at::conv2d(x, w, b, *o.stride(), padding, *o.dilation(), o.groups());
  if (tCounter) {
    MacCounter::add(y.numel() * (w.size(1) * w.size(2) * w.size(3)));
  }
  return y;
}
}  // namespace

MacCounter::MacCounter() : previous_(tCounter) { tCounter = this; }
MacCounter::~MacCounter() { tCounter = previous_; }
void MacCounter::add(int64_t macs) {
  if (tCounter) tCounter->total_ += macs;
}

at::Tensor conv2d(const torch::nn::Conv2d& conv, const at::Tensor& x) {
  return rawConv(*conv, x, conv->weight, conv->bias);
}

namespace {
// Which of `packed`'s paths runs now, decided here for conv2d(), ConvBn::forward() and blockable():
// the inference path without autograd, the differentiable one for frozen weights, else none.
enum class PackedPath { None, Inference, Gradient };
PackedPath packedPath(const PackedConv& packed) {
  if (packed.ready() && fastInferenceAllowed()) return PackedPath::Inference;
  if (fastGradientAllowed() && packed.differentiable()) return PackedPath::Gradient;
  return PackedPath::None;
}

// Runs `packed` on `path` (not None); the addend is handed over as PackedConv::run allows.
at::Tensor runPacked(PackedPath path, const PackedConv& packed, const at::Tensor& x, PostOp op, at::Tensor addend,
                     ConvOutput out) {
  return path == PackedPath::Inference ? packed.run(x, op, std::move(addend), out)
                                       : packed.runDifferentiable(x, op, addend, out);
}

void checkUnblocked(const at::Tensor& x, ConvOutput out) {
  TORCH_CHECK(!isBlocked(x) && out != ConvOutput::Blocked, "blocked activations without packed convolutions");
}
}  // namespace

torch::nn::LayerNorm layerNorm(int64_t dim, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps));
}

at::Tensor conv2d(const torch::nn::Conv2d& conv, const PackedConv& packed, const at::Tensor& x, ConvOutput out) {
  if (const PackedPath path = packedPath(packed); path != PackedPath::None)
    return runPacked(path, packed, x, PostOp::None, {}, out);
  checkUnblocked(x, out);
  return conv2d(conv, x);
}

bool blockable(const PackedConv& packed) { return packed.blockable() && packedPath(packed) != PackedPath::None; }

at::Tensor maxPool2d(const at::Tensor& x, int64_t kernel, int64_t stride, int64_t padding, bool packedPath) {
  if (packedPath && fastInferenceAllowed() && !x.requires_grad())
    if (at::Tensor y = maxPool2dInference(x, kernel, stride, padding); y.defined()) return y;
  if (!isBlocked(x)) return at::max_pool2d(x, {kernel, kernel}, {stride, stride}, {padding, padding});
  const at::Tensor y =
      at::max_pool2d(blockedSpatialView(x), {kernel, kernel}, {stride, stride}, {padding, padding});
  return fromSpatialView(y, x.size(0));
}

void packConv(PackedConv& packed, const torch::nn::Conv2d& conv, bool on) {
  if (on)
    packed.pack(*conv, conv->weight, conv->bias);
  else
    packed.reset();
}

at::Tensor linear(const torch::nn::Linear& fc, const at::Tensor& x) {
  at::Tensor y = at::linear(x, fc->weight, fc->bias);
  MacCounter::add(y.numel() * fc->weight.size(1));
  return y;
}

MlpImpl::MlpImpl(int64_t in, int64_t hidden, int64_t out) {
  fc1 = register_module("fc1", torch::nn::Linear(in, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, out));
}

at::Tensor MlpImpl::forward(const at::Tensor& x, at::Tensor residual) {
  const MatmulOp last = residual.defined() ? MatmulOp::Add : MatmulOp::None;
  if (fc1Packed_.ready() && fastInferenceAllowed())
    return fc2Packed_.run(fc1Packed_.run(x, MatmulOp::Gelu), last, std::move(residual));
  if ((x.dim() == 4 || x.dim() == 3) && fastGradientAllowed() && fc1Pointwise_.differentiable() &&
      fc2Pointwise_.differentiable()) {
    // [N,H,W,C] is a channels-last [N,C,H,W] ([B,N,C] tokens as [B,N,1,C]): the products as 1x1
    // convolutions, no copies. GELU runs on the [N,H,W,C] view: LibTorch 1.13's GELU and its
    // backward took 4-5x longer on the same memory seen as channels-last [N,C,H,W].
    const at::Tensor x4 = x.dim() == 3 ? x.unsqueeze(2) : x;
    const at::Tensor h = fc1Pointwise_.runDifferentiable(x4.permute({0, 3, 1, 2})).permute({0, 2, 3, 1});
    at::Tensor y = fc2Pointwise_.runDifferentiable(at::gelu(h).permute({0, 3, 1, 2})).permute({0, 2, 3, 1});
    if (x.dim() == 3) y = y.squeeze(2);
    return applyMatmulOp(y, last, residual);
  }
  return applyMatmulOp(linear(fc2, at::gelu(linear(fc1, x))), last, residual);
}

void MlpImpl::pack(bool on, bool tokens) {
  fc1Packed_.reset(), fc2Packed_.reset(), fc1Tokens_.reset(), fc2Tokens_.reset();
  fc1Pointwise_.reset(), fc2Pointwise_.reset();
  if (!on) return;
  if (tokens) {
    fc1Tokens_.pack(fc1->weight, fc1->bias), fc2Tokens_.pack(fc2->weight, fc2->bias);
  } else {
    storeForMatmul(fc1->weight), storeForMatmul(fc2->weight);
    fc1Packed_.pack(fc1->weight, fc1->bias), fc2Packed_.pack(fc2->weight, fc2->bias);
    fc1Pointwise_.packPointwise(fc1->weight, fc1->bias), fc2Pointwise_.packPointwise(fc2->weight, fc2->bias);
  }
}

// W x + b for x [B,N,C] mixing along N; batch 1 (the interactive case) is one GEMM. Batches use
// bmm: the backward of LibTorch 1.13's broadcasting matmul(2-D, 3-D) gave wrong input gradients.
at::Tensor mixTokens(const torch::nn::Linear& fc, const at::Tensor& x) {
  at::Tensor y = x.size(0) == 1 ? at::addmm(fc->bias.unsqueeze(-1), fc->weight, x[0]).unsqueeze(0)
                                : at::bmm(fc->weight.expand({x.size(0), -1, -1}), x).add_(fc->bias.unsqueeze(-1));
  MacCounter::add(y.numel() * fc->weight.size(1));
  return y;
}

at::Tensor MlpImpl::forwardTokens(const at::Tensor& x, at::Tensor residual) {
  const MatmulOp last = residual.defined() ? MatmulOp::Add : MatmulOp::None;
  if (fc1Tokens_.ready() && fastInferenceAllowed())
    return fc2Tokens_.run(fc1Tokens_.run(x, MatmulOp::Gelu), last, std::move(residual));
  if (fastGradientAllowed() && fc1Tokens_.differentiable() && fc2Tokens_.differentiable())
    return applyMatmulOp(fc2Tokens_.runDifferentiable(at::gelu(fc1Tokens_.runDifferentiable(x))), last, residual);
  return applyMatmulOp(mixTokens(fc2, at::gelu(mixTokens(fc1, x))), last, residual);
}

AffineImpl::AffineImpl(int64_t dim) {
  alpha = register_parameter("alpha", at::ones({1, 1, dim}));
  beta = register_parameter("beta", at::zeros({1, 1, dim}));
}

at::Tensor AffineImpl::forward(const at::Tensor& x) { return at::addcmul(beta, alpha, x); }

at::Tensor ConvBn::forward(const at::Tensor& x, bool training, PostOp op, at::Tensor addend, ConvOutput out) const {
  if (const PackedPath path = training ? PackedPath::None : packedPath(packed_); path != PackedPath::None)
    return runPacked(path, packed_, x, op, std::move(addend), out);
  checkUnblocked(x, out);
  if (!training && weight_.defined()) return applyPostOp(rawConv(*conv_, x, weight_, bias_), op, addend);
  return applyPostOp(bn_.ptr()->forward(conv2d(conv_, x)), op, addend);
}

bool ConvBn::blockable() const { return fs::model::blockable(packed_); }

void ConvBn::fold() {
  torch::NoGradGuard noGrad;
  const auto& o = bn_->options;
  at::Tensor scale = bn_->weight / at::sqrt(bn_->running_var + o.eps());
  weight_ = (conv_->weight * scale.view({-1, 1, 1, 1})).contiguous();
  at::Tensor convBias = conv_->bias.defined() ? conv_->bias : at::zeros_like(bn_->running_mean);
  bias_ = (bn_->bias + (convBias - bn_->running_mean) * scale).contiguous();
  packed_.pack(*conv_, weight_, bias_);
}

}  // namespace fs::model
