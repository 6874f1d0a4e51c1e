// The matrix products of the inference path (fast_inference.h): oneDNN matmul primitives or BLAS,
// as matmulBackend() decides (kernel_policy.h).
#include "model/fast_inference.h"

#include "model/kernel_policy.h"
#include "model/layers.h"
#include "model/onednn_support.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/custom_function.h>
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

// The free dimension (rows for a linear layer, columns for token mixing), the batch (token mixing;
// 1 for a linear layer), the op, and whether W is used transposed (token mixing's input gradient).
using MatmulKey = std::tuple<int64_t, int64_t, MatmulOp, bool>;

struct MatmulEntry {
  MatmulKey key;
  bool blas = false;                 // oneDNN offered only a reference kernel for this shape
  int64_t* uses = nullptr;           // kernelCounter() of what runs
  dnnl::matmul primitive;
  dnnl::memory::desc src, weights, bias, dst;
  at::Tensor blockedWeight;  // the weight in `weights`' blocked layout, shared (State::blocked); else undefined
};

struct PackedMatmul::State {
  at::Tensor weight, bias;
  at::Tensor weightSource, biasSource;  // the caller's tensors: whether they want a gradient now
  bool blas = false;  // matmulBackend() chose BLAS for every product of this layer
  int64_t* blasUses = kernelCounter("matmul", "blas:sgemm");
  PrimitiveCache<MatmulEntry> cache;
  // The weight reordered into each blocked layout a primitive asked for (usually one per layer);
  // kept while the layer is packed, outliving the primitives the cache evicts.
  std::vector<std::pair<dnnl::memory::desc, at::Tensor>> blocked;

  // W as the (K,N) layout `layout` wants, from `plain` (W's own storage, described as (K,N)).
  const at::Tensor& blockedWeight(const dnnl::memory::desc& layout, const dnnl::memory::desc& plain) {
    for (const auto& [d, t] : blocked)
      if (d == layout) return t;
    at::Tensor t = at::empty({static_cast<int64_t>((layout.get_size() + sizeof(float) - 1) / sizeof(float))},
                             weight.options().requires_grad(false));
    dnnl::memory from = wrap(plain, weight), to = wrap(layout, t);
    syncThreads();
    dnnl::reorder(from, to).execute(threadStream(), from, to);
    threadStream().wait();
    blocked.emplace_back(layout, std::move(t));
    return blocked.back().second;
  }

  // The cached primitive for this key, made by build() the first time; an entry whose primitive
  // would be a reference kernel is marked for BLAS instead.
  template <class Build>
  const MatmulEntry& entry(const MatmulKey& key, const Build& build) {
    try {
      return cache.get(key, [&] {
        MatmulEntry e;
        const dnnl::matmul::primitive_desc pd = build(e);
        const std::string impl = pd.impl_info_str();
        e.key = key;
        e.blas = isSlowImplementation(impl);
        e.uses = e.blas ? blasUses : kernelCounter("matmul", impl);
        if (!e.blas) e.primitive = dnnl::matmul(pd);
        return e;
      });
    } catch (const dnnl::error& err) {
      throw std::runtime_error(std::string("oneDNN matmul: ") + err.what());
    }
  }
};

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
  dnnl::memory weights = wrap(e->weights, e->blockedWeight.defined() ? e->blockedWeight : s.weight);
  e->primitive.execute(threadStream(),
                       {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});
  threadStream().wait();
  return y;
}

namespace {
// Token mixing's operands: W [O,T] (or W^T [T,O], read transposed in place) broadcast over a batch
// of right operands [B,K,C] into [B,M,C], one primitive for the whole batch.
void describeTokenMix(MatmulEntry& entry, const at::Tensor& w, bool transposed, int64_t batch, int64_t c) {
  const int ri = transposed ? 1 : 0, ki = 1 - ri;
  const int64_t m = w.size(ri), k = w.size(ki);
  entry.src = dnnl::memory::desc({1, m, k}, kF32, Dims{m * k, w.stride(ri), w.stride(ki)});
  entry.weights = dnnl::memory::desc({batch, k, c}, kF32, Tag::abc);
  entry.dst = dnnl::memory::desc({batch, m, c}, kF32, Tag::abc);
}

// dst = W x (plus what the entry's post-ops add to dst's contents) for the whole batch.
void runTokenMix(const MatmulEntry& e, const at::Tensor& w, const at::Tensor& x, const at::Tensor& dst) {
  syncThreads();
  dnnl::memory src = wrap(e.src, w), weights = wrap(e.weights, x), out = wrap(e.dst, dst);
  e.primitive.execute(threadStream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, out}});
  threadStream().wait();
}
}  // namespace

