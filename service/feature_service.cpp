#include "service/feature_service.h"

#include "analysis/feature_stats.h"
#include "service/slot_store.h"

#include <ATen/ATen.h>

namespace fs::service {

using namespace fs::analysis;

namespace {

// One [h,w] channel of a [1,C,h,w] tensor as an owned CV_32F image.
cv::Mat channelMat(const at::Tensor& tap, int c) {
  at::Tensor ch = tap[0][c].to(at::kFloat).contiguous();
  cv::Mat m(static_cast<int>(ch.size(0)), static_cast<int>(ch.size(1)), CV_32F, ch.data_ptr<float>());
  return m.clone();
}

std::vector<ChannelStatsLite> liteStats(const at::Tensor& tap) {
  std::vector<ChannelStatsLite> out;
  for (const ChannelStats& s : channelStats(tap)) {
    out.push_back({s.channel, s.mean, s.max, s.min, s.std, s.hoyer, s.nearZero, s.dead});
  }
  return out;
}

}  // namespace

SlotPrediction FeatureService::predict(int slot, int topK) {
  SlotStore::Slot& s = store_.slot(slot);
  const Preprocessed& p = store_.input(s);
  Prediction pred = fs::analysis::predict(s.model, p.input, std::max(topK, 5));
  s.prediction = pred;
  SlotPrediction out;
  out.slot = slot;
  for (int i = 0; i < static_cast<int>(pred.top.size()) && i < topK; ++i) {
    const auto& c = pred.top[static_cast<size_t>(i)];
    out.top.push_back({c.index, c.label, c.prob});
  }
  out.modelInput = p.resizedCrop.clone();
  out.crop = toSessionCrop(p.crop);
  out.elapsedMs = pred.elapsedMs;
  return out;
}

// One tap's channels, ranked (k <= 0: all of them), as CV_32F maps.
TapMaps FeatureService::rankedTap(int slot, const std::string& tap, const std::string& rank, int k) {
  SlotStore::Slot& s = store_.slot(slot);
  const at::Tensor& act = store_.activation(s, tap);
  TapMaps out;
  out.slot = slot;
  out.tap = tap;
  out.totalChannels = static_cast<int>(act.size(1));
  out.crop = toSessionCrop(store_.input(s).crop);
  const ChannelRank r = parseChannelRank(rank.empty() ? "first" : rank);
  at::Tensor grad;
  if (rankNeedsGradient(r)) grad = store_.gradient(s, tap, store_.topClass(s)).gradient;
  out.channels = rankChannels(act, r, k, grad);
  for (int c : out.channels) out.maps.push_back(channelMat(act, c));
  return out;
}

TapMaps FeatureService::tapMaps(int slot, const std::string& tap, const std::string& rank) {
  TapMaps out = rankedTap(slot, tap, rank, 0);
  out.stats = liteStats(store_.activation(store_.slot(slot), tap));
  return out;
}

StageMaps FeatureService::stageMaps(int slot, int k, const std::string& rank) {
  StageMaps out;
  out.slot = slot;
  for (const std::string& tap : store_.slot(slot).info.stages) out.stages.push_back(rankedTap(slot, tap, rank, k));
  return out;
}

SlotStatistics FeatureService::statistics(int slot, int bins) {
  SlotStore::Slot& s = store_.slot(slot);
  SlotStatistics out;
  out.slot = slot;
  for (const auto& t : s.info.taps) {
    const at::Tensor& act = store_.activation(s, t.name);
    TapStatistics ts;
    ts.tap = t.name;
    ts.meanActivation = act.mean().item<double>();
    ts.hoyer = hoyerSparseness(act);
    ts.nearZero = nearZeroFraction(act, act.abs().max().item<double>());
    Histogram h = histogram(act, bins, 0.0, 0.0);
    ts.edges = h.edges;
    ts.counts = h.counts;
    out.taps.push_back(std::move(ts));
  }
  return out;
}

}  // namespace fs::service
