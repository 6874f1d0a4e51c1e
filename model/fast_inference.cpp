#include "model/fast_inference.h"

#include "model/kernel_policy.h"
#include "model/layers.h"
#include "model/onednn_support.h"
#include "model/packed_conv_state.h"
#include "model/redirected_relu.h"

#include <ATen/ATen.h>
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

using State = PackedConv::State;

Dims State::weightDims() const {
  const auto w = weight.sizes();
  if (groups == 1) return {w[0], w[1], w[2], w[3]};
  return {groups, w[0] / groups, w[1], w[2], w[3]};
}

dnnl::memory State::packedWeights(const dnnl::memory::desc& layout) const {
  const auto st = weight.strides();
  const dnnl::memory::desc plain = groups == 1 ? dnnl::memory::desc(weightDims(), kF32, Dims(st.begin(), st.end()))
                                               : dnnl::memory::desc(weightDims(), kF32, Tag::goihw);
  return reordered(wrap(plain, weight), layout);
}

dnnl::convolution_forward::primitive_desc State::describe(Entry& e, int64_t n, int64_t c, int64_t h, int64_t w,
                                                          PostOp op, int layouts) const {
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

State::Entry State::build(int64_t n, int64_t c, int64_t h, int64_t w, PostOp op, int layouts) const {
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

std::vector<int64_t> State::atenDilation() const {
  std::vector<int64_t> dil(dilation.begin(), dilation.end());
  for (auto& d : dil) d += 1;
  return dil;
}

at::Tensor State::runOnAten(const at::Tensor& x) const {
  return at::conv2d(x, weight, bias, stride, padding, atenDilation(), groups);
}

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

}  // namespace fs::model
