#include "model/fast_inference.h"

#include "model/layers.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <torch/csrc/autograd/grad_mode.h>

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace fs::model {
namespace {
std::atomic<bool> gFastInference{true};

using Dims = dnnl::memory::dims;
using Tag = dnnl::memory::format_tag;
constexpr auto kF32 = dnnl::memory::data_type::f32;
constexpr size_t kShapesPerLayer = 4;  // primitives (and conv weight copies) kept per layer

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& threadStream() {
  thread_local dnnl::stream s(engine());
  return s;
}

Dims pair(const torch::ExpandingArray<2>& a) { return {(*a)[0], (*a)[1]}; }

dnnl::post_ops postOps(PostOp op) {
  dnnl::post_ops ops;
  const auto relu = [&ops] { ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f); };
  switch (op) {
    case PostOp::None: break;
    case PostOp::Relu: relu(); break;
    case PostOp::AddThenRelu: ops.append_sum(1.f), relu(); break;
    case PostOp::ReluThenAdd: relu(), ops.append_sum(1.f); break;
  }
  return ops;
}

bool hasAddend(PostOp op) { return op == PostOp::AddThenRelu || op == PostOp::ReluThenAdd; }

dnnl::memory wrap(const dnnl::memory::desc& d, const at::Tensor& t) {
  return dnnl::memory(d, engine(), const_cast<void*>(t.data_ptr()));
}

dnnl::memory wrap(const dnnl::memory::desc& d, const float* p) {
  return dnnl::memory(d, engine(), const_cast<float*>(p));
}

// oneDNN's OpenMP regions take the calling thread's setting; LibTorch's count is the one we keep.
void syncThreads() {
  if (omp_get_max_threads() != at::get_num_threads()) omp_set_num_threads(at::get_num_threads());
}

// The output buffer: an addend nobody else holds is reused, else a copy of it, else fresh memory.
at::Tensor outputBuffer(at::Tensor addend, at::IntArrayRef sizes, const at::TensorOptions& options,
                        at::MemoryFormat format) {
  if (!addend.defined()) return at::empty(sizes, options.memory_format(format));
  TORCH_CHECK(addend.sizes() == sizes, "fused sum: addend shape ", addend.sizes(), " vs ", sizes);
  if (addend.use_count() == 1 && addend.storage().use_count() == 1 && addend.is_contiguous(format) &&
      addend.scalar_type() == at::kFloat && addend.storage_offset() == 0)
    return addend;
  return at::empty(sizes, options.memory_format(format)).copy_(addend);
}

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

// A small most-recently-used cache of primitives; an Entry carries its own `key`.
template <class Entry>
struct PrimitiveCache {
  std::list<Entry> entries;
  template <class Build>
  const Entry& get(const decltype(Entry::key)& key, const Build& build) {
    for (auto it = entries.begin(); it != entries.end(); ++it) {
      if (it->key != key) continue;
      if (it != entries.begin()) entries.splice(entries.begin(), entries, it);
      return entries.front();
    }
    entries.push_front(build());
    if (entries.size() > kShapesPerLayer) entries.pop_back();
    return entries.front();
  }
};
}  // namespace

struct PackedConv::State {
  at::Tensor weight, bias;  // plain OIHW / [O], float, contiguous
  Dims stride, padding, dilation;  // dilation in oneDNN's convention (0 = none)
  int64_t groups = 1;
  int64_t kernelVolume = 0;
  struct Entry {
    std::tuple<int64_t, int64_t, int64_t, int64_t, int> key;  // N, C, H, W, post-op
    dnnl::convolution_forward primitive;
    dnnl::memory weights;  // in the primitive's own layout
    dnnl::memory::desc src, dst, bias;
    Dims dstDims;
  };
  PrimitiveCache<Entry> cache;

  Dims weightDims() const {
    const auto w = weight.sizes();
    if (groups == 1) return {w[0], w[1], w[2], w[3]};
    return {groups, w[0] / groups, w[1], w[2], w[3]};
  }

  dnnl::convolution_forward::primitive_desc describe(Entry& e, int64_t n, int64_t c, int64_t h, int64_t w,
                                                    PostOp op) const {
    const int64_t kh = weight.size(2), kw = weight.size(3);
    const auto out = [&](int64_t size, int i, int64_t k) {
      return (size + 2 * padding[i] - (dilation[i] + 1) * (k - 1) - 1) / stride[i] + 1;
    };
    e.key = {n, c, h, w, int(op)};
    e.dstDims = {n, weight.size(0), out(h, 0, kh), out(w, 1, kw)};
    e.src = dnnl::memory::desc({n, c, h, w}, kF32, Tag::nhwc);
    e.dst = dnnl::memory::desc(e.dstDims, kF32, Tag::nhwc);
    e.bias = dnnl::memory::desc({weight.size(0)}, kF32, Tag::x);
    const dnnl::memory::desc anyWeights(weightDims(), kF32, Tag::any);
    const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                            e.src, anyWeights, e.bias, e.dst, stride, dilation, padding, padding);
    dnnl::primitive_attr attr;
    attr.set_post_ops(postOps(op));
    return dnnl::convolution_forward::primitive_desc(d, attr, engine());
  }

  Entry build(int64_t n, int64_t c, int64_t h, int64_t w, PostOp op) const {
    Entry e;
    const auto pd = describe(e, n, c, h, w, op);
    e.primitive = dnnl::convolution_forward(pd);
    const dnnl::memory::desc plain(weightDims(), kF32, groups == 1 ? Tag::oihw : Tag::goihw);
    dnnl::memory src = wrap(plain, weight);
    e.weights = dnnl::memory(pd.weights_desc(), engine());
    dnnl::reorder(src, e.weights).execute(threadStream(), src, e.weights);
    threadStream().wait();
    return e;
  }
};

