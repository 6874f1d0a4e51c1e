#include "model/fast_inference.h"

#include "model/kernel_policy.h"
#include "model/layers.h"
#include "model/onednn_support.h"
#include "model/phase_gradient.h"
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
  at::Tensor weight, bias;  // plain OIHW (any strides when groups == 1, else contiguous) / [O], float
  at::Tensor weightSource, biasSource;  // the caller's tensors: whether they want a gradient now
  Dims stride, padding, dilation;  // dilation in oneDNN's convention (0 = none)
  int64_t groups = 1;
  int64_t kernelVolume = 0;
  struct Entry {
    std::tuple<int64_t, int64_t, int64_t, int64_t, int, int> key;  // N, C, H, W, post-op, layouts
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

  // The plain weights reordered into the layout a primitive wants.
  dnnl::memory packedWeights(const dnnl::memory::desc& layout) const {
    const auto st = weight.strides();
    const dnnl::memory::desc plain = groups == 1 ? dnnl::memory::desc(weightDims(), kF32, Dims(st.begin(), st.end()))
                                                 : dnnl::memory::desc(weightDims(), kF32, Tag::goihw);
    dnnl::memory src = wrap(plain, weight), packed(layout, engine());
    dnnl::reorder(src, packed).execute(threadStream(), src, packed);
    threadStream().wait();
    return packed;
  }

  // layouts: bit 0 a blocked source, bit 1 a blocked destination (else channels-last). A plain
  // source with a blocked destination is NCHW: oneDNN's AVX2 kernel for a first layer (3 input
  // channels) reads that, and had only a reference kernel for channels-last into blocks.
  dnnl::convolution_forward::primitive_desc describe(Entry& e, int64_t n, int64_t c, int64_t h, int64_t w,
                                                    PostOp op, int layouts = 0) const {
    const int64_t kh = weight.size(2), kw = weight.size(3);
    const auto out = [&](int64_t size, int i, int64_t k) {
      return (size + 2 * padding[i] - (dilation[i] + 1) * (k - 1) - 1) / stride[i] + 1;
    };
    e.key = {n, c, h, w, int(op), layouts};
    e.dstDims = {n, weight.size(0), out(h, 0, kh), out(w, 1, kw)};
    const Tag blocked = channelBlock() == 16 ? Tag::nChw16c : Tag::nChw8c;
    e.src = dnnl::memory::desc({n, c, h, w}, kF32, layouts & 1 ? blocked : layouts & 2 ? Tag::nchw : Tag::nhwc);
    e.dst = dnnl::memory::desc(e.dstDims, kF32, layouts & 2 ? blocked : Tag::nhwc);
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
  Entry build(int64_t n, int64_t c, int64_t h, int64_t w, PostOp op, int layouts) const {
    Entry e;
    for (PostOp fused = op;; fused = smallerFusion(fused)) {
      const auto pd = describe(e, n, c, h, w, fused, layouts);
      const std::string impl = pd.impl_info_str();
      if (!isSlowImplementation(impl)) {
        e.fused = fused;
        // A shed post-op and blocked activations show in the record, e.g. "jit_1x1:avx2 (relu+sum:
        // relu fused, rest on ATen)", "jit:avx2 [blocked]".
        const std::string shown = impl + (layouts & 2 ? " [blocked]" : "");
        e.uses = kernelCounter("convolution", fused == op ? shown
                                                          : shown + " (" + postOpName(op) + ": " + postOpName(fused) +
                                                                " fused, rest on ATen)");
        e.primitive = dnnl::convolution_forward(pd);
        e.weights = packedWeights(pd.weights_desc());
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

  // The input's gradient (backward data) as a cached primitive on prepacked weights, in the
  // layouts of the forward it undoes: the gradient passes' counterpart of `cache`, which the
  // autograd node (runDifferentiable) uses. ATen's convolution_backward reorders the weights on
  // every call and works only on plain or channels-last tensors.
  struct BackwardEntry {
    std::tuple<int64_t, int64_t, int64_t, int64_t, int> key;  // N, C, H, W of the input, layouts
    bool aten = false;  // oneDNN had only a reference kernel
    std::shared_ptr<PhaseGradient> phases;  // an image stem's: the gradient by phases (phase_gradient.h)
    dnnl::convolution_backward_data primitive;
    dnnl::memory weights;
    dnnl::memory::desc diffSrc, diffDst;
  };
  mutable PrimitiveCache<BackwardEntry> backwardCache;

  BackwardEntry buildBackward(int64_t n, int64_t c, int64_t h, int64_t w, int layouts) const {
    BackwardEntry b;
    b.key = {n, c, h, w, layouts};
    try {
      Entry e;
      const auto forwardPd = describe(e, n, c, h, w, PostOp::None, layouts);
      b.diffSrc = e.src, b.diffDst = e.dst;
      if (!(layouts & 1) && PhaseGradient::applies(weight, stride, padding, dilation, groups, h, w)) {
        // From channels-last: oneDNN had only a reference kernel from blocks into channels-last.
        b.phases = std::make_shared<PhaseGradient>(weight, stride, padding, n, h, w,
                                                   dnnl::memory::desc(e.dstDims, kF32, Tag::nhwc));
        if (b.phases->ready()) return b;
        b.phases.reset();
      }
      const dnnl::memory::desc anyWeights(weightDims(), kF32, Tag::any);
      const dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, b.diffSrc, anyWeights,
                                                    b.diffDst, stride, dilation, padding, padding);
      const dnnl::convolution_backward_data::primitive_desc pd(d, engine(), forwardPd);
      if (isSlowImplementation(pd.impl_info_str())) {
        b.aten = true;
        return b;
      }
      b.primitive = dnnl::convolution_backward_data(pd);
      b.weights = packedWeights(pd.weights_desc());
    } catch (const dnnl::error&) {
      b.aten = true;  // no oneDNN implementation for this form
    }
    return b;
  }

  // gradOut in the forward's output layout; inputSizes the forward's input's (5 when blocked).
  // The result has the input's layout (NCHW for a plain input into blocks, else channels-last), or
  // NCHW when computed by phases.
  at::Tensor backwardData(const at::Tensor& gradOut, at::IntArrayRef inputSizes) const {
    const bool blockedIn = inputSizes.size() == 5, blockedOut = isBlocked(gradOut);
    const int layouts = (blockedIn ? 1 : 0) | (blockedOut ? 2 : 0);
    const int64_t n = inputSizes[0], c = blockedIn ? inputSizes[1] * inputSizes[4] : inputSizes[1];
    const int64_t h = inputSizes[2], w = inputSizes[3];
    const at::TensorOptions options = gradOut.options();
    const BackwardEntry& b = backwardCache.get({n, c, h, w, layouts}, [&] { return buildBackward(n, c, h, w, layouts); });
    if (b.aten) {
      const at::Tensor shape = at::empty({n, c, h, w}, options.memory_format(at::MemoryFormat::ChannelsLast));
      at::Tensor gx = std::get<0>(at::convolution_backward(
          blockedOut ? fromBlocked(gradOut) : gradOut.contiguous(at::MemoryFormat::ChannelsLast), shape, weight,
          c10::nullopt, stride, padding, atenDilation(), false, {0, 0}, groups, {true, false, false}));
      return blockedIn ? toBlocked(gx) : blockedOut ? gx.contiguous() : gx;
    }
    if (b.phases)
      return b.phases->run((blockedOut ? fromBlocked(gradOut) : gradOut).contiguous(at::MemoryFormat::ChannelsLast));
    const at::Tensor g = blockedOut ? gradOut.contiguous() : gradOut.contiguous(at::MemoryFormat::ChannelsLast);
    at::Tensor gx = blockedIn ? at::empty(inputSizes, options)
                              : at::empty({n, c, h, w}, options.memory_format(blockedOut ? at::MemoryFormat::Contiguous
                                                                                         : at::MemoryFormat::ChannelsLast));
    syncThreads();
    dnnl::memory diffDst = wrap(b.diffDst, g), diffSrc = wrap(b.diffSrc, gx);
    dnnl::memory weights = b.weights;
    b.primitive.execute(threadStream(),
                        {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, diffSrc}});
    threadStream().wait();
    return gx;
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
  Dims dilation = pair(o.dilation());
  for (auto& d : dilation) d -= 1;
  packWith(o.groups() == 1 ? weight.detach() : weight.detach().contiguous(), weight, bias, pair(o.stride()),
           pair(*pad), dilation, o.groups());
}

void PackedConv::packPointwise(const at::Tensor& weight, const at::Tensor& bias) {
  reset();
  if (weight.scalar_type() != at::kFloat || weight.dim() != 2) return;
  packWith(weight.detach().unsqueeze(2).unsqueeze(3), weight, bias, {1, 1}, {0, 0}, {0, 0}, 1);
}

void PackedConv::packWith(const at::Tensor& weight4, const at::Tensor& weightSource, const at::Tensor& bias,
                          const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                          const std::vector<int64_t>& dilation, int64_t groups) {
  auto s = std::make_shared<State>();
  torch::NoGradGuard noGrad;
  s->weight = weight4;  // shares the caller's storage: no copy
  s->bias = bias.defined() ? bias.detach().contiguous() : at::zeros({weight4.size(0)}, weight4.options());
  s->weightSource = weightSource, s->biasSource = bias;
  s->stride = stride, s->padding = padding, s->dilation = dilation;
  s->groups = groups;
  s->kernelVolume = weight4.size(1) * weight4.size(2) * weight4.size(3);
  try {
    // Describe one primitive now (no weights are reordered), so that a convolution oneDNN cannot
    // run stays on the ATen path.
    const int64_t k = std::max(weight4.size(2), weight4.size(3));
    State::Entry probe;
    s->describe(probe, 1, weight4.size(1) * s->groups, k + 2 * s->padding[0], k + 2 * s->padding[1], PostOp::None);
  } catch (const dnnl::error&) {
    return;
  }
  state_ = std::move(s);
}

bool PackedConv::blockable() const { return state_ && state_->weight.size(0) % channelBlock() == 0; }

at::Tensor PackedConv::run(const at::Tensor& input, PostOp op, at::Tensor addend, ConvOutput out) const {
  TORCH_CHECK(state_, "PackedConv::run before pack");
  const bool blockedIn = isBlocked(input);
  const bool blockedOut = out == ConvOutput::Blocked || blockedIn;
  TORCH_CHECK((input.dim() == 4 || blockedIn) && input.scalar_type() == at::kFloat,
              "PackedConv: float NCHW or blocked input expected");
  TORCH_CHECK(!blockedOut || blockable(), "PackedConv: ", state_->weight.size(0), " output channels do not fill blocks of ",
              channelBlock());
  const at::Tensor x = blockedIn || blockedOut ? input.contiguous() : input.contiguous(at::MemoryFormat::ChannelsLast);
  const int layouts = (blockedIn ? 1 : 0) | (blockedOut ? 2 : 0);
  const State::Entry* e = nullptr;
  try {
    const int64_t n = x.size(0), c = blockedIn ? x.size(1) * x.size(4) : x.size(1), h = x.size(2), w = x.size(3);
    e = &state_->cache.get({n, c, h, w, int(op), layouts}, [&] { return state_->build(n, c, h, w, op, layouts); });
  } catch (const dnnl::error& err) {
    throw std::runtime_error(std::string("oneDNN convolution: ") + err.what());
  }
  TORCH_CHECK(hasAddend(op) == addend.defined(), "PackedConv: addend given iff the op sums");
  countKernel(e->uses);
  const Dims& d = e->dstDims;
  MacCounter::add(d[0] * d[1] * d[2] * d[3] * state_->kernelVolume);
  if (e->aten) {
    at::Tensor y = state_->runOnAten(blockedIn ? fromBlocked(x) : x);
    y = blockedOut ? toBlocked(y) : y.contiguous(at::MemoryFormat::ChannelsLast);
    finishPostOp(y, op, PostOp::None, addend);
    return y;
  }
  // The addend becomes the output buffer only when the primitive sums it in itself.
  const bool fusedSum = hasAddend(e->fused);
  at::Tensor y = blockedOut ? outputBuffer(fusedSum ? std::move(addend) : at::Tensor(),
                                           {d[0], d[1] / channelBlock(), d[2], d[3], channelBlock()}, x.options(),
                                           at::MemoryFormat::Contiguous)
                            : outputBuffer(fusedSum ? std::move(addend) : at::Tensor(), d, x.options(),
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
// convolution and the post-op; gradients for x and the addend. Keeps the packed weights the
// backward needs alive with the graph (stateCapsule).

struct PackedConvFunction : public torch::autograd::Function<PackedConvFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            const c10::optional<at::Tensor>& addend, const PackedConv* conv,
                            std::shared_ptr<const PackedConv::State> state, int64_t op, int64_t out) {
    at::Tensor y = conv->run(x, PostOp(op), addend.value_or(at::Tensor()), ConvOutput(out));
    const bool relu = PostOp(op) != PostOp::None;
    ctx->save_for_backward({relu ? y : at::Tensor()});
    ctx->saved_data["input_sizes"] = x.sizes().vec();
    ctx->saved_data["op"] = op;
    ctx->saved_data["state"] = stateCapsule(std::move(state));
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& y = saved[0];
    const auto op = PostOp(ctx->saved_data["op"].toInt());
    at::Tensor g = grads[0];
    if (op != PostOp::None) g = at::threshold_backward(g, y, 0);  // relu: where the output is > 0
    at::Tensor gx;
    if (ctx->needs_input_grad(0))
      gx = fromStateCapsule<const PackedConv::State>(ctx->saved_data["state"])
               .backwardData(g, ctx->saved_data["input_sizes"].toIntVector());
    return {gx, op == PostOp::AddThenRelu ? g : at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool PackedConv::differentiable() const { return state_ && frozen(state_->weightSource, state_->biasSource); }

at::Tensor PackedConv::runDifferentiable(const at::Tensor& x, PostOp op, const at::Tensor& addend,
                                         ConvOutput out) const {
  TORCH_CHECK(differentiable(), "PackedConv::runDifferentiable: the weights need a gradient");
  if (op == PostOp::ReluThenAdd)
    return PackedConvFunction::apply(x, c10::optional<at::Tensor>(), this, state_, int64_t(PostOp::Relu),
                                     int64_t(out)) +
           addend;
  TORCH_CHECK((op == PostOp::AddThenRelu) == addend.defined(), "PackedConv: addend given iff the op sums");
  const c10::optional<at::Tensor> sum = addend.defined() ? c10::optional<at::Tensor>(addend) : c10::nullopt;
  return PackedConvFunction::apply(x, sum, this, state_, int64_t(op), int64_t(out));
}

}  // namespace fs::model
