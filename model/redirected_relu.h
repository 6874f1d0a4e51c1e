#pragma once
// Lucid's redirected ReLU gradient (the reference code of Olah, Mordvintsev & Schubert 2017,
// "Feature Visualization", Distill: lucid/misc/redirected_relu_grad.py, on by default in its
// render_vis as relu_gradient_override). For activation maximisation: a channel whose ReLU is
// silent on the start image has a zero gradient and would never move. While a
// RedirectedReluGradient lives on a thread, the ReLUs of the convolution post-ops
// (applyPostOp: ResNet, ConvMLP) compute relu(x) as usual, and their backward is
//   relu'(x) * g                       for a sample where that is non-zero somewhere,
//   g, zeroed where x < 0 and g > 0    for a sample where it is zero everywhere
// (g = dLoss/dy for a loss being minimised: a negative input is never pushed lower).
#include <ATen/core/Tensor.h>

namespace fs::model {

class RedirectedReluGradient {
 public:
  RedirectedReluGradient();
  ~RedirectedReluGradient();
  RedirectedReluGradient(const RedirectedReluGradient&) = delete;
  RedirectedReluGradient& operator=(const RedirectedReluGradient&) = delete;
  static bool active();  // on this thread

 private:
  bool previous_;
};

// relu(x) with the redirected backward above (x: [B, ...]).
at::Tensor redirectedRelu(const at::Tensor& x);

}  // namespace fs::model
