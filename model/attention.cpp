#include "model/attention.h"

#include "model/layers.h"

#include <ATen/ATen.h>

#include <cmath>

namespace fs::model {

AttentionImpl::AttentionImpl(int64_t dim, int64_t heads, bool qkvBias) : heads_(heads) {
  qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, 3 * dim).bias(qkvBias)));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
}

at::Tensor AttentionImpl::forward(const at::Tensor& x, at::Tensor residual, const at::Tensor& bias,
                                  const at::Tensor& mask, at::Tensor* probs) {
  const int64_t b = x.size(0), t = x.size(1), d = x.size(2), hd = d / heads_;
  const bool fast = qkvPacked_.ready() && fastInferenceAllowed();
  const at::Tensor fused = fast ? qkvPacked_.run(x) : linear(qkv, x);
  // qkv(x).reshape(B,T,3,heads,hd).permute(2,0,3,1,4): [3,B,heads,T,hd]
  const at::Tensor parts = fused.reshape({b, t, 3, heads_, hd}).permute({2, 0, 3, 1, 4});
  const at::Tensor q = parts[0] * (1.0 / std::sqrt(static_cast<double>(hd)));
  at::Tensor logits = at::matmul(q, parts[1].transpose(-2, -1));
  if (bias.defined()) logits = logits + bias;
  if (mask.defined()) {
    const int64_t w = mask.size(0);
    logits = (logits.view({b / w, w, heads_, t, t}) + mask.unsqueeze(1)).view({b, heads_, t, t});
  }
  const at::Tensor a = at::softmax(logits, -1);
  if (probs) *probs = a;
  const at::Tensor o = at::matmul(a, parts[2]).transpose(1, 2).reshape({b, t, d});
  MacCounter::add(2 * b * heads_ * t * t * hd);  // q k^T and A v (MODELS.md counts both)
  const MatmulOp last = residual.defined() ? MatmulOp::Add : MatmulOp::None;
  if (fast) return projPacked_.run(o, last, std::move(residual));
  return applyMatmulOp(linear(proj, o), last, residual);
}

void AttentionImpl::pack(bool on) {
  qkvPacked_.reset(), projPacked_.reset();
  if (!on) return;
  storeForMatmul(qkv->weight), storeForMatmul(proj->weight);
  qkvPacked_.pack(qkv->weight, qkv->bias), projPacked_.pack(proj->weight, proj->bias);
}

}  // namespace fs::model
