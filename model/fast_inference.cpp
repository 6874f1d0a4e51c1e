#include "model/fast_inference.h"

#include "model/layers.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <atomic>

namespace fs::model {
namespace {
std::atomic<bool> gFastInference{true};

std::vector<int64_t> pair(const torch::ExpandingArray<2>& a) { return {(*a)[0], (*a)[1]}; }

}  // namespace

bool fastInferenceAllowed() { return gFastInference.load() && !at::GradMode::is_enabled(); }
void setFastInferenceEnabled(bool on) { gFastInference.store(on); }

void PackedConv::pack(const torch::nn::Conv2dImpl& conv, const at::Tensor& weight, const at::Tensor& bias) {
  reset();
  if (!at::hasMKLDNN()) return;
  const auto& o = conv.options;
  const auto* pad = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (!pad) return;  // string padding modes: not used by the zoo
  torch::NoGradGuard noGrad;
  padding_ = pair(*pad), stride_ = pair(o.stride()), dilation_ = pair(o.dilation());
  groups_ = o.groups();
  kernelVolume_ = weight.size(1) * weight.size(2) * weight.size(3);
  packed_ = at::mkldnn_reorder_conv2d_weight(weight.detach().contiguous().to_mkldnn(), padding_, stride_,
                                             dilation_, groups_);
  if (bias.defined()) bias_ = bias.detach().contiguous();
}

void PackedConv::reset() {
  packed_ = at::Tensor();
  bias_ = at::Tensor();
}

at::Tensor PackedConv::run(const at::Tensor& x) const {
  at::Tensor y = at::mkldnn_convolution(x, packed_, bias_, padding_, stride_, dilation_, groups_);
  MacCounter::add(y.numel() * kernelVolume_);
  return y;
}

}  // namespace fs::model
