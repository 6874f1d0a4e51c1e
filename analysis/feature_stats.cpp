#include "analysis/feature_stats.h"

#include "analysis/model_loader.h"
#include "analysis/inference.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <limits>
#include <numeric>

namespace fs::analysis {
using fs::model::InputError;

namespace {

// [1,C,H,W] or [C,H,W] -> float64 [C, H*W].
at::Tensor channelRows(const at::Tensor& tap, const char* what) {
  if (!tap.defined() || (tap.dim() != 4 && tap.dim() != 3) || (tap.dim() == 4 && tap.size(0) != 1))
    throw InputError(std::string(what) + ": expected a [1,C,H,W] or [C,H,W] tensor");
  const at::Tensor t = tap.dim() == 4 ? tap[0] : tap;
  return t.detach().reshape({t.size(0), -1}).to(at::kDouble);
}

std::vector<double> toVector(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Per-channel score for the criterion (higher ranks first).
at::Tensor rankScores(const at::Tensor& rows, ChannelRank rank, const at::Tensor& grad) {
  switch (rank) {
    case ChannelRank::Mean: return rows.mean(1);
    case ChannelRank::Max: return rows.amax(1);
    case ChannelRank::Contribution: return (rows * channelRows(grad, "gradient")).sum(1);
    case ChannelRank::First: break;
  }
  return -at::arange(rows.size(0), at::kDouble);
}

// Hoyer sparseness of each row of a float64 [R,n] tensor.
at::Tensor hoyerRows(const at::Tensor& rows) {
  const int64_t n = rows.size(1);
  if (n < 2) return at::zeros({rows.size(0)}, at::kDouble);
  const at::Tensor l1 = rows.abs().sum(1), l2 = rows.pow(2).sum(1).sqrt();
  const double rootN = std::sqrt(double(n));
  const at::Tensor ratio = at::where(l2 > 0, l1 / l2, at::full_like(l1, rootN));  // all zero: 0
  return ((rootN - ratio) / (rootN - 1.0)).clamp(0.0, 1.0);
}

ValueRange rangeOf(const at::Tensor& rows) {
  if (rows.numel() == 0) return {0.0, 0.0};
  return {rows.min().item<double>(), rows.max().item<double>()};
}

ValueRange unite(const ValueRange& a, const ValueRange& b) { return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)}; }

}  // namespace

double hoyerSparseness(const at::Tensor& values) {
  return hoyerRows(values.reshape({1, -1}).to(at::kDouble))[0].item<double>();
}

double nearZeroFraction(const at::Tensor& values, double scale) {
  if (values.numel() == 0) return 0.0;
  return (values.abs().to(at::kDouble) <= kNearZeroRelative * scale).to(at::kDouble).mean().item<double>();
}

std::vector<ChannelStats> channelStats(const at::Tensor& tap) {
  const at::Tensor rows = channelRows(tap, "channelStats");
  const auto mean = toVector(rows.mean(1)), mx = toVector(rows.amax(1)), mn = toVector(rows.amin(1));
  const auto sd = toVector(rows.std(1, /*unbiased=*/false));
  const at::Tensor absRows = rows.abs();  // rows are float64 already (channelRows)
  const double scale = rows.numel() ? absRows.max().item<double>() : 0.0;
  const double eps = kNearZeroRelative * scale;
  const auto hoyer = toVector(hoyerRows(rows));
  const auto nearZero = toVector((absRows <= eps).to(at::kDouble).mean(1));
  const auto absMax = toVector(absRows.amax(1));
  std::vector<ChannelStats> out(mean.size());
  for (size_t c = 0; c < out.size(); ++c) {
    auto& s = out[c];
    s.channel = static_cast<int>(c);
    s.mean = float(mean[c]), s.max = float(mx[c]), s.min = float(mn[c]), s.std = float(sd[c]);
    s.hoyer = float(hoyer[c]), s.nearZero = float(nearZero[c]);
    s.dead = absMax[c] <= eps || (rows.size(1) > 1 && mx[c] - mn[c] <= eps);
  }
  return out;
}

ChannelRank parseChannelRank(const std::string& name) {
  for (ChannelRank r : {ChannelRank::First, ChannelRank::Mean, ChannelRank::Max, ChannelRank::Contribution})
    if (name == channelRankName(r)) return r;
  throw InputError("unknown channel ranking '" + name + "' (valid: first, mean, max, contribution)");
}

const char* channelRankName(ChannelRank rank) {
  switch (rank) {
    case ChannelRank::First: return "first";
    case ChannelRank::Mean: return "mean";
    case ChannelRank::Max: return "max";
    case ChannelRank::Contribution: return "contribution";
  }
  return "first";
}

bool rankNeedsGradient(ChannelRank rank) { return rank == ChannelRank::Contribution; }

