// The linear layers of the inference path (fast_inference.h): oneDNN matmul primitives or BLAS,
// as matmulBackend() decides (kernel_policy.h); token mixing is in fast_token_mix.cpp.
#include "model/fast_inference.h"

#include "model/kernel_policy.h"
#include "model/layers.h"
#include "model/onednn_support.h"
#include "model/packed_matmul_state.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace fs::model {
using namespace onednn;
namespace {
dnnl::post_ops matmulPostOps(MatmulOp op) {
  dnnl::post_ops ops;
  if (op == MatmulOp::Gelu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
  if (op == MatmulOp::Add) ops.append_sum(1.f);
  return ops;
}

dnnl::matmul::primitive_desc matmulDesc(const dnnl::memory::desc& src, const dnnl::memory::desc& weights,
                                        const dnnl::memory::desc& bias, const dnnl::memory::desc& dst, MatmulOp op) {
  dnnl::primitive_attr attr;
  attr.set_post_ops(matmulPostOps(op));
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, bias, dst), attr, engine());
}

}  // namespace

at::Tensor applyMatmulOp(const at::Tensor& y, MatmulOp op, const at::Tensor& addend) {
  switch (op) {
    case MatmulOp::None: return y;
    case MatmulOp::Gelu: return at::gelu(y);
    case MatmulOp::Add: return addend + y;
  }
  return y;
}

dnnl::memory PackedMatmul::State::blockedWeight(const dnnl::memory::desc& layout, const dnnl::memory::desc& plain) {
  for (const dnnl::memory& m : blocked)
    if (m.get_desc() == layout) return m;
  blocked.push_back(reordered(wrap(plain, weight), layout));
  return blocked.back();
}

bool storedForMatmul(const at::Tensor& w) {
  return w.dim() == 2 && w.stride(0) == 1 && w.stride(1) >= w.size(0) && w.size(0) > 1 && w.size(1) > 1;
}

void storeForMatmul(at::Tensor& weight) {
  if (weight.dim() != 2 || weight.scalar_type() != at::kFloat || storedForMatmul(weight)) return;
  const int64_t n = weight.size(0), k = weight.size(1);
  if (n < 2 || k < 2) return;
  // Rows of a multiple of 16 floats (64-byte aligned) plus 32, so no row starts a multiple of 4 KiB
  // after the previous one (measured: padding of 16-96 floats all did; none was slower).
  const int64_t ld = (n + 15) / 16 * 16 + 32;
  torch::NoGradGuard noGrad;
  at::Tensor buffer = at::empty({k, ld}, weight.options().requires_grad(false));
  at::Tensor view = buffer.narrow(1, 0, n).t();
  view.copy_(weight.detach());
  weight.set_data(view);
}

void PackedMatmul::pack(const at::Tensor& weight, const at::Tensor& bias) {
  pack(weight, bias, matmulBackend() == MatmulBackend::Blas);
}

void PackedMatmul::pack(const at::Tensor& weight, const at::Tensor& bias, bool blas) {
  reset();
  if (weight.scalar_type() != at::kFloat || weight.dim() != 2) return;
  auto s = std::make_shared<State>();
  torch::NoGradGuard noGrad;
  // The parameter's own storage, no copy (a layout other than these two is copied once).
  s->weight = storedForMatmul(weight) ? weight.detach() : weight.detach().contiguous();
  s->bias = bias.defined() ? bias.detach().contiguous() : at::zeros({weight.size(0)}, weight.options());
  s->weightSource = weight, s->biasSource = bias;
  s->blas = blas;
  state_ = std::move(s);
}

bool PackedMatmul::differentiable() const { return state_ && frozen(state_->weightSource, state_->biasSource); }

namespace {
// y [m,n] (holding bias + addend where the op sums) += x [m,k] W^T, then GELU: the BLAS backend.
void blasLinear(at::Tensor& y, const at::Tensor& x, const at::Tensor& w, MatmulOp op) {
  y.addmm_(x, w.t());
  if (op == MatmulOp::Gelu) at::gelu_(y);
}
}  // namespace

