#include "analysis/faithfulness.h"

#include "analysis/batch_budget.h"
#include "analysis/evaluation/sanity.h"
#include "analysis/evaluation/statistics.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace fs::analysis {
using fs::model::InputError;

namespace {

void checkInput(const at::Tensor& input) {
  if (!input.defined() || input.dim() != 4 || input.size(0) != 1 || input.size(1) != 3)
    throw InputError("faithfulness: input must be [1,3,H,W]");
}

// RISE's blur: a separable Gaussian, kernel 11, sigma 5, reflect padding (clamped for tiny inputs).
at::Tensor gaussianBlur(const at::Tensor& input) {
  const int64_t radius = std::min<int64_t>({5, input.size(2) - 1, input.size(3) - 1});
  const at::Tensor t = at::arange(-radius, radius + 1, at::kFloat);
  at::Tensor g = at::exp(-t * t / (2.0 * 25.0));
  g = g / g.sum();
  const at::Tensor x = at::reflection_pad2d(input.to(at::kFloat), {radius, radius, radius, radius});
  const std::vector<int64_t> one{1, 1}, zero{0, 0};
  const at::Tensor row = g.view({1, 1, 1, -1}).expand({3, 1, 1, g.size(0)}).contiguous();
  const at::Tensor h = at::conv2d(x, row, at::Tensor(), one, at::IntArrayRef(zero), one, 3);
  return at::conv2d(h, row.transpose(2, 3).contiguous(), at::Tensor(), one, at::IntArrayRef(zero), one, 3);
}

// rank[p] = position of pixel p when sorted by saliency, most salient first (stable).
at::Tensor pixelRanks(const at::Tensor& map2d) {
  const at::Tensor flat = map2d.reshape({-1}).contiguous();
  const at::Tensor order = std::get<1>(at::sort(flat, /*stable=*/true, /*dim=*/0, /*descending=*/true));
  return at::empty_like(order).scatter_(0, order, at::arange(flat.numel(), order.options()));
}

at::Tensor targetProbs(LoadedModel& model, const at::Tensor& batch, int target) {
  const at::Tensor logits = model.net->forward(batch, {}).logits;
  if (target < 0 || target >= logits.size(1))
    throw InputError("target class " + std::to_string(target) + " out of range [0, " +
                     std::to_string(logits.size(1) - 1) + "]");
  return at::softmax(logits.to(at::kDouble), 1).select(1, target);
}

Curve runCurve(LoadedModel& model, const at::Tensor& input, const at::Tensor& saliency, int target,
               const CurveOptions& o, bool insertion) {
  checkInput(input);
  if (o.steps < 1 || o.batchSize < 0) throw InputError("faithfulness: steps must be >= 1 and batch size >= 0");
  c10::InferenceMode guard;
  const int64_t h = input.size(2), w = input.size(3), n = h * w;
  const int batch = static_cast<int>(curveBatchSize(model, o, h, w));
  const at::Tensor base = makeBaseline(input, curveSubstrate(o, insertion), &model.config.input);
  // The pixels most salient first (stable); step s changes the first min(s * chunk, n) of them:
  // deletion puts the substrate there, insertion the image on the substrate.
  const at::Tensor order =
      std::get<1>(at::sort(mapToSize(saliency, h, w).reshape({-1}).contiguous(), /*stable=*/true, 0, true)).contiguous();
  const at::Tensor start = (insertion ? base : input).to(at::kFloat).contiguous();
  const at::Tensor fill = (insertion ? input : base).to(at::kFloat).contiguous();
  const int64_t chunk = (n + o.steps - 1) / o.steps, channels = input.size(1), size = channels * n;
  const auto changed = [&](int s) { return std::min<int64_t>(int64_t(s) * chunk, n); };
  const int64_t* ranked = order.data_ptr<int64_t>();
  const float *from = start.data_ptr<float>(), *with = fill.data_ptr<float>();
  Curve c;
  for (int s0 = 0; s0 <= o.steps; s0 += batch) {
    const int s1 = std::min(o.steps + 1, s0 + batch);
    // Each step's image is the previous one with the next chunk of pixels changed: plain copies,
    // not a broadcast select over every pixel of every step.
    at::Tensor x = at::empty({s1 - s0, channels, h, w}, at::kFloat);
    for (int s = s0; s < s1; ++s) {
      float* out = x.data_ptr<float>() + int64_t(s - s0) * size;
      const float* previous = s == s0 ? from : out - size;
      std::copy(previous, previous + size, out);
      for (int64_t k = s == s0 ? 0 : changed(s - 1); k < changed(s); ++k)
        for (int64_t ch = 0; ch < channels; ++ch) out[ch * n + ranked[k]] = with[ch * n + ranked[k]];
    }
    const at::Tensor p = targetProbs(model, x, target).contiguous();
    c.probs.insert(c.probs.end(), p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
  }
  for (int i = 0; i <= o.steps; ++i) c.fractions.push_back(double(i) / o.steps);
  c.auc = trapezoidAuc(c.probs);
  return c;
}

// Average ranks (1-based, ties sharing the mean of their positions) of a map's values.
std::vector<double> mapRanks(const at::Tensor& values) {
  const at::Tensor v = values.reshape({-1}).to(at::kDouble).contiguous();
  return averageRanks(std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel()));
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = double(a.size());
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i] / n, mb += b[i] / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

// Both maps at the larger common size.
std::pair<at::Tensor, at::Tensor> commonSize(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor a2 = mapToSize(a, -1, -1), b2 = mapToSize(b, -1, -1);
  const int64_t h = std::max(a2.size(0), b2.size(0)), w = std::max(a2.size(1), b2.size(1));
  return {mapToSize(a2, h, w), mapToSize(b2, h, w)};
}

bool hasParameters(const LoadedModel& model, const std::string& unit) {
  for (const auto& p : model.net->named_parameters())
    if (p.key().rfind(unit + ".", 0) == 0) return true;
  return false;
}

}  // namespace