bool fastInferenceAllowed() { return gFastInference.load() && !at::GradMode::is_enabled(); }
void setFastInferenceEnabled(bool on) { gFastInference.store(on); }

at::Tensor applyPostOp(const at::Tensor& y, PostOp op, const at::Tensor& addend) {
  switch (op) {
    case PostOp::None: return y;
    case PostOp::Relu: return at::relu(y);
    case PostOp::AddThenRelu: return at::relu(y + addend);
    case PostOp::ReluThenAdd: return at::relu(y) + addend;
  }
  return y;
}

void PackedConv::pack(const torch::nn::Conv2dImpl& conv, const at::Tensor& weight, const at::Tensor& bias) {
  reset();
  const auto& o = conv.options;
  const auto* pad = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (!pad || weight.scalar_type() != at::kFloat || weight.dim() != 4) return;  // not used by the zoo
  auto s = std::make_shared<State>();
  torch::NoGradGuard noGrad;
  s->weight = weight.detach().contiguous();  // shares the caller's storage: no copy
  s->bias = bias.defined() ? bias.detach().contiguous() : at::zeros({weight.size(0)}, weight.options());
  s->stride = pair(o.stride()), s->padding = pair(*pad), s->dilation = pair(o.dilation());
  for (auto& d : s->dilation) d -= 1;
  s->groups = o.groups();
  s->kernelVolume = weight.size(1) * weight.size(2) * weight.size(3);
  try {
    // Describe one primitive now (no weights are reordered), so that a convolution oneDNN cannot
    // run stays on the ATen path.
    const int64_t k = std::max(weight.size(2), weight.size(3));
    State::Entry probe;
    s->describe(probe, 1, weight.size(1) * s->groups, k + 2 * s->padding[0], k + 2 * s->padding[1], PostOp::None);
  } catch (const dnnl::error&) {
    return;
  }
  state_ = std::move(s);
}

at::Tensor PackedConv::run(const at::Tensor& input, PostOp op, at::Tensor addend) const {
  TORCH_CHECK(state_, "PackedConv::run before pack");
  TORCH_CHECK(input.dim() == 4 && input.scalar_type() == at::kFloat, "PackedConv: float NCHW input expected");
  const at::Tensor x = input.contiguous(at::MemoryFormat::ChannelsLast);
  const State::Entry* e = nullptr;
  try {
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    e = &state_->cache.get({n, c, h, w, int(op)}, [&] { return state_->build(n, c, h, w, op); });
  } catch (const dnnl::error& err) {
    throw std::runtime_error(std::string("oneDNN convolution: ") + err.what());
  }
  TORCH_CHECK(hasAddend(op) == addend.defined(), "PackedConv: addend given iff the op sums");
  at::Tensor y = outputBuffer(std::move(addend), e->dstDims, x.options(), at::MemoryFormat::ChannelsLast);
  syncThreads();
  dnnl::memory src = wrap(e->src, x), dst = wrap(e->dst, y), bias = wrap(e->bias, state_->bias);
  dnnl::memory weights = e->weights;
  e->primitive.execute(threadStream(), {{DNNL_ARG_SRC, src},
                                        {DNNL_ARG_WEIGHTS, weights},
                                        {DNNL_ARG_BIAS, bias},
                                        {DNNL_ARG_DST, dst}});
  threadStream().wait();
  MacCounter::add(y.numel() * state_->kernelVolume);
  return y;
}

at::Tensor applyMatmulOp(const at::Tensor& y, MatmulOp op, const at::Tensor& addend) {
  switch (op) {
    case MatmulOp::None: return y;
    case MatmulOp::Gelu: return at::gelu(y);
    case MatmulOp::Add: return addend + y;
  }
  return y;
}

struct MatmulEntry {
  std::pair<int64_t, MatmulOp> key;  // the free dimension (rows for a linear layer, columns for
                                     // token mixing) and the op
  dnnl::matmul primitive;
  dnnl::memory::desc src, weights, bias, dst;
};

struct PackedMatmul::State {
  at::Tensor weight, bias;
  PrimitiveCache<MatmulEntry> cache;

