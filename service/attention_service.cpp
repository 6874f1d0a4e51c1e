#include "service/attention_service.h"

#include "analysis/string_list.h"
#include "model/errors.h"
#include "service/slot_store.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>

namespace fs::service {

AttentionMaps AttentionService::compute(int slot, const std::string& unit) {
  SlotStore::Slot& s = store_.slot(slot);
  const auto& units = s.info.attentionUnits;
  if (units.empty()) throw fs::model::InputError(s.info.modelId + " has no attention units (a ViT or DeiT has)");
  if (std::find(units.begin(), units.end(), unit) == units.end())
    throw fs::model::InputError("unknown attention unit '" + unit + "' for " + s.info.modelId + " (valid: " +
                                fs::analysis::joinList(units) + ")");
  const fs::analysis::Preprocessed& p = store_.input(s);
  at::Tensor probs;
  {
    c10::InferenceMode guard;
    probs = s.model.net->forward(p.input, {unit}).attention.at(unit)[0].to(at::kFloat).contiguous();
  }
  AttentionMaps out;
  out.slot = slot;
  out.unit = unit;
  out.heads = int(probs.size(0));
  out.tokens = int(probs.size(1));
  out.prefixNames = s.info.prefixTokens;
  out.prefix = int(out.prefixNames.size());
  const int patches = out.tokens - out.prefix;
  for (const auto& t : s.info.taps)  // the patch grid: a token tap with as many cells as patches
    if (t.height * t.width == patches) {
      out.gridH = t.height, out.gridW = t.width;
      break;
    }
  if (out.gridH == 0)
    throw fs::model::InputError(s.info.modelId + ": no tap with the " + std::to_string(patches) + " patch tokens' grid");
  out.probs.assign(probs.data_ptr<float>(), probs.data_ptr<float>() + probs.numel());
  out.crop = toSessionCrop(p.crop);
  return out;
}

cv::Mat attentionMap(const AttentionMaps& a, int head, int query) {
  if (head >= a.heads || query < 0 || query >= a.tokens)
    throw fs::model::InputError(a.unit + ": head " + std::to_string(head) + " or query token " + std::to_string(query) +
                                " out of range (" + std::to_string(a.heads) + " heads, " + std::to_string(a.tokens) +
                                " tokens)");
  cv::Mat out(a.gridH, a.gridW, CV_32F, cv::Scalar(0));
  const int first = head < 0 ? 0 : head, last = head < 0 ? a.heads : head + 1;
  const size_t t = size_t(a.tokens);
  for (int h = first; h < last; ++h) {
    const float* row = a.probs.data() + (size_t(h) * t + size_t(query)) * t + size_t(a.prefix);
    for (int i = 0; i < a.gridH * a.gridW; ++i) out.at<float>(i / a.gridW, i % a.gridW) += row[i];
  }
  return out / float(last - first);
}

int patchToken(const AttentionMaps& a, double u, double v) {
  const int col = std::clamp(int(std::floor(u / a.crop.width * a.gridW)), 0, a.gridW - 1);
  const int row = std::clamp(int(std::floor(v / a.crop.height * a.gridH)), 0, a.gridH - 1);
  return a.prefix + row * a.gridW + col;
}

}  // namespace fs::service
