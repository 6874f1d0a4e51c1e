#include "model/classifier.h"

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

int64_t ClassifierImpl::parameterCount() const {
  int64_t n = 0;
  for (const auto& p : parameters(true)) n += p.numel();
  return n;
}

}  // namespace fs::model
