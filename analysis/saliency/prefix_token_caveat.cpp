// The zero-map caveat of token models with prefix tokens (prefix_token_caveat.h).
#include "analysis/saliency/prefix_token_caveat.h"

#include "analysis/string_list.h"

#include <ATen/ATen.h>

namespace fs::analysis {

std::string prefixTokenZeroMapCaveat(const LoadedModel& model, const std::string& tap, const at::Tensor& map) {
  const std::vector<std::string> prefix = model.net->prefixTokens();
  if (prefix.empty() || tap.empty() || !map.defined() || map.numel() == 0 || !at::all(map == 0).item<bool>()) return "";
  return "the map at tap " + tap + " is exactly zero: after the last block's attention only the prefix tokens (" +
         joinList(prefix) + ") reach the head, so no gradient reaches a patch token here; the default CAM tap " +
         model.net->camTap() + " (the last block's attention input) or an earlier block shows the patches";
}

}  // namespace fs::analysis