int64_t curveBatchSize(LoadedModel& model, const CurveOptions& options, int64_t height, int64_t width) {
  return balancedBatchFor(options.steps + 1, options.batchSize, false, model, height, width);
}


Baseline parseBaseline(const std::string& name) {
  if (name == "blur") return Baseline::Blur;
  if (name == "mean" || name == "zero") return Baseline::Zero;
  if (name == "black") return Baseline::Black;
  throw InputError("unknown substrate '" + name + "' (valid: black, zero, mean, blur)");
}

const char* baselineName(Baseline b) {
  return b == Baseline::Blur ? "blur" : b == Baseline::Black ? "black" : "zero";
}

Baseline curveSubstrate(const CurveOptions& options, bool insertion) {
  return options.baseline ? *options.baseline : insertion ? Baseline::Blur : Baseline::Black;
}

std::string substrateName(const CurveOptions& options) {
  return options.baseline ? baselineName(*options.baseline) : "rise";
}

at::Tensor makeBaseline(const at::Tensor& input, Baseline b, const fs::model::InputSpec* spec) {
  checkInput(input);
  if (b == Baseline::Blur) return gaussianBlur(input);
  if (b == Baseline::Zero) return at::zeros_like(input, at::kFloat);
  if (!spec) throw InputError("the black substrate needs the model's input normalisation");
  const at::Tensor mean = at::tensor({spec->mean[0], spec->mean[1], spec->mean[2]}).view({1, 3, 1, 1});
  const at::Tensor std = at::tensor({spec->std[0], spec->std[1], spec->std[2]}).view({1, 3, 1, 1});
  return (-mean / std).expand_as(input).to(at::kFloat).contiguous();
}

at::Tensor mapToSize(const at::Tensor& saliency, int64_t height, int64_t width) {
  at::Tensor m = saliency.detach().to(at::kFloat);
  if (m.dim() == 4 && m.size(0) == 1 && m.size(1) == 3) m = m.sum(1, true);
  while (m.dim() > 2 && m.size(0) == 1) m = m[0];
  if (m.dim() != 2) throw InputError("saliency map must be [H,W], [1,H,W], [1,1,H,W] or [1,3,H,W], got " +
                                     c10::str(saliency.sizes()));
  if (height < 0 || (m.size(0) == height && m.size(1) == width)) return m.contiguous();
  const std::vector<int64_t> size{height, width};
  return at::upsample_bilinear2d(m.view({1, 1, m.size(0), m.size(1)}), at::IntArrayRef(size), false)[0][0];
}

