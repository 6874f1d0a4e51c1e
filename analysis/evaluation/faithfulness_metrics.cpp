#include "analysis/evaluation/faithfulness_metrics.h"

#include "analysis/evaluation/imputation_solver.h"
#include "analysis/evaluation/metric.h"
#include "analysis/faithfulness.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <numeric>
#include <thread>

namespace fs::analysis {
using fs::model::InputError;

namespace {

// The pixels in ranking order: most relevant first for MoRF, least relevant first for LeRF.
at::Tensor rankedPixels(const at::Tensor& map2d, bool morf) {
  return std::get<1>(at::sort(map2d.reshape({-1}), /*stable=*/true, 0, /*descending=*/morf));
}

// Pixels removed at `percent` of the ranking.
at::Tensor removedPixels(const at::Tensor& order, at::IntArrayRef sizes, int percent) {
  const int64_t k = std::llround(double(percent) / 100.0 * double(order.numel()));
  at::Tensor removed = at::zeros({order.numel()}, at::kBool);
  if (k > 0) removed.index_fill_(0, order.narrow(0, 0, k), true);
  return removed.view(sizes);
}

// Channel c as an affine image a * channel 0 + b of channel 0 (a grey image normalised per
// channel), when it is one to within 1e-6 of the channel's scale; else false.
bool affineOfFirst(const double* v0, const double* vc, size_t n, double& a, double& b) {
  double m0 = 0, mc = 0;
  for (size_t i = 0; i < n; ++i) m0 += v0[i], mc += vc[i];
  m0 /= double(n), mc /= double(n);
  double cov = 0, var = 0, scale = 0;
  for (size_t i = 0; i < n; ++i) cov += (v0[i] - m0) * (vc[i] - mc), var += (v0[i] - m0) * (v0[i] - m0);
  a = var > 0 ? cov / var : 0.0, b = mc - a * m0;
  for (size_t i = 0; i < n; ++i) scale = std::max(scale, std::abs(vc[i]));
  for (size_t i = 0; i < n; ++i)
    if (std::abs(vc[i] - (a * v0[i] + b)) > 1e-6 * std::max(scale, 1.0)) return false;
  return true;
}

// One lane's system, factor and solution, reused from imputation to imputation (their storage kept).
struct ImputationWorkspace {
  imputation::System system;
  imputation::NestedDissection factor;
  std::vector<double> x;
};

// The imputation on plain buffers (no ATen calls, so lanes run it on their own threads): img
// [ch,h,w] double, removed [h,w], eps [ch, removed pixels] (the noise, already scaled), out
// [ch,h,w] double = img with the removed pixels imputed. InputError when every pixel is removed.
// The result does not depend on what the workspace held before.
void imputeInto(const double* img, int64_t ch, int64_t h, int64_t w, const bool* removed, const double* eps,
                double* out, ImputationWorkspace& ws) {
  const size_t plane = size_t(h * w);
  std::copy(img, img + size_t(ch) * plane, out);
  imputation::System& s = ws.system;
  imputation::buildSystem(removed, h, w, s);
  const size_t n = s.pixels.size();
  if (n == 0) return;
  if (n == plane) throw InputError("ROAD imputation: every pixel is removed");
  // The nested-dissection Cholesky factor (one for all channels) where it fits in memory, else CG.
  imputation::NestedDissection& factor = ws.factor;
  const bool direct = imputation::NestedDissection::memoryEstimate(int64_t(n), h, w) <= 2.5e7 && factor.factorise(s);
  // Channels that are affine images of the first (a grey image) take the same image of its
  // imputation: the imputed values are weighted means with weights summing to one.
  std::vector<double> scale(size_t(ch), 1.0), shift(size_t(ch), 0.0);
  std::vector<size_t> solved{0};
  for (int64_t c = 1; c < ch; ++c)
    if (!affineOfFirst(img, img + size_t(c) * plane, plane, scale[size_t(c)], shift[size_t(c)]))
      solved.push_back(size_t(c));
  const size_t nc = solved.size();
  std::vector<double>& x = ws.x;
  x.resize(n * nc);
  for (size_t k = 0; k < nc; ++k) {
    std::vector<double> b = imputation::rightHandSide(s, img + solved[k] * plane);
    if (!direct) b = imputation::conjugateGradients(s, b);
    for (size_t i = 0; i < n; ++i) x[i * nc + k] = b[i];
  }
  if (direct) factor.solveInterleaved(x, nc);
  for (int64_t c = 0; c < ch; ++c) {
    const auto k = size_t(std::find(solved.begin(), solved.end(), size_t(c)) - solved.begin());
    const bool own = k < nc;
    const double a = own ? 1.0 : scale[size_t(c)], b = own ? 0.0 : shift[size_t(c)];
    double* o = out + size_t(c) * plane;
    const double* e = eps + size_t(c) * n;
    for (size_t i = 0; i < n; ++i) o[s.pixels[i]] = a * x[i * nc + (own ? k : 0)] + b + e[i];
  }
}

// N(0, noise^2) for the removed pixels of every channel, [ch, removed] double: the generator
// seeded with `seed`, as the imputation of one image draws it. Drawn in single precision (ATen's
// vectorised normal sampler, about 5x faster than its double one: 4 against 23 ns a value on one
// AVX2 core, and the draws were a fifth of a ROAD curve's time), then widened.
at::Tensor imputationNoise(int64_t ch, int64_t removed, double noise, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return at::randn({ch, removed}, gen, at::kFloat).to(at::kDouble).mul_(noise).contiguous();
}

// Every percentage's imputation of img [ch,h,w] (double) as [count,ch,h,w], from the caller's masks
// and noise. The imputations (plain C++, imputeInto) run on one lane per intra-op thread: the
// calling thread and std::threads. Each lane takes the next percentage not yet taken, the highest
// first (the more pixels removed, the larger the system), so that the lanes finish together.
// Against every other percentage per lane, on 2 lanes at 112 px (one imputation 0.6 ms at 10% to
// 10 ms at 90% MoRF): `evaluate resnet_fmnist --limit 8`, five methods, ROAD MoRF + LeRF, 3
// alternating rounds, medians 2.47 -> 2.25 s (forwards included). Each imputation is computed
// alone: the results do not depend on the lane.
at::Tensor imputeAll(const at::Tensor& img, const std::vector<at::Tensor>& masks, const std::vector<at::Tensor>& noise,
                     const std::vector<int>& percentages) {
  const int64_t ch = img.size(0), h = img.size(1), w = img.size(2);
  const size_t count = masks.size();
  const at::Tensor all = at::empty({int64_t(count), ch, h, w}, at::kDouble);
  double* const out = all.data_ptr<double>();
  const size_t imageSize = size_t(ch * h * w);
  const size_t lanes = size_t(std::clamp<int64_t>(at::get_num_threads(), 1, int64_t(count)));
  std::vector<size_t> largestFirst(count);
  std::iota(largestFirst.begin(), largestFirst.end(), size_t(0));
  std::stable_sort(largestFirst.begin(), largestFirst.end(),
                   [&](size_t a, size_t b) { return percentages[a] > percentages[b]; });
  std::atomic<size_t> next{0};
  std::vector<std::exception_ptr> errors(lanes);
  const auto lane = [&](size_t k) {
    try {
      ImputationWorkspace ws;
      for (size_t t = next++; t < count; t = next++) {
        const size_t i = largestFirst[t];
        imputeInto(img.data_ptr<double>(), ch, h, w, masks[i].data_ptr<bool>(), noise[i].data_ptr<double>(),
                   out + i * imageSize, ws);
      }
    } catch (...) {
      errors[k] = std::current_exception();
    }
  };
  std::vector<std::thread> helpers;
  for (size_t k = 1; k < lanes; ++k) helpers.emplace_back(lane, k);
  lane(0);
  for (std::thread& t : helpers) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return all;
}

}  // namespace

at::Tensor noisyLinearImputation(const at::Tensor& image, const at::Tensor& removed, double noise, uint64_t seed) {
  const bool batched = image.dim() == 4;
  if (!(image.dim() == 3 || (batched && image.size(0) == 1)))
    throw InputError("ROAD imputation: the image must be [C,H,W] or [1,C,H,W]");
  const at::Tensor img = (batched ? image[0] : image).to(at::kDouble).contiguous();
  const int64_t ch = img.size(0), h = img.size(1), w = img.size(2);
  if (removed.dim() != 2 || removed.size(0) != h || removed.size(1) != w)
    throw InputError("ROAD imputation: the removed-pixel mask must be [H,W] of the image");
  const at::Tensor rem = removed.to(at::kBool).contiguous();
  const at::Tensor eps = imputationNoise(ch, rem.sum().item<int64_t>(), noise, seed);
  at::Tensor out = at::empty_like(img);
  ImputationWorkspace ws;
  imputeInto(img.data_ptr<double>(), ch, h, w, rem.data_ptr<bool>(), eps.data_ptr<double>(), out.data_ptr<double>(),
             ws);
  return (batched ? out.unsqueeze(0) : out).to(image.scalar_type());
}

RoadCurve roadCurve(LoadedModel& model, const at::Tensor& input, const at::Tensor& map, int target, bool morf,
                    const RoadOptions& o) {
  if (!input.defined() || input.dim() != 4 || input.size(0) != 1) throw InputError("ROAD: input must be [1,C,H,W]");
  if (o.percentages.empty()) throw InputError("ROAD: no percentages");
  c10::InferenceMode guard;
  const at::Tensor m = mapToSize(map, input.size(2), input.size(3));
  for (int p : o.percentages)
    if (p < 0 || p >= 100) throw InputError("ROAD: percentages must be in [0, 100)");
  const at::Tensor order = rankedPixels(m, morf);
  const at::Tensor img = input[0].to(at::kDouble).contiguous();
  const int64_t ch = img.size(0);
  const size_t count = o.percentages.size();
  std::vector<at::Tensor> masks(count), noise(count);
  for (size_t i = 0; i < count; ++i) {
    masks[i] = removedPixels(order, m.sizes(), o.percentages[i]).contiguous();
    noise[i] = imputationNoise(ch, masks[i].sum().item<int64_t>(), o.noise, o.seed + i);
  }
  const at::Tensor all = imputeAll(img, masks, noise, o.percentages);
  const at::Tensor floats = all.to(at::kFloat);
  std::vector<at::Tensor> imputed;
  for (size_t i = 0; i < count; ++i) imputed.push_back(floats.narrow(0, int64_t(i), 1));
  const size_t batch = o.batchSize > 0 ? size_t(o.batchSize) : imputed.size();
  RoadCurve c;
  c.percentages = o.percentages;
  for (size_t s0 = 0; s0 < imputed.size(); s0 += batch) {
    const std::vector<at::Tensor> part(imputed.begin() + long(s0), imputed.begin() + long(std::min(imputed.size(), s0 + batch)));
    const at::Tensor logits = model.net->forward(at::cat(part), {}).logits;
    if (target < 0 || target >= logits.size(1)) throw InputError("ROAD: target class out of range");
    const at::Tensor p = at::softmax(logits.to(at::kDouble), 1).select(1, target).contiguous();
    c.probs.insert(c.probs.end(), p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
  }
  for (double p : c.probs) c.score += p / double(c.probs.size());
  return c;
}

namespace {

enum class Kind { Deletion, Insertion, RoadMorf, RoadLerf };

class FaithfulnessMetric : public EvaluationMetric {
 public:
  FaithfulnessMetric(Kind kind) : kind_(kind) {}
  std::string name() const override {
    return kind_ == Kind::Deletion ? "deletion" : kind_ == Kind::Insertion ? "insertion"
                                               : kind_ == Kind::RoadMorf ? "road_morf" : "road_lerf";
  }
  std::string title() const override {
    return kind_ == Kind::Deletion ? "Deletion AUC" : kind_ == Kind::Insertion ? "Insertion AUC"
                                                    : kind_ == Kind::RoadMorf ? "ROAD MoRF" : "ROAD LeRF";
  }
  bool higherIsBetter() const override { return kind_ == Kind::Insertion || kind_ == Kind::RoadLerf; }
  bool needsModel() const override { return true; }
  double compute(const MetricInput& in) const override {
    LoadedModel& model = metricModel(in);
    if (!in.map2d.defined()) throw InputError("metric: no saliency map");
    CurveOptions curve;
    curve.batchSize = in.batchSize;
    RoadOptions road;
    road.seed = in.seed, road.batchSize = in.batchSize;
    switch (kind_) {
      case Kind::Deletion: return deletionCurve(model, in.input, in.map2d, in.target, curve).auc;
      case Kind::Insertion: return insertionCurve(model, in.input, in.map2d, in.target, curve).auc;
      case Kind::RoadMorf: return roadCurve(model, in.input, in.map2d, in.target, true, road).score;
      case Kind::RoadLerf: return roadCurve(model, in.input, in.map2d, in.target, false, road).score;
    }
    return 0.0;
  }

 private:
  Kind kind_;
};

}  // namespace

std::unique_ptr<EvaluationMetric> makeDeletionMetric() { return std::make_unique<FaithfulnessMetric>(Kind::Deletion); }
std::unique_ptr<EvaluationMetric> makeInsertionMetric() { return std::make_unique<FaithfulnessMetric>(Kind::Insertion); }
std::unique_ptr<EvaluationMetric> makeRoadMorf() { return std::make_unique<FaithfulnessMetric>(Kind::RoadMorf); }
std::unique_ptr<EvaluationMetric> makeRoadLerf() { return std::make_unique<FaithfulnessMetric>(Kind::RoadLerf); }

}  // namespace fs::analysis
