// A PackedConv's gradient pass (PackedConv::runDifferentiable, fast_inference.h): the autograd
// node whose forward is the packed forward and whose backward is the input's gradient alone, as a
// cached oneDNN backward-data primitive on prepacked weights (an image stem's by phases,
// phase_gradient.h; ATen's where oneDNN has only a reference kernel).
#include "model/fast_inference.h"

#include "model/onednn_support.h"
#include "model/packed_conv_state.h"
#include "model/phase_gradient.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <memory>
#include <tuple>
#include <utility>

namespace fs::model {
using namespace onednn;
using State = PackedConv::State;

State::BackwardEntry State::buildBackward(int64_t n, int64_t c, int64_t h, int64_t w, int layouts) const {
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

at::Tensor State::backwardData(const at::Tensor& gradOut, at::IntArrayRef inputSizes) const {
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
  // ReluThenAdd runs as Relu, then an ATen add.
  const bool reluThenAdd = op == PostOp::ReluThenAdd;
  TORCH_CHECK(reluThenAdd || (op == PostOp::AddThenRelu) == addend.defined(),
              "PackedConv: addend given iff the op sums");
  const c10::optional<at::Tensor> sum =
      op == PostOp::AddThenRelu ? c10::optional<at::Tensor>(addend) : c10::optional<at::Tensor>(c10::nullopt);
  const at::Tensor y =
      PackedConvFunction::apply(x, sum, this, state_, int64_t(reluThenAdd ? PostOp::Relu : op), int64_t(out));
  return reluThenAdd ? y + addend : y;
}

}  // namespace fs::model
