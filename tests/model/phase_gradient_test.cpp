// A packed strided convolution over few input channels (an image stem) gives its input gradient by
// phases (model/phase_gradient.h): equal to ATen's convolution backward for the zoo's stem forms and
// odd ones (one channel, a stride along one axis only, a kernel smaller than its stride), from a
// channels-last and from a blocked output; forms outside its reach keep oneDNN's backward kernel.
#include "model/blocked_activations.h"
#include "model/fast_inference.h"
#include "test_support.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/nn/modules/conv.h>

#include <string>
#include <vector>

namespace fs::model {
namespace {

struct StemForm {
  int64_t c, o, kh, kw, sh, sw, ph, pw, h, w;
  bool byPhases;  // the phase path applies to this form
  std::string name;
};

// The input gradient of conv for the output gradient gy, through the packed path or ATen's.
at::Tensor stemInputGradient(torch::nn::Conv2d conv, const PackedConv* packed, const at::Tensor& x0,
                         const at::Tensor& gy, ConvOutput out) {
  const at::Tensor x = x0.clone().requires_grad_(true);
  at::Tensor y = packed ? packed->runDifferentiable(x, PostOp::None, {}, out) : conv->forward(x);
  if (packed && isBlocked(y)) y = fromBlocked(y);
  return torch::autograd::grad({y}, {x}, {gy})[0];
}

TEST(PhaseGradient, EqualsAtenForStridedStemsAndKeepsOneDnnElsewhere) {
  const std::vector<StemForm> forms{
      {3, 16, 7, 7, 2, 2, 3, 3, 112, 112, true, "ResNet's 7x7 stride-2 stem"},
      {3, 8, 3, 3, 2, 2, 1, 1, 56, 56, true, "ConvMLP's 3x3 stride-2 stem"},
      {3, 128, 16, 16, 16, 16, 0, 0, 112, 112, true, "Mixer's and ViT's 16x16 patches"},
      {3, 96, 4, 4, 4, 4, 0, 0, 32, 32, true, "Swin's and ConvNeXt's 4x4 patches"},
      {1, 5, 3, 5, 2, 1, 1, 2, 10, 9, true, "one channel, stride along H only"},
      {4, 6, 2, 2, 4, 4, 0, 0, 16, 12, true, "a kernel smaller than its stride"},
      {3, 8, 3, 3, 2, 2, 1, 1, 11, 11, false, "H and W not multiples of the stride"},
      {5, 8, 3, 3, 2, 2, 1, 1, 16, 16, false, "more than four input channels"},
      {3, 8, 3, 3, 1, 1, 1, 1, 16, 16, false, "stride 1"},
  };
  torch::manual_seed(5);
  for (const StemForm& f : forms) {
    torch::nn::Conv2d conv(
        torch::nn::Conv2dOptions(f.c, f.o, {f.kh, f.kw}).stride({f.sh, f.sw}).padding({f.ph, f.pw}));
    for (auto& p : conv->parameters()) p.requires_grad_(false);
    PackedConv packed;
    packed.pack(*conv, conv->weight, conv->bias);
    ASSERT_TRUE(packed.differentiable()) << f.name;
    const at::Tensor x = at::randn({2, f.c, f.h, f.w});
    const at::Tensor gy = at::randn_like(conv->forward(x));
    const at::Tensor want = stemInputGradient(conv, nullptr, x, gy, ConvOutput::LikeInput);
    const double tol = 1e-5 * want.abs().max().item<double>();
    std::vector<ConvOutput> outs{ConvOutput::LikeInput};
    if (packed.blockable()) outs.push_back(ConvOutput::Blocked);
    for (ConvOutput out : outs) {
      const at::Tensor got = stemInputGradient(conv, &packed, x, gy, out);
      const std::string what = f.name + (out == ConvOutput::Blocked ? ", blocked output" : ", channels-last output");
      EXPECT_TRUE(fs::test::closeToRef(got, want, tol, 1e-5)) << what;
      // The phases come back NCHW; oneDNN's own backward kernel gives a channels-last gradient
      // after a channels-last forward (NCHW after a blocked one, where the layout tells nothing).
      if (out == ConvOutput::LikeInput) EXPECT_EQ(got.is_contiguous(), f.byPhases) << what;
    }
  }
}

}  // namespace
}  // namespace fs::model
