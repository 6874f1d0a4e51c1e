#pragma once
// Feature-map analysis of one tap [1,C,H,W]: channel statistics, ranking, normalisation and
// histograms (data for plots). Pure functions; no model access except where a gradient is given.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace fs::analysis {

struct ChannelStats {
  int channel = 0;
  float mean = 0, max = 0, min = 0, std = 0;
  float nonPositiveFraction = 0;   // fraction of values <= 0
  bool dead = false;               // max <= 0 (never active) or constant
};

std::vector<ChannelStats> channelStats(const at::Tensor& tap);

enum class ChannelRank { First, Mean, Max, Contribution, CamWeight };
ChannelRank parseChannelRank(const std::string& name);  // first|mean|max|contribution|camweight

// Channel indices ordered by the criterion (descending), truncated to k. Contribution =
// sum_hw(grad * activation) for the target; CamWeight = mean_hw(grad). Both need `grad`
// (same shape as tap); First ignores it.
std::vector<int> rankChannels(const at::Tensor& tap, ChannelRank rank, int k, const at::Tensor& grad = {});

enum class NormMode { Channel, Tap, Shared };
NormMode parseNormMode(const std::string& name);  // channel|tap|shared

struct Histogram {
  std::vector<double> edges;    // bins + 1
  std::vector<double> counts;
};
Histogram histogram(const at::Tensor& values, int bins, double lo, double hi);

}  // namespace fs::analysis
