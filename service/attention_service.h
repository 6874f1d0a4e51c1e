#pragma once
// Attention probabilities of a transformer's blocks on the current image (ViT/DeiT:
// ClassifierImpl::attentionUnits), and the map of one query token over the patch grid: what the
// Attention view draws. Raw attention of one block, not a relevance method (attention rollout and
// its gradient-weighted form are saliency methods).
#include "service/types.h"

#include <opencv2/core/mat.hpp>

#include <string>

namespace fs::service {

class SlotStore;

class AttentionService {
 public:
  explicit AttentionService(SlotStore& store) : store_(store) {}
  // InputError for a model without attention units or an unknown unit (listing the valid ones).
  AttentionMaps compute(int slot, const std::string& unit);

 private:
  SlotStore& store_;
};

// Query token `query`'s attention over the patch tokens as CV_32F [gridH, gridW] (the prefix
// tokens' columns left out); head < 0: the mean over heads. InputError when out of range.
cv::Mat attentionMap(const AttentionMaps& maps, int head, int query);
// The token of the patch under model-input pixel (u, v) (prefix + row * gridW + col).
int patchToken(const AttentionMaps& maps, double u, double v);

}  // namespace fs::service