at::Tensor PackedLinear::run(const at::Tensor& input, MatmulOp op, at::Tensor addend) const {
  TORCH_CHECK(state_, "PackedLinear::run before pack");
  const int64_t n = state_->weight.size(0), k = state_->weight.size(1);
  TORCH_CHECK(input.scalar_type() == at::kFloat && input.size(-1) == k, "PackedLinear: input ", input.sizes());
  TORCH_CHECK((op == MatmulOp::Add) == addend.defined(), "PackedLinear: addend given iff the op sums");
  const at::Tensor x = input.reshape({-1, k}).contiguous();
  const int64_t m = x.size(0);
  State& s = *state_;
  auto sizes = input.sizes().vec();
  sizes.back() = n;
  MacCounter::add(m * n * k);
  const MatmulEntry* e = s.blas ? nullptr : &s.entry({m, 1, op, false}, [&](MatmulEntry& entry) {
    entry.src = dnnl::memory::desc({m, k}, kF32, Tag::ab);
    entry.bias = dnnl::memory::desc({1, n}, kF32, Tag::ab);
    entry.dst = dnnl::memory::desc({m, n}, kF32, Tag::ab);
    // The parameter itself: (K,N) row-major with padded rows once storeForMatmul() has run, else
    // [N,K] row-major = (K,N) in "ba", which the primitive copies into blocks on every call.
    entry.weights = storedForMatmul(s.weight) ? dnnl::memory::desc({k, n}, kF32, Dims{s.weight.stride(1), 1})
                                              : dnnl::memory::desc({k, n}, kF32, Tag::ba);
    if (blockedMatmulWeights(k * n)) {
      // Let brgemm choose W's layout (kernel_policy.h); any other kernel keeps reading W itself.
      const dnnl::memory::desc any({k, n}, kF32, Tag::any);
      dnnl::matmul::primitive_desc pd = matmulDesc(entry.src, any, entry.bias, entry.dst, op);
      if (std::string_view(pd.impl_info_str()).substr(0, 4) == "brg:") {
        entry.blockedWeight = s.blockedWeight(pd.weights_desc(), entry.weights);
        entry.weights = pd.weights_desc();
        return pd;
      }
    }
    return matmulDesc(entry.src, entry.weights, entry.bias, entry.dst, op);
  });
  countKernel(e ? e->uses : s.blasUses);
  if (!e || e->blas) {
    at::Tensor y = op == MatmulOp::Add
                       ? outputBuffer(std::move(addend), sizes, x.options(), at::MemoryFormat::Contiguous)
                       : at::empty(sizes, x.options());
    at::Tensor y2 = y.view({m, n});
    if (op == MatmulOp::Add)
      y2.add_(s.bias);
    else
      y2.copy_(s.bias.expand({m, n}));
    blasLinear(y2, x, s.weight, op);
    return y;
  }
  at::Tensor y = outputBuffer(std::move(addend), sizes, x.options(), at::MemoryFormat::Contiguous);
  syncThreads();
  dnnl::memory src = wrap(e->src, x), dst = wrap(e->dst, y), bias = wrap(e->bias, s.bias);
  dnnl::memory weights = e->blockedWeight ? e->blockedWeight : wrap(e->weights, s.weight);
  e->primitive.execute(threadStream(),
                       {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});
  threadStream().wait();
  return y;
}

MatmulTiming timeMatmulBackends() {
  torch::NoGradGuard noGrad;
  const auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
  // [rows, in, out]: Mixer-B/16's channel MLP fc1 and ConvMLP-S's first-stage fc1, batch 1.
  const int64_t shapes[][3] = {{196, 768, 3072}, {784, 128, 256}};
  MatmulTiming t;
  for (const auto& shape : shapes) {
    at::Tensor w = at::randn({shape[2], shape[1]}, gen), b = at::randn({shape[2]}, gen);
    const at::Tensor x = at::randn({shape[0], shape[1]}, gen);
    storeForMatmul(w);
    for (bool blas : {false, true}) {
      PackedLinear fc;
      fc.pack(w, b, blas);
      double best = 1e30;
      for (int i = 0; i < 7; ++i) {  // the first two warm up (primitive creation, BLAS buffers)
        const auto t0 = std::chrono::steady_clock::now();
        fc.run(x, MatmulOp::Gelu);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (i >= 2) best = std::min(best, ms);
      }
      (blas ? t.blasMs : t.onednnMs) += best;
    }
  }
  return t;
}

}  // namespace fs::model
