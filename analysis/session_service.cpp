// SessionService: model slots, the current image, and caches of preprocessed inputs, activations
// and tap gradients. Everything torch-typed stays in this file.
#include "analysis/session_service.h"

#include "analysis/session_service_impl.h"

#include "analysis/colormap.h"
#include "analysis/faithfulness.h"
#include "analysis/feature_stats.h"
#include "analysis/image_io.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/saliency_overlay.h"
#include "model/errors.h"
#include "model/registry.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

namespace fs::analysis {

cv::Point2d SessionCrop::toOriginal(double u, double v) const {
  return {x0 + (u + 0.5) / scale - 0.5, y0 + (v + 0.5) / scaleY - 0.5};
}

cv::Point2d SessionCrop::fromOriginal(double x, double y) const {
  return {(x + 0.5 - x0) * scale - 0.5, (y + 0.5 - y0) * scaleY - 0.5};
}

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

SessionService::SessionService() : impl_(std::make_unique<Impl>()) {}
SessionService::~SessionService() = default;

SlotInfo SessionService::loadSlot(int slot, const std::string& idOrConfig, const std::string& weightsPath,
                                  uint64_t seed) {
  if (slot < 0 || slot >= kMaxSlots) throw fs::model::InputError("slot out of range");
  LoadedModel m = loadModel(idOrConfig, weightsPath, seed);  // throws: the old slot stays
  SlotInfo info;
  info.slot = slot;
  info.modelId = m.config.id;
  info.family = m.config.family;
  info.source = idOrConfig;
  info.weightsPath = m.weightsPath;
  info.randomInit = m.weightsPath.empty();
  info.parameters = m.net->parameterCount();
  info.inputWidth = m.config.input.width;
  info.inputHeight = m.config.input.height;
  for (const auto& t : m.net->taps()) info.taps.push_back({t.name, t.channels, t.height, t.width, t.stride});
  info.stages = m.net->stages();
  info.labels = m.labels;
  info.report = info.randomInit ? m.weightsReport + " - no trained weights, predictions are meaningless"
                                : m.weightsReport;
  Impl::Slot s{std::move(m), info, {}, {}, {}, {}};
  impl_->slots[static_cast<size_t>(slot)] = std::move(s);
  return info;
}

void SessionService::clearSlot(int slot) {
  if (slot >= 0 && slot < kMaxSlots) impl_->slots[static_cast<size_t>(slot)].reset();
}

void SessionService::setImage(const cv::Mat& rgb, const std::string& name) {
  if (rgb.empty() || rgb.type() != CV_8UC3) throw fs::model::InputError(name + ": not an 8-bit RGB image");
  impl_->image = rgb.clone();
  impl_->imageName = name;
  for (auto& s : impl_->slots)
    if (s) impl_->clearCaches(*s);
}

SlotPrediction SessionService::predict(int slot, int topK) {
  Impl::Slot& s = impl_->slot(slot);
  const Preprocessed& p = impl_->input(s);
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
TapMaps SessionService::rankedTap(int slot, const std::string& tap, const std::string& rank, int k) {
  Impl::Slot& s = impl_->slot(slot);
  const at::Tensor& act = impl_->activation(s, tap);
  TapMaps out;
  out.slot = slot;
  out.tap = tap;
  out.totalChannels = static_cast<int>(act.size(1));
  out.crop = toSessionCrop(impl_->input(s).crop);
  const ChannelRank r = parseChannelRank(rank.empty() ? "first" : rank);
  at::Tensor grad;
  if (rankNeedsGradient(r)) grad = impl_->gradient(s, tap, impl_->topClass(s)).gradient;
  out.channels = rankChannels(act, r, k, grad);
  for (int c : out.channels) out.maps.push_back(channelMat(act, c));
  return out;
}

TapMaps SessionService::tapMaps(int slot, const std::string& tap, const std::string& rank) {
  TapMaps out = rankedTap(slot, tap, rank, 0);
  out.stats = liteStats(impl_->activation(impl_->slot(slot), tap));
  return out;
}

StageMaps SessionService::stageMaps(int slot, int k, const std::string& rank) {
  StageMaps out;
  out.slot = slot;
  for (const std::string& tap : impl_->slot(slot).info.stages) out.stages.push_back(rankedTap(slot, tap, rank, k));
  return out;
}

SaliencyMapResult SessionService::saliency(int slot, const SaliencyParams& params, const SessionProgress& progress,
                                           const std::atomic<bool>* cancel) {
  Impl::Slot& s = impl_->slot(slot);
  const Preprocessed& p = impl_->input(s);
  auto method = makeSaliencyMethod(params.method);
  SaliencyOptions o;
  o.target = params.target >= 0 ? params.target : impl_->topClass(s);
  if (o.target >= static_cast<int>(s.info.labels.size()))
    throw fs::model::InputError("class " + std::to_string(o.target) + " does not exist for " + s.info.modelId);
  o.tap = params.tap;  // empty: the model's CAM tap (resolveTap)
  o.samples = params.samples, o.sigma = params.sigma, o.steps = params.steps, o.baseline = params.baseline;
  o.window = params.window, o.stride = params.stride;
  const auto t0 = std::chrono::steady_clock::now();
  const double curveShare = params.curves ? 0.3 : 0.0;
  ProgressFn inner = [&](double f) {
    if (progress) progress(f * (1.0 - curveShare));
  };
  SaliencyResult r = method->compute(s.model, p.input, o, inner, cancel);
  SaliencyMapResult out;
  out.slot = slot;
  out.method = params.method;
  out.tap = r.tap;
  out.target = r.target;
  out.targetLabel = s.info.labels.at(static_cast<size_t>(r.target));
  out.caveat = r.caveat;
  out.display = displaySettings(method->convention());
  out.crop = toSessionCrop(p.crop);
  if (!r.map.defined() || (cancel && cancel->load())) {
    out.cancelled = true;
    return out;
  }
  out.map = saliencyMapToMat(r.map2d).clone();
  if (params.curves) {  // the metrics rank pixels by the map that is displayed
    CurveOptions co;
    co.steps = params.curveSteps;
    Curve del = deletionCurve(s.model, p.input, r.map2d, r.target, co);
    if (progress) progress(1.0 - curveShare / 2);
    Curve ins = insertionCurve(s.model, p.input, r.map2d, r.target, co);
    out.deletion = {del.fractions, del.probs, del.auc};
    out.insertion = {ins.fractions, ins.probs, ins.auc};
    out.hasCurves = true;
    const ConfidenceChange cc = confidenceChange(s.model, p.input, r.map2d, r.target, Baseline::Zero);
    out.confidenceOriginal = cc.original, out.confidenceMasked = cc.masked, out.confidenceDrop = cc.drop;
  }
  out.elapsedMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (progress) progress(1.0);
  return out;
}

SlotStatistics SessionService::statistics(int slot, int bins) {
  Impl::Slot& s = impl_->slot(slot);
  SlotStatistics out;
  out.slot = slot;
  for (const auto& t : s.info.taps) {
    const at::Tensor& act = impl_->activation(s, t.name);
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

std::vector<std::string> SessionService::registeredIds() {
  std::vector<std::string> ids;
  for (const auto& v : fs::model::registeredVariants()) ids.push_back(v.config.id);
  return ids;
}

std::string SessionService::describeVariant(const std::string& id) {
  const auto* v = fs::model::findVariant(id);
  return v ? v->description : std::string();
}

std::vector<std::string> SessionService::integratedGradientsBaselines() {
  return fs::analysis::integratedGradientsBaselines();
}

std::vector<std::string> SessionService::methodNames() { return saliencyMethodNames(); }


cv::Mat SessionService::loadImageFile(const std::string& path) { return loadImageRgb(path); }

cv::Mat SessionService::decodeImage(const std::vector<uint8_t>& bytes, const std::string& name) {
  return decodeImageBytes(bytes, name);
}

cv::Mat SessionService::overlay(const cv::Mat& original, const cv::Mat& map, const SessionCrop& crop,
                                const DisplaySettings& settings, const ValueRange* range) {
  return overlaySaliency(original, map, toCropGeometry(crop), settings, range).rgb;
}

}  // namespace fs::analysis
