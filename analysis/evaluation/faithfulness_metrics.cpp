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
#include <cmath>

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
  const imputation::System s = imputation::buildSystem(rem.data_ptr<bool>(), h, w);
  at::Tensor out = img.clone();
  if (s.pixels.empty()) return (batched ? out.unsqueeze(0) : out).to(image.scalar_type());
  if (int64_t(s.pixels.size()) == h * w) throw InputError("ROAD imputation: every pixel is removed");
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const at::Tensor eps = at::randn({ch, int64_t(s.pixels.size())}, gen, at::kDouble).mul_(noise).contiguous();
  const size_t n = s.pixels.size();
  // The nested-dissection Cholesky factor (one for all channels) where it fits in memory, else CG.
  imputation::NestedDissection factor;
  const bool direct = imputation::NestedDissection::memoryEstimate(int64_t(n), h, w) <= 2.5e7 && factor.factorise(s);
  // Channels that are affine images of the first (a grey image) take the same image of its
  // imputation: the imputed values are weighted means with weights summing to one.
  const size_t pixelsPerChannel = size_t(h * w);
  std::vector<double> scale(size_t(ch), 1.0), shift(size_t(ch), 0.0);
  std::vector<size_t> solved{0};
  for (int64_t c = 1; c < ch; ++c)
    if (!affineOfFirst(img[0].data_ptr<double>(), img[c].data_ptr<double>(), pixelsPerChannel, scale[size_t(c)],
                       shift[size_t(c)]))
      solved.push_back(size_t(c));
  const size_t nc = solved.size();
  std::vector<double> x(n * nc);
  for (size_t k = 0; k < nc; ++k) {
    std::vector<double> b = imputation::rightHandSide(s, img[int64_t(solved[k])].data_ptr<double>());
    if (!direct) b = imputation::conjugateGradients(s, b);
    for (size_t i = 0; i < n; ++i) x[i * nc + k] = b[i];
  }
  if (direct) factor.solveInterleaved(x, nc);
  for (int64_t c = 0; c < ch; ++c) {
    const auto k = size_t(std::find(solved.begin(), solved.end(), size_t(c)) - solved.begin());
    const bool own = k < nc;
    const double a = own ? 1.0 : scale[size_t(c)], b = own ? 0.0 : shift[size_t(c)];
    double* o = out[c].data_ptr<double>();
    const double* e = eps[c].data_ptr<double>();
    for (size_t i = 0; i < n; ++i) o[s.pixels[i]] = a * x[i * nc + (own ? k : 0)] + b + e[i];
  }
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
  // The imputations are independent (each seeded by its index): one per intra-op thread.
  // Lanes take every lanes-th percentage, so that the costly high percentages are shared out.
  std::vector<at::Tensor> imputed(o.percentages.size());
  const int64_t lanes = std::min<int64_t>(at::get_num_threads(), int64_t(imputed.size()));
  at::parallel_for(0, lanes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t lane = begin; lane < end; ++lane)
      for (size_t i = size_t(lane); i < imputed.size(); i += size_t(lanes))
        imputed[i] = noisyLinearImputation(input, removedPixels(order, m.sizes(), o.percentages[i]), o.noise,
                                           o.seed + i).to(at::kFloat);
  });
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