at::Tensor PackedTokenMix::run(const at::Tensor& input, MatmulOp op, at::Tensor addend) const {
  TORCH_CHECK(state_, "PackedTokenMix::run before pack");
  const int64_t o = state_->weight.size(0), t = state_->weight.size(1);
  TORCH_CHECK(input.scalar_type() == at::kFloat && input.dim() == 3 && input.size(1) == t,
              "PackedTokenMix: input ", input.sizes());
  TORCH_CHECK((op == MatmulOp::Add) == addend.defined(), "PackedTokenMix: addend given iff the op sums");
  const at::Tensor x = input.contiguous();
  const int64_t batch = x.size(0), c = x.size(2);
  State& s = *state_;
  const MatmulEntry* e = s.blas ? nullptr : &s.entry({c, batch, op, false}, [&](MatmulEntry& entry) {
    // One primitive for the whole batch, W broadcast over it: one call per image made Mixer's and
    // ResMLP's occlusion batches 20-24% slower (AVX-512; 7-17% on AVX2).
    describeTokenMix(entry, s.weight, false, batch, c);
    // brgemm has no per-row bias (oneDNN falls back to its reference kernel, 300x slower): the
    // bias (and addend) are written into the output first and summed in as a post-op.
    dnnl::post_ops ops;
    ops.append_sum(1.f);
    if (op == MatmulOp::Gelu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(entry.src, entry.weights, entry.dst), attr, engine());
  });
  countKernel(e ? e->uses : s.blasUses);
  MacCounter::add(batch * o * t * c);
  const at::Tensor rowBias = s.bias.view({1, o, 1});
  at::Tensor y;
  if (addend.defined()) {
    y = outputBuffer(std::move(addend), {batch, o, c}, x.options(), at::MemoryFormat::Contiguous);
    y.add_(rowBias);
  } else {
    y = rowBias.expand({batch, o, c}).contiguous();
  }
  if (!e || e->blas) {
    for (int64_t b = 0; b < batch; ++b) y[b].addmm_(s.weight, x[b]);
    if (op == MatmulOp::Gelu) at::gelu_(y);
    return y;
  }
  runTokenMix(*e, s.weight, x, y);
  return y;
}

namespace {
// gx[b] = W^T gy[b] for gy [B,O,C]: token mixing's input gradient, W read transposed in place,
// one primitive per batch size (as PackedTokenMix::run); not counted as MACs of a forward.
at::Tensor transposedTokenMix(PackedMatmul::State& s, const at::Tensor& gradOut) {
  const at::Tensor g = gradOut.contiguous();
  const int64_t batch = g.size(0), c = g.size(2);
  const MatmulEntry* e = s.blas ? nullptr : &s.entry({c, batch, MatmulOp::None, true}, [&](MatmulEntry& entry) {
    describeTokenMix(entry, s.weight, true, batch, c);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(entry.src, entry.weights, entry.dst), engine());
  });
  if (!e || e->blas) return at::matmul(s.weight.t(), g);
  at::Tensor gx = at::empty({batch, s.weight.size(1), c}, g.options());
  runTokenMix(*e, s.weight, g, gx);
  return gx;
}

// The autograd node of PackedTokenMix::runDifferentiable: the forward is run()'s, the backward
// W^T times the output's gradient; W and the bias (frozen) get none. Keeps the packed weights the
// backward needs alive with the graph (stateCapsule).
struct TokenMixFunction : public torch::autograd::Function<TokenMixFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const PackedTokenMix* mix,
                            std::shared_ptr<PackedMatmul::State> state) {
    ctx->saved_data["state"] = stateCapsule(std::move(state));
    return mix->run(x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    return {transposedTokenMix(fromStateCapsule<PackedMatmul::State>(ctx->saved_data["state"]), grads[0]),
            at::Tensor(), at::Tensor()};
  }
};
}  // namespace

at::Tensor PackedTokenMix::runDifferentiable(const at::Tensor& x) const {
  TORCH_CHECK(differentiable(), "PackedTokenMix::runDifferentiable: the weights need a gradient");
  return TokenMixFunction::apply(x, this, state_);
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
