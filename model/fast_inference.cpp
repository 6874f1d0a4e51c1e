#include "model/fast_inference.h"

#include "model/kernel_policy.h"
#include "model/layers.h"
#include "model/onednn_support.h"
#include "model/redirected_relu.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace fs::model {
using namespace onednn;
namespace {
std::atomic<bool> gFastInference{true};

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

// What to try fusing when oneDNN offers only a reference kernel for `op`: the next smaller prefix
// of its post-ops (the rest is finished by ATen after the primitive), ending at None.
PostOp smallerFusion(PostOp op) { return op == PostOp::ReluThenAdd ? PostOp::Relu : PostOp::None; }

const char* postOpName(PostOp op) {
  switch (op) {
    case PostOp::None: return "none";
    case PostOp::Relu: return "relu";
    case PostOp::AddThenRelu: return "sum+relu";
    case PostOp::ReluThenAdd: return "relu+sum";
  }
  return "?";
}

// Finishes on ATen what the primitive did not fuse: `fused` was applied to y already.
void finishPostOp(at::Tensor& y, PostOp op, PostOp fused, const at::Tensor& addend) {
  if (op == fused) return;
  switch (op) {
    case PostOp::None: break;
    case PostOp::Relu: y.relu_(); break;
    case PostOp::AddThenRelu: y.add_(addend).relu_(); break;
    case PostOp::ReluThenAdd:
      if (fused != PostOp::Relu) y.relu_();
      y.add_(addend);
      break;
  }
}

}  // namespace

struct PackedConv::State {
  at::Tensor weight, bias;  // plain OIHW / [O], float, contiguous
  at::Tensor weightSource, biasSource;  // the caller's tensors: whether they want a gradient now
  Dims stride, padding, dilation;  // dilation in oneDNN's convention (0 = none)
  int64_t groups = 1;
  int64_t kernelVolume = 0;
  struct Entry {
    std::tuple<int64_t, int64_t, int64_t, int64_t, int> key;  // N, C, H, W, post-op
    PostOp fused = PostOp::None;  // the part of the post-op the primitive does
    bool aten = false;            // oneDNN had only a reference kernel: at::conv2d runs it
    int64_t* uses = nullptr;      // kernelCounter() of what runs
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

  // The primitive with as much of `op` fused as oneDNN has a non-reference kernel for; when it
  // has none even unfused, the entry is marked for ATen.
  Entry build(int64_t n, int64_t c, int64_t h, int64_t w, PostOp op) const {
    Entry e;
    for (PostOp fused = op;; fused = smallerFusion(fused)) {
      const auto pd = describe(e, n, c, h, w, fused);
      const std::string impl = pd.impl_info_str();
      if (!isSlowImplementation(impl)) {
        e.fused = fused;
        // A shed post-op shows in the record, e.g. "jit_1x1:avx2 (relu+sum: relu fused, rest on ATen)".
        e.uses = kernelCounter("convolution", fused == op ? impl
                                                          : impl + " (" + postOpName(op) + ": " + postOpName(fused) +
                                                                " fused, rest on ATen)");
        e.primitive = dnnl::convolution_forward(pd);
        const dnnl::memory::desc plain(weightDims(), kF32, groups == 1 ? Tag::oihw : Tag::goihw);
        dnnl::memory src = wrap(plain, weight);
        e.weights = dnnl::memory(pd.weights_desc(), engine());
        dnnl::reorder(src, e.weights).execute(threadStream(), src, e.weights);
        threadStream().wait();
        break;
      }
      if (fused == PostOp::None) {
        e.aten = true;
        e.uses = kernelCounter("convolution", "aten (oneDNN offered " + impl + ")");
        break;
      }
    }
    std::get<4>(e.key) = int(op);
    return e;
  }

  // Dilation as ATen counts it (the step; oneDNN counts the gaps).
  std::vector<int64_t> atenDilation() const {
    std::vector<int64_t> dil(dilation.begin(), dilation.end());
    for (auto& d : dil) d += 1;
    return dil;
  }