std::vector<int> rankChannels(const at::Tensor& tap, ChannelRank rank, int k, const at::Tensor& grad) {
  const at::Tensor rows = channelRows(tap, "rankChannels");
  if (rankNeedsGradient(rank) && (!grad.defined() || grad.sizes() != tap.sizes()))
    throw InputError(std::string("channel ranking '") + channelRankName(rank) +
                     "' needs the gradient of the target w.r.t. the tap (same shape as the tap)");
  const std::vector<double> score = toVector(rankScores(rows, rank, grad));
  std::vector<int> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[a] > score[b]; });
  if (k > 0 && k < static_cast<int>(order.size())) order.resize(k);
  return order;
}

TapGradients tapGradients(LoadedModel& model, const at::Tensor& input, const std::vector<std::string>& taps,
                          int target, bool withInputGradient) {
  for (const auto& tap : taps) findTap(model, tap);  // InputError listing the valid taps
  c10::InferenceMode notInference(false);
  torch::AutoGradMode enable(true);
  const at::Tensor x = input.detach().clone().requires_grad_(true);
  const fs::model::ForwardResult r = model.net->forward(x, taps);
  const int64_t classes = r.logits.size(1);
  if (target >= classes) throw InputError("class " + std::to_string(target) + " out of range [0, " +
                                          std::to_string(classes - 1) + "] for " + model.config.id);
  TapGradients out;
  out.target = target < 0 ? static_cast<int>(r.logits[0].argmax().item<int64_t>()) : target;
  std::vector<at::Tensor> wrt;
  for (const auto& tap : taps) wrt.push_back(r.taps.at(tap));
  if (withInputGradient) wrt.push_back(x);
  // allow_unused: a tap the target's logit does not depend on gets a zero gradient.
  const auto grads = torch::autograd::grad({r.logits.select(1, out.target).sum()}, wrt, {}, false, false, true);
  for (size_t i = 0; i < taps.size(); ++i) {
    out.activations.push_back(wrt[i].detach());
    out.gradients.push_back(grads[i].defined() ? grads[i].detach() : at::zeros_like(wrt[i]).detach());
  }
  // NCHW, as SaliencyBase::inputGradient hands it on (oneDNN's backward may return channels-last).
  if (withInputGradient) out.inputGradient = grads.back().contiguous();
  return out;
}

TapGradient tapGradient(LoadedModel& model, const at::Tensor& input, const std::string& tap, int target) {
  TapGradients g = tapGradients(model, input, {tap}, target);
  return {g.activations[0], g.gradients[0], g.target};
}

NormMode parseNormMode(const std::string& name) {
  for (NormMode m : {NormMode::Channel, NormMode::Tap, NormMode::Shared})
    if (name == normModeName(m)) return m;
  throw InputError("unknown normalisation '" + name + "' (valid: channel, tap, shared)");
}

const char* normModeName(NormMode mode) {
  switch (mode) {
    case NormMode::Channel: return "channel";
    case NormMode::Tap: return "tap";
    case NormMode::Shared: return "shared";
  }
  return "channel";
}

std::vector<std::vector<ValueRange>> normalisationRanges(const std::vector<at::Tensor>& taps,
                                                         const std::vector<std::vector<int>>& channels,
                                                         NormMode mode) {
  if (taps.size() != channels.size()) throw InputError("normalisationRanges: one channel list per tap expected");
  std::vector<std::vector<ValueRange>> ranges(taps.size());
  for (size_t i = 0; i < taps.size(); ++i) {
    const at::Tensor rows = channelRows(taps[i], "normalisationRanges");
    for (int c : channels[i]) {
      if (c < 0 || c >= rows.size(0)) throw InputError("channel " + std::to_string(c) + " out of range");
      ranges[i].push_back(rangeOf(rows[c]));
    }
  }
  if (mode == NormMode::Channel) return ranges;
  std::vector<ValueRange> perTap;
  for (const auto& r : ranges) {
    ValueRange u{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    for (const auto& v : r) u = unite(u, v);
    perTap.push_back(u);
  }
  ValueRange all = perTap.empty() ? ValueRange{} : perTap.front();
  for (const auto& v : perTap) all = unite(all, v);
  for (size_t i = 0; i < ranges.size(); ++i)
    for (auto& v : ranges[i]) v = mode == NormMode::Tap ? perTap[i] : all;
  return ranges;
}

Histogram histogram(const at::Tensor& values, int bins, double lo, double hi) {
  if (bins < 1) throw InputError("histogram: bins must be >= 1");
  const at::Tensor v = values.detach().reshape({-1}).to(at::kDouble);
  if (!(lo < hi)) {
    lo = v.numel() ? v.min().item<double>() : 0.0;
    hi = v.numel() ? v.max().item<double>() : 1.0;
    if (lo == hi) lo -= 0.5, hi += 0.5;
  }
  Histogram h;
  h.edges = toVector(at::linspace(lo, hi, bins + 1, at::kDouble));
  const at::Tensor inside = v.masked_select((v >= lo) & (v <= hi));
  const at::Tensor idx = ((inside - lo) / (hi - lo) * bins).floor().clamp(0, bins - 1).to(at::kLong);
  h.counts = toVector(at::bincount(idx, {}, bins).to(at::kDouble));
  return h;
}

}  // namespace fs::analysis
