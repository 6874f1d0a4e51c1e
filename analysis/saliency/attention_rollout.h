#pragma once
// Attention rollout and its gradient-weighted form: the formulas on an attention stack, shared by
// the two saliency methods (attention_rollout.cpp, gradient_attention_rollout.cpp) and their tests.
//  - Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers" (ACL), sec. 3: per layer
//    A' = 0.5 mean_h(A) + 0.5 I with rows renormalised, rolled out from the first block as
//    R = A'_L ... A'_2 A'_1 (the authors' code, github.com/samiraabnar/attention_flow, and
//    jacobgil/vit-explain multiply result = A' @ result in block order from R = I).
//  - Chefer, Gur & Wolf 2021, "Generic Attention-model Explainability for Interpreting Bi-Modal
//    and Encoder-Decoder Transformers" (ICCV), eq. 5-6: Ā = E_h[(∇A ⊙ A)^+], R = R + Ā R from
//    R = I in block order, ∇A = d logit[target] / dA (the authors' code,
//    github.com/hila-chefer/Transformer-MM-Explainability, ViT notebook: avg_heads,
//    apply_self_attention_rules, generate_relevance).
// The map is the class token's row of R over the patch tokens, reshaped row-major to the patch
// grid (both papers: R[0, prefix:]), at the patch grid's resolution, unnormalised.
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace fs::analysis {

// attentions[l]: block l's attention probabilities [heads,T,T] (row = query). Returns R [T,T],
// float64. InputError for an empty or inconsistent stack.
at::Tensor attentionRollout(const std::vector<at::Tensor>& attentions);
// gradients[l]: d logit[target] / d attentions[l], same shapes. Returns R [T,T], float64.
at::Tensor gradientAttentionRollout(const std::vector<at::Tensor>& attentions, const std::vector<at::Tensor>& gradients);
// Row `row` of R [T,T] over the tokens after the `prefix` prefix tokens, as a float32 [h,w] map
// (h * w must equal T - prefix).
at::Tensor tokenRowMap(const at::Tensor& rollout, int64_t row, int64_t prefix, int64_t h, int64_t w);

// True for the registered methods that need attention units (attention_rollout,
// gradient_rollout): they refuse other models with an InputError, so callers that run every
// registered method on every model (tests, batch front ends) can tell the refusal apart.
bool needsAttentionUnits(const std::string& method);

// The attention units of `model` in block order (ClassifierImpl::attentionUnits()); InputError
// naming the model and its family when it has none (`method` names the caller).
std::vector<std::string> requireAttentionUnits(const LoadedModel& model, const std::string& method);
// The class token's row (token 0) of R [T,T] over `model`'s patch tokens (after its
// prefixTokens()), as a float32 map at the patch grid: the first tap's grid at the default input
// (ViT and DeiT take only that input size, pos_embed is not resized).
at::Tensor classTokenMap(const LoadedModel& model, const at::Tensor& rollout);

}  // namespace fs::analysis
