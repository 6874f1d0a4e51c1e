#pragma once
// What a slot's model makes of the current image: its prediction, feature maps per stage or per
// tap (ranked channels, analysis/feature_stats.h), and activation statistics per tap.
#include "service/types.h"

#include <string>

namespace fs::service {

class SlotStore;

class FeatureService {
 public:
  explicit FeatureService(SlotStore& store) : store_(store) {}
  SlotPrediction predict(int slot, int topK);
  // k maps per stage tap: first-k (rank "first") or ranked by "mean" / "max" / "gradient".
  StageMaps stageMaps(int slot, int k, const std::string& rank);
  // Every channel of one tap (the feature-map view), ranked channels in display order, with stats.
  TapMaps tapMaps(int slot, const std::string& tap, const std::string& rank);
  SlotStatistics statistics(int slot, int bins);

 private:
  TapMaps rankedTap(int slot, const std::string& tap, const std::string& rank, int k);
  SlotStore& store_;
};

}  // namespace fs::service