  // The cached primitive for this free dimension and op, made by build() the first time.
  template <class Build>
  const MatmulEntry& entry(int64_t size, MatmulOp op, const Build& build) {
    try {
      return cache.get({size, op}, [&] {
        MatmulEntry e = build();
        e.key = {size, op};
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
  reset();
  if (weight.scalar_type() != at::kFloat || weight.dim() != 2) return;
  auto s = std::make_shared<State>();
  torch::NoGradGuard noGrad;
  // The parameter's own storage, no copy (a layout other than these two is copied once).
  s->weight = storedForMatmul(weight) ? weight.detach() : weight.detach().contiguous();
  s->bias = bias.defined() ? bias.detach().contiguous() : at::zeros({weight.size(0)}, weight.options());
  state_ = std::move(s);
}

at::Tensor PackedLinear::run(const at::Tensor& input, MatmulOp op, at::Tensor addend) const {
  TORCH_CHECK(state_, "PackedLinear::run before pack");
  const int64_t n = state_->weight.size(0), k = state_->weight.size(1);
  TORCH_CHECK(input.scalar_type() == at::kFloat && input.size(-1) == k, "PackedLinear: input ", input.sizes());
  TORCH_CHECK((op == MatmulOp::Add) == addend.defined(), "PackedLinear: addend given iff the op sums");
  const at::Tensor x = input.reshape({-1, k}).contiguous();
  const int64_t m = x.size(0);
  State& s = *state_;
  const MatmulEntry* e = &s.entry(m, op, [&] {
    MatmulEntry entry;
    entry.src = dnnl::memory::desc({m, k}, kF32, Tag::ab);
    entry.bias = dnnl::memory::desc({1, n}, kF32, Tag::ab);
    entry.dst = dnnl::memory::desc({m, n}, kF32, Tag::ab);
    // The parameter itself: (K,N) row-major with padded rows once storeForMatmul() has run, else
    // [N,K] row-major = (K,N) in "ba", which the primitive copies into blocks on every call.
    entry.weights = storedForMatmul(s.weight) ? dnnl::memory::desc({k, n}, kF32, Dims{s.weight.stride(1), 1})
                                              : dnnl::memory::desc({k, n}, kF32, Tag::ba);
    entry.primitive = dnnl::matmul(matmulDesc(entry.src, entry.weights, entry.bias, entry.dst, op));
    return entry;
  });
  auto sizes = input.sizes().vec();
  sizes.back() = n;
  at::Tensor y = outputBuffer(std::move(addend), sizes, x.options(), at::MemoryFormat::Contiguous);
  syncThreads();
  dnnl::memory src = wrap(e->src, x), dst = wrap(e->dst, y), bias = wrap(e->bias, s.bias);
  dnnl::memory weights = wrap(e->weights, s.weight);
  e->primitive.execute(threadStream(),
                       {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});
  threadStream().wait();
  MacCounter::add(m * n * k);
  return y;
}

at::Tensor PackedTokenMix::run(const at::Tensor& input, MatmulOp op, at::Tensor addend) const {
  TORCH_CHECK(state_, "PackedTokenMix::run before pack");
  const int64_t o = state_->weight.size(0), t = state_->weight.size(1);
  TORCH_CHECK(input.scalar_type() == at::kFloat && input.dim() == 3 && input.size(1) == t,
              "PackedTokenMix: input ", input.sizes());
  TORCH_CHECK((op == MatmulOp::Add) == addend.defined(), "PackedTokenMix: addend given iff the op sums");
  const at::Tensor x = input.contiguous();
  const int64_t batch = x.size(0), c = x.size(2);
  State& s = *state_;
  const MatmulEntry* e = &s.entry(c, op, [&] {
    MatmulEntry entry;
    entry.src = dnnl::memory::desc({o, t}, kF32, Dims{s.weight.stride(0), s.weight.stride(1)});
    entry.weights = dnnl::memory::desc({t, c}, kF32, Tag::ab);
    entry.dst = dnnl::memory::desc({o, c}, kF32, Tag::ab);
    // brgemm has no per-row bias (oneDNN falls back to its reference kernel, 300x slower): the
    // bias (and addend) are written into the output first and summed in as a post-op.
    dnnl::post_ops ops;
    ops.append_sum(1.f);
    if (op == MatmulOp::Gelu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    entry.primitive = dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(entry.src, entry.weights, entry.dst), attr, engine()));
    return entry;
  });
  const at::Tensor rowBias = s.bias.view({1, o, 1});
  at::Tensor y;
  if (addend.defined()) {
    y = outputBuffer(std::move(addend), {batch, o, c}, x.options(), at::MemoryFormat::Contiguous);
    y.add_(rowBias);
  } else {
    y = rowBias.expand({batch, o, c}).contiguous();
  }
  syncThreads();
  dnnl::memory src = wrap(e->src, s.weight);
  const float* xp = x.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  for (int64_t b = 0; b < batch; ++b) {
    dnnl::memory weights = wrap(e->weights, xp + b * t * c), dst = wrap(e->dst, yp + b * o * c);
    e->primitive.execute(threadStream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
  }
  threadStream().wait();
  MacCounter::add(batch * o * t * c);
  return y;
}

}  // namespace fs::model
