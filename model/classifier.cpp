#include "model/classifier.h"

#include "model/fast_inference.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <stdexcept>

namespace fs::model {

const char* tapLayoutName(TapLayout l) {
  switch (l) {
    case TapLayout::NCHW: return "NCHW";
    case TapLayout::NHWC: return "NHWC";
    case TapLayout::Tokens: return "tokens";
  }
  return "?";
}

TapSink::TapSink(const std::vector<std::string>& wanted) : wanted_(wanted.begin(), wanted.end()) {}

at::Tensor TapSink::nchw(const std::string& name, at::Tensor x) {
  if (wants(name)) taps_[name] = x;
  return x;
}

at::Tensor TapSink::nchwOrBlocked(const std::string& name, at::Tensor x) {
  if (!isBlocked(x) || !wants(name)) return nchw(name, std::move(x));
  at::Tensor t = nchw(name, fromBlocked(x));
  return at::GradMode::is_enabled() ? toBlocked(t) : x;
}

at::Tensor TapSink::nhwc(const std::string& name, at::Tensor x) {
  if (!wants(name)) return x;
  at::Tensor t = x.permute({0, 3, 1, 2});
  taps_[name] = t;
  return t.permute({0, 2, 3, 1});
}

at::Tensor TapSink::tokens(const std::string& name, at::Tensor x, int64_t h, int64_t w) {
  if (!wants(name)) return x;
  const int64_t b = x.size(0), c = x.size(2);
  at::Tensor t = x.transpose(1, 2).reshape({b, c, h, w});
  taps_[name] = t;
  return t.flatten(2).transpose(1, 2);
}

at::Tensor TapSink::tokens(const std::string& name, at::Tensor x, int64_t prefix, int64_t h, int64_t w) {
  if (!wants(name)) return x;
  if (prefix == 0) return tokens(name, std::move(x), h, w);
  at::Tensor front = x.narrow(1, 0, prefix);
  at::Tensor map = tokens(name, x.narrow(1, prefix, x.size(1) - prefix), h, w);
  prefix_[name] = front;
  return at::cat({front, map}, 1);
}

void TapSink::attention(const std::string& name, const at::Tensor& probs) {
  if (wants(name)) attention_[name] = probs;
}

ForwardResult TapSink::result(at::Tensor logits) {
  return {std::move(logits), std::move(taps_), std::move(prefix_), std::move(attention_)};
}

int64_t ClassifierImpl::parameterCount() const {
  int64_t n = 0;
  for (const auto& p : parameters(true)) n += p.numel();
  return n;
}

void LocalField::then(const torch::nn::Conv2dImpl& conv) {
  const auto& o = conv.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  const auto k = o.kernel_size(), s = o.stride(), d = o.dilation();
  if (stride == 0 || !padding || k->at(0) != k->at(1) || s->at(0) != s->at(1) || (*padding)->at(0) != (*padding)->at(1) ||
      d->at(0) != 1 || d->at(1) != 1 || !c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode())) {
    stride = 0;
    return;
  }
  then(k->at(0), s->at(0), (*padding)->at(0));
}

at::Tensor ClassifierImpl::forwardPrefix(const at::Tensor&, int64_t) {
  throw std::logic_error("forwardPrefix: this model has no local prefix");
}

at::Tensor ClassifierImpl::logitsFromPrefix(const at::Tensor&) {
  throw std::logic_error("logitsFromPrefix: this model has no local prefix");
}

}  // namespace fs::model
