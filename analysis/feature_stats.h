#pragma once
// Feature-map analysis of one tap [1,C,H,W]: channel statistics, ranking, normalisation and
// histograms (data for plots). Pure functions; no model access except where a gradient is given
// (tapGradient, the one helper that runs the model).
#include "analysis/colormap.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace fs::analysis {

struct LoadedModel;

// Sparsity that means something on signed residual streams (MLP-Mixer, ResMLP, ConvMLP taps are
// not rectified: "value <= 0" reads about 0.5 on all of them). Both measures are scale-aware:
//  - Hoyer sparseness (Hoyer 2004, "Non-negative Matrix Factorization with Sparseness
//    Constraints", JMLR 5, eq. 1): (sqrt(n) - L1/L2) / (sqrt(n) - 1) of the values, in [0,1]:
//    0 when every |value| is equal, 1 when a single value is non-zero. Invariant to scale and sign.
//  - near-zero fraction: the share of values with |a| <= kNearZeroRelative * max|a| over the tap.
// A channel is dead when, at the tap's scale, it is silent (max|a_c| <= kNearZeroRelative *
// max|a|) or carries no spatial information (max a_c - min a_c <= kNearZeroRelative * max|a|).
constexpr double kNearZeroRelative = 0.01;
double hoyerSparseness(const at::Tensor& values);  // 0 for fewer than 2 values or all zero
double nearZeroFraction(const at::Tensor& values, double scale);  // |a| <= kNearZeroRelative * scale

struct ChannelStats {
  int channel = 0;
  float mean = 0, max = 0, min = 0, std = 0;
  float hoyer = 0;      // Hoyer sparseness of the channel's H*W values
  float nearZero = 0;   // fraction of the channel's values near zero at the tap's scale
  bool dead = false;    // silent or spatially constant at the tap's scale
};

// tap: [1,C,H,W] or [C,H,W]. std is the population standard deviation over H*W.
std::vector<ChannelStats> channelStats(const at::Tensor& tap);

enum class ChannelRank { First, Mean, Max, Contribution };
ChannelRank parseChannelRank(const std::string& name);  // first|mean|max|contribution
const char* channelRankName(ChannelRank rank);
bool rankNeedsGradient(ChannelRank rank);

// Channel indices ordered by the criterion (descending), truncated to k. Contribution =
// sum_hw(grad * activation) for the target; it needs `grad` (same shape as tap), the others ignore it. k <= 0 or k > C: all channels. Ties keep channel order.
std::vector<int> rankChannels(const at::Tensor& tap, ChannelRank rank, int k, const at::Tensor& grad = {});

// A tap and d logit[target] / d tap for one input [1,3,H,W] (one forward, one backward).
// target < 0: the top-1 class. InputError for an unknown tap or class.
struct TapGradient {
  at::Tensor activation;  // float32 [1,C,H,W], detached
  at::Tensor gradient;    // float32 [1,C,H,W]
  int target = 0;
};
TapGradient tapGradient(LoadedModel& model, const at::Tensor& input, const std::string& tap, int target = -1);
// The one routine behind every tap gradient (the session's channel ranking, the figure's
// contribution ranking, the CAM methods, the shared passes of saliency/gradient_pass.h): one
// forward of `input` [N,3,H,W] with `taps` and one backward of the target's logit, summed over the
// batch, to all of them, and to the input when `withInputGradient`. target < 0: the top-1 class of
// the first image. Activations and gradients come back [N,C,h,w], detached.
struct TapGradients {
  std::vector<at::Tensor> activations, gradients;  // per tap, in `taps` order
  at::Tensor inputGradient;  // [N,3,H,W], NCHW-contiguous; undefined unless asked for
  int target = 0;
};
TapGradients tapGradients(LoadedModel& model, const at::Tensor& input, const std::vector<std::string>& taps,
                          int target = -1, bool withInputGradient = false);

enum class NormMode { Channel, Tap, Shared };
NormMode parseNormMode(const std::string& name);  // channel|tap|shared
const char* normModeName(NormMode mode);

// Value ranges for display: taps[i] is [1,C,H,W] or [C,H,W] and channels[i] the channels shown
// from it. Result[i][j] is the range used for channels[i][j]: Channel = that channel's own
// min..max, Tap = min..max over the shown channels of tap i, Shared = min..max over every shown
// channel of every tap (compare models on one scale).
std::vector<std::vector<ValueRange>> normalisationRanges(const std::vector<at::Tensor>& taps,
                                                         const std::vector<std::vector<int>>& channels,
                                                         NormMode mode);

struct Histogram {
  std::vector<double> edges;    // bins + 1
  std::vector<double> counts;
};
// numpy.histogram semantics: values outside [lo, hi] are ignored, hi falls in the last bin.
// lo >= hi: the data's own min..max (widened by 0.5 each side when constant).
Histogram histogram(const at::Tensor& values, int bins, double lo, double hi);

}  // namespace fs::analysis
