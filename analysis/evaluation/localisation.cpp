#include "analysis/evaluation/localisation.h"

#include "analysis/evaluation/metric.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace fs::analysis {
using fs::model::InputError;

namespace {

// The map as float64 and the mask as bool, checked: same [H,W], mask not empty.
std::pair<at::Tensor, at::Tensor> checked(const at::Tensor& map, const at::Tensor& mask) {
  if (!map.defined() || !mask.defined() || map.dim() != 2 || mask.sizes() != map.sizes())
    throw InputError("localisation: the map and the mask must both be [H,W] of one size, got " +
                     (map.defined() ? c10::str(map.sizes()) : std::string("none")) + " and " +
                     (mask.defined() ? c10::str(mask.sizes()) : std::string("none")));
  const at::Tensor m = mask.to(at::kBool).contiguous();
  if (!m.any().item<bool>()) throw InputError("localisation: the mask is empty");
  return {map.to(at::kDouble).contiguous(), m};
}

// The first `k` pixels by descending value, ties in raster order, as a bool [H,W].
at::Tensor topPixels(const at::Tensor& map, int64_t k) {
  const at::Tensor flat = map.reshape({-1});
  const at::Tensor order = std::get<1>(at::sort(flat, /*stable=*/true, 0, /*descending=*/true));
  at::Tensor top = at::zeros({flat.numel()}, at::kBool);
  top.index_fill_(0, order.narrow(0, 0, k), true);
  return top.view(map.sizes());
}

double positiveShare(const at::Tensor& map, const at::Tensor& region) {
  const at::Tensor pos = map.clamp_min(0.0);
  const double total = pos.sum().item<double>();
  return total > 0 ? pos.masked_select(region).sum().item<double>() / total : 0.0;
}

}  // namespace

double pointingGame(const at::Tensor& map, const at::Tensor& mask, double tolerance) {
  const auto [m, gt] = checked(map, mask);
  const int64_t w = m.size(1);
  const int64_t peak = m.reshape({-1}).argmax().item<int64_t>();  // first maximum
  // Distance of every pixel to the nearest object pixel (0 on the object).
  const at::Tensor outside = gt.logical_not().to(at::kByte).contiguous();
  cv::Mat src(static_cast<int>(m.size(0)), static_cast<int>(w), CV_8U, outside.data_ptr<uint8_t>());
  cv::Mat dist;
  cv::distanceTransform(src, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  return dist.at<float>(static_cast<int>(peak / w), static_cast<int>(peak % w)) <= tolerance ? 1.0 : 0.0;
}

double energyPointingGame(const at::Tensor& map, const at::Tensor& mask) {
  const auto [m, gt] = checked(map, mask);
  const at::Tensor rows = gt.any(1).nonzero().view({-1}), cols = gt.any(0).nonzero().view({-1});
  const int64_t r0 = rows.min().item<int64_t>(), r1 = rows.max().item<int64_t>();
  const int64_t c0 = cols.min().item<int64_t>(), c1 = cols.max().item<int64_t>();
  at::Tensor box = at::zeros_like(gt);
  box.narrow(0, r0, r1 - r0 + 1).narrow(1, c0, c1 - c0 + 1).fill_(true);
  return positiveShare(m, box);
}

double relevanceMass(const at::Tensor& map, const at::Tensor& mask) {
  const auto [m, gt] = checked(map, mask);
  return positiveShare(m, gt);
}

double relevanceRankAccuracy(const at::Tensor& map, const at::Tensor& mask) {
  const auto [m, gt] = checked(map, mask);
  const int64_t k = gt.sum().item<int64_t>();
  return (topPixels(m, k) & gt).sum().item<double>() / double(k);
}

double topKIou(const at::Tensor& map, const at::Tensor& mask, double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0)) throw InputError("top-k IoU: the fraction must be in (0, 1]");
  const auto [m, gt] = checked(map, mask);
  const int64_t n = m.numel();
  const at::Tensor top = topPixels(m, std::clamp<int64_t>(std::llround(fraction * double(n)), 1, n));
  return (top & gt).sum().item<double>() / (top | gt).sum().item<double>();
}

namespace {

// A localisation metric of (map, mask); higher is better for all of them.
class LocalisationMetric : public EvaluationMetric {
 public:
  using Fn = double (*)(const at::Tensor&, const at::Tensor&);
  LocalisationMetric(std::string name, std::string title, Fn fn)
      : name_(std::move(name)), title_(std::move(title)), fn_(fn) {}
  std::string name() const override { return name_; }
  std::string title() const override { return title_; }
  bool higherIsBetter() const override { return true; }
  bool needsMask() const override { return true; }
  double compute(const MetricInput& in) const override { return fn_(metricMap(in), metricMask(in)); }

 private:
  std::string name_, title_;
  Fn fn_;
};

}  // namespace

std::unique_ptr<EvaluationMetric> makePointingGame() {
  return std::make_unique<LocalisationMetric>("pointing_game", "Pointing game (15 px)",
                                              [](const at::Tensor& m, const at::Tensor& g) { return pointingGame(m, g); });
}
std::unique_ptr<EvaluationMetric> makeEnergyPointingGame() {
  return std::make_unique<LocalisationMetric>("energy_pointing_game", "Energy pointing game", energyPointingGame);
}
std::unique_ptr<EvaluationMetric> makeRelevanceMass() {
  return std::make_unique<LocalisationMetric>("relevance_mass", "Relevance mass accuracy", relevanceMass);
}
std::unique_ptr<EvaluationMetric> makeRelevanceRank() {
  return std::make_unique<LocalisationMetric>("relevance_rank", "Relevance rank accuracy", relevanceRankAccuracy);
}
std::unique_ptr<EvaluationMetric> makeTopKIou() {
  return std::make_unique<LocalisationMetric>("topk_iou", "IoU of the top 20%",
                                              [](const at::Tensor& m, const at::Tensor& g) { return topKIou(m, g); });
}

}  // namespace fs::analysis
