// Lucid's redirected ReLU gradient (redirected_relu.h).
#include "model/redirected_relu.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

namespace fs::model {
namespace {

thread_local bool redirecting = false;

struct RedirectedRelu : public torch::autograd::Function<RedirectedRelu> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x) {
    ctx->save_for_backward({x});
    return at::relu(x);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor x = ctx->get_saved_variables()[0];
    const at::Tensor& g = grads[0];
    const at::Tensor negative = x < 0;
    const at::Tensor relu = g.masked_fill(x <= 0, 0);
    const at::Tensor redirected = g.masked_fill(negative & (g > 0), 0);
    // Per sample: the ReLU's own gradient where any of it gets through, else the redirected one.
    const int64_t b = x.size(0);
    std::vector<int64_t> shape(size_t(x.dim()), 1);
    shape[0] = b;
    const at::Tensor passes = relu.reshape({b, -1}).abs().amax(1).gt(0).view(shape);
    return {at::where(passes, relu, redirected)};
  }
};

}  // namespace

RedirectedReluGradient::RedirectedReluGradient() : previous_(redirecting) { redirecting = true; }
RedirectedReluGradient::~RedirectedReluGradient() { redirecting = previous_; }
bool RedirectedReluGradient::active() { return redirecting; }

at::Tensor redirectedRelu(const at::Tensor& x) { return RedirectedRelu::apply(x); }

}  // namespace fs::model
