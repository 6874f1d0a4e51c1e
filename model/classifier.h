#pragma once
// The contract every architecture implements (timm's feature_info + forward_intermediates in C++):
// a list of taps and a forward that hands back the chosen taps as NCHW graph tensors.
// Not thread-safe: one thread owns a Classifier at a time.
#include "model/input_spec.h"

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace fs::model {

enum class TapLayout { NCHW, NHWC, Tokens };  // native layout inside the model
const char* tapLayoutName(TapLayout l);

struct TapInfo {
  std::string name;   // state_dict prefix of the unit whose output stream it is
  int channels = 0;
  int height = 0;     // at the model's default input size
  int width = 0;
  int stride = 1;     // input pixels per map cell
  TapLayout layout = TapLayout::NCHW;
};

struct ForwardResult {
  at::Tensor logits;                        // [B, classes]
  std::map<std::string, at::Tensor> taps;   // NCHW [B,C,H,W], part of the autograd graph
  // Models with prefix tokens (ViT's class token, DeiT's class and distillation tokens): at each
  // requested token tap, the prefix tokens the spatial map leaves out, [B, prefix, C], in the
  // order of ClassifierImpl::prefixTokens(); graph tensors like the taps.
  std::map<std::string, at::Tensor> prefixTokens{};
  // Attention probabilities [B, heads, T, T] (row = query, column = key, prefix tokens first) of
  // the requested units among ClassifierImpl::attentionUnits(), requested by name with the taps.
  std::map<std::string, at::Tensor> attention{};
};

// Collects the requested taps during a forward. Layout conversion happens here, once: the
// returned tensor is the one the rest of the forward continues from, so gradients w.r.t. a tap
// are well defined.
class TapSink {
 public:
  explicit TapSink(const std::vector<std::string>& wanted);
  bool wants(const std::string& name) const { return wanted_.count(name) > 0; }
  at::Tensor nchw(const std::string& name, at::Tensor x);                    // x is NCHW
  // x is NCHW or blocked (fast_inference.h): a blocked x is converted for the tap, and a pass with
  // gradients continues from the converted tap, so that gradients with respect to it (Grad-CAM's)
  // see everything after it.
  at::Tensor nchwOrBlocked(const std::string& name, at::Tensor x);
  at::Tensor nhwc(const std::string& name, at::Tensor x);                    // x is NHWC
  at::Tensor tokens(const std::string& name, at::Tensor x, int64_t h, int64_t w);  // [B,N,C]
  // x is [B, prefix+N, C]: the N patch tokens become the tap, the prefix tokens are kept apart.
  at::Tensor tokens(const std::string& name, at::Tensor x, int64_t prefix, int64_t h, int64_t w);
  void attention(const std::string& name, const at::Tensor& probs);  // kept if requested
  std::map<std::string, at::Tensor> take() { return std::move(taps_); }
  ForwardResult result(at::Tensor logits);  // the logits with everything collected

 private:
  std::set<std::string> wanted_;
  std::map<std::string, at::Tensor> taps_, prefix_, attention_;
};

// The receptive field of a network's first units along one axis: output cell i depends only on the
// input pixels [stride * i - before, stride * i + after] (padding included). Occlusion's
// incremental inference runs such a prefix on crops (analysis/saliency/occluded_forward.h).
struct LocalField {
  int64_t stride = 1, before = 0, after = 0;
  // This field followed by a layer of kernel k, stride s and padding p (convolution or pooling);
  // an ended field (stride 0) stays ended.
  void then(int64_t k, int64_t s, int64_t p) {
    before += stride * p, after += stride * (k - 1 - p), stride *= s;
  }
  // The same for a convolution; a non-square, dilated or padding-mode convolution ends the field
  // (stride 0).
  void then(const torch::nn::Conv2dImpl& conv);
  // The field of one convolution (a patch embedding, a stem).
  static LocalField of(const torch::nn::Conv2dImpl& conv) {
    LocalField f;
    f.then(conv);
    return f;
  }
};

class ClassifierImpl : public torch::nn::Module {
 public:
  virtual ~ClassifierImpl() = default;
  // Taps in forward order, sized for the default input.
  virtual std::vector<TapInfo> taps() const = 0;
  // Four taps (or fewer for shallow models) that play the role of "Stage 1-4".
  virtual std::vector<std::string> stages() const = 0;
  // The default tap of the CAM methods: the output of the last block or stage, as in Grad-CAM
  // (Selvaraju et al. 2017, "the last convolutional layer") and pytorch-grad-cam's recommended
  // layers (ResNet layer4[-1], the last block of a token model). Families whose stage taps end
  // before the last block (MLP-Mixer, ResMLP: depth quarters start at blocks.0) override it.
  // ViT/DeiT override it with the input of the last block's attention (blocks.<last>.norm1): only
  // the prefix tokens reach their head, so a CAM at the last block is exactly zero.
  virtual std::string camTap() const { return stages().back(); }
  // Units whose attention probabilities forward() hands back in ForwardResult::attention when
  // their names are among the requested ones (ViT/DeiT: blocks.<i>.attn); none by default.
  virtual std::vector<std::string> attentionUnits() const { return {}; }
  // Names of the prefix tokens in token order (ViT: cls; DeiT distilled: cls, dist); none by default.
  virtual std::vector<std::string> prefixTokens() const { return {}; }
  // x: float32 [B,3,H,W]. Unknown tap names are ignored (callers validate against taps()).
  virtual ForwardResult forward(const at::Tensor& x, const std::vector<std::string>& tapNames) = 0;
  // A spatially local prefix: its field (stride 0, the default: none). Without autograd,
  // forwardPrefix(x) then logitsFromPrefix() is forward(x).logits; the prefix's output has its
  // rows and columns at dims 2 and 3 (NCHW or blocked [B,C/b,h,w,b]), in the layout a forward of
  // `layoutBatch` images uses, and an output of crops whose origins are multiples of the stride
  // equals the full output's cells whose fields lie inside the crop (or reach the image's edge).
  virtual LocalField localPrefix() const { return {0, 0, 0}; }
  virtual at::Tensor forwardPrefix(const at::Tensor& x, int64_t layoutBatch);
  virtual at::Tensor logitsFromPrefix(const at::Tensor& prefix);
  // Inference-only rewrites (BatchNorm folding); call again after the weights change.
  virtual void prepareForInference() {}
  virtual void invalidateInferenceCache() {}
  int64_t parameterCount() const;
};

using Classifier = std::shared_ptr<ClassifierImpl>;

}  // namespace fs::model