double trapezoidAuc(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  if (values.size() == 1) return values.front();
  double sum = 0.0;
  for (size_t i = 0; i + 1 < values.size(); ++i) sum += 0.5 * (values[i] + values[i + 1]);
  return sum / double(values.size() - 1);
}

Curve deletionCurve(LoadedModel& model, const at::Tensor& input, const at::Tensor& saliency, int target,
                    const CurveOptions& options) {
  return runCurve(model, input, saliency, target, options, false);
}

Curve insertionCurve(LoadedModel& model, const at::Tensor& input, const at::Tensor& saliency, int target,
                     const CurveOptions& options) {
  return runCurve(model, input, saliency, target, options, true);
}

ConfidenceChange confidenceChange(LoadedModel& model, const at::Tensor& input, const at::Tensor& saliency,
                                  int target, Baseline baseline) {
  checkInput(input);
  c10::InferenceMode guard;
  at::Tensor e = mapToSize(saliency, input.size(2), input.size(3)).relu();
  const double peak = e.max().item<double>();
  e = peak > 0 ? e / peak : at::zeros_like(e);
  const at::Tensor base = makeBaseline(input, baseline, &model.config.input);
  const at::Tensor masked = base + e.view({1, 1, e.size(0), e.size(1)}) * (input - base);
  const at::Tensor p = targetProbs(model, at::cat({input.to(at::kFloat), masked}), target);
  ConfidenceChange c;
  c.original = p[0].item<double>(), c.masked = p[1].item<double>();
  c.drop = c.original > 0 ? std::max(0.0, c.original - c.masked) / c.original : 0.0;
  c.increase = c.masked > c.original;
  return c;
}

double spearman(const at::Tensor& a, const at::Tensor& b) {
  const auto [x, y] = commonSize(a, b);
  return pearson(mapRanks(x), mapRanks(y));
}

double topIou(const at::Tensor& a, const at::Tensor& b, double q) {
  const auto [x, y] = commonSize(a, b);
  const int64_t n = x.numel();
  const int64_t k = std::clamp<int64_t>(std::llround(q * double(n)), 1, n);
  const at::Tensor ta = pixelRanks(x) < k, tb = pixelRanks(y) < k;
  const double inter = (ta & tb).sum().item<double>(), uni = (ta | tb).sum().item<double>();
  return uni > 0 ? inter / uni : 0.0;
}

MapAgreement compareMaps(const at::Tensor& a, const at::Tensor& b, double q) { return {spearman(a, b), topIou(a, b, q)}; }


std::vector<std::string> randomisationOrder(const LoadedModel& model) {
  std::set<std::string> taps;
  for (const auto& t : model.net->taps()) taps.insert(t.name);
  std::vector<std::string> units;
  for (const auto& child : model.net->named_children()) {
    std::vector<std::string> split;
    if (!taps.count(child.key()))
      for (const auto& sub : child.value()->named_children())
        if (taps.count(child.key() + "." + sub.key())) split.push_back(child.key() + "." + sub.key());
    if (split.empty()) split.push_back(child.key());
    for (const auto& u : split)
      if (hasParameters(model, u)) units.push_back(u);
  }
  std::reverse(units.begin(), units.end());
  return units;
}

SanityResult parameterRandomisation(LoadedModel& model, const MapFunction& computeMap, uint64_t seed,
                                    const std::function<void(double)>& progress, const std::atomic<bool>* cancel) {
  const RandomisationResult r = modelRandomisation(model, computeMap, RandomisationMode::Cascading, seed, progress, cancel);
  SanityResult result;
  result.cancelled = r.cancelled;
  for (const RandomisationStep& s : r.steps) result.steps.push_back({s.unit, s.similarity.spearman});
  return result;
}

}  // namespace fs::analysis
