// Token mixing on the inference path (fast_inference.h, PackedTokenMix): W [O,T] times every
// image's [T,C] tokens as one oneDNN matmul primitive over the batch, and its autograd node.
#include "model/fast_inference.h"

#include "model/kernel_policy.h"
#include "model/layers.h"
#include "model/onednn_support.h"
#include "model/packed_matmul_state.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <memory>
#include <utility>

namespace fs::model {
using namespace onednn;

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

}  // namespace fs::model