  at::Tensor runOnAten(const at::Tensor& x) const {
    return at::conv2d(x, weight, bias, stride, padding, atenDilation(), groups);
  }
};

bool fastInferenceAllowed() { return gFastInference.load() && !at::GradMode::is_enabled(); }
void setFastInferenceEnabled(bool on) { gFastInference.store(on); }
bool fastGradientAllowed() {
  return gFastInference.load() && at::GradMode::is_enabled() && !RedirectedReluGradient::active();
}

at::Tensor applyPostOp(const at::Tensor& y, PostOp op, const at::Tensor& addend) {
  // Activation maximisation's redirected ReLU gradient (redirected_relu.h), when asked for.
  const auto relu = [](const at::Tensor& t) {
    return RedirectedReluGradient::active() && t.requires_grad() ? redirectedRelu(t) : at::relu(t);
  };
  switch (op) {
    case PostOp::None: return y;
    case PostOp::Relu: return relu(y);
    case PostOp::AddThenRelu: return relu(y + addend);
    case PostOp::ReluThenAdd: return relu(y) + addend;
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
  s->weightSource = weight, s->biasSource = bias;
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
  countKernel(e->uses);
  MacCounter::add(e->dstDims[0] * e->dstDims[1] * e->dstDims[2] * e->dstDims[3] * state_->kernelVolume);
  if (e->aten) {
    at::Tensor y = state_->runOnAten(x).contiguous(at::MemoryFormat::ChannelsLast);
    finishPostOp(y, op, PostOp::None, addend);
    return y;
  }
  // The addend becomes the output buffer only when the primitive sums it in itself.
  const bool fusedSum = hasAddend(e->fused);
  at::Tensor y = outputBuffer(fusedSum ? std::move(addend) : at::Tensor(), e->dstDims, x.options(),
                              at::MemoryFormat::ChannelsLast);
  syncThreads();
  dnnl::memory src = wrap(e->src, x), dst = wrap(e->dst, y), bias = wrap(e->bias, state_->bias);
  dnnl::memory weights = e->weights;
  e->primitive.execute(threadStream(), {{DNNL_ARG_SRC, src},
                                        {DNNL_ARG_WEIGHTS, weights},
                                        {DNNL_ARG_BIAS, bias},
                                        {DNNL_ARG_DST, dst}});
  threadStream().wait();
  finishPostOp(y, op, e->fused, addend);
  return y;
}

namespace {

// The autograd node of PackedConv::runDifferentiable. Inputs: x, the addend (AddThenRelu), the
// convolution and the post-op; gradients for x and the addend.
struct PackedConvFunction : public torch::autograd::Function<PackedConvFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            const c10::optional<at::Tensor>& addend, const PackedConv* conv,
                            const PackedConv::State* state, int64_t op) {
    const at::Tensor input = x.contiguous(at::MemoryFormat::ChannelsLast);
    at::Tensor y = conv->run(input, PostOp(op), addend.value_or(at::Tensor()));
    const bool relu = PostOp(op) != PostOp::None;
    ctx->save_for_backward({input, relu ? y : at::Tensor()});
    ctx->saved_data["op"] = op;
    ctx->saved_data["weight"] = state->weight;
    ctx->saved_data["stride"] = std::vector<int64_t>(state->stride.begin(), state->stride.end());
    ctx->saved_data["padding"] = std::vector<int64_t>(state->padding.begin(), state->padding.end());
    ctx->saved_data["dilation"] = state->atenDilation();
    ctx->saved_data["groups"] = state->groups;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &input = saved[0], &y = saved[1];
    const auto op = PostOp(ctx->saved_data["op"].toInt());
    at::Tensor g = grads[0];
    if (op != PostOp::None) g = at::threshold_backward(g, y, 0);  // relu: where the output is > 0
    at::Tensor gx;
    if (ctx->needs_input_grad(0)) {
      const std::vector<int64_t> stride = ctx->saved_data["stride"].toIntVector(),
                                 padding = ctx->saved_data["padding"].toIntVector(),
                                 dilation = ctx->saved_data["dilation"].toIntVector();
      gx = std::get<0>(at::convolution_backward(g.contiguous(at::MemoryFormat::ChannelsLast), input,
                                                ctx->saved_data["weight"].toTensor(), c10::nullopt, stride, padding,
                                                dilation, false, {0, 0}, ctx->saved_data["groups"].toInt(),
                                                {true, false, false}));
    }
    return {gx, op == PostOp::AddThenRelu ? g : at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool PackedConv::differentiable() const {
  return state_ && !state_->weightSource.requires_grad() &&
         !(state_->biasSource.defined() && state_->biasSource.requires_grad());
}

at::Tensor PackedConv::runDifferentiable(const at::Tensor& x, PostOp op, const at::Tensor& addend) const {
  TORCH_CHECK(differentiable(), "PackedConv::runDifferentiable: the weights need a gradient");
  if (op == PostOp::ReluThenAdd)
    return PackedConvFunction::apply(x, c10::optional<at::Tensor>(), this, state_.get(), int64_t(PostOp::Relu)) +
           addend;
  TORCH_CHECK((op == PostOp::AddThenRelu) == addend.defined(), "PackedConv: addend given iff the op sums");
  const c10::optional<at::Tensor> sum = addend.defined() ? c10::optional<at::Tensor>(addend) : c10::nullopt;
  return PackedConvFunction::apply(x, sum, this, state_.get(), int64_t(op));
}

}  // namespace fs::model
