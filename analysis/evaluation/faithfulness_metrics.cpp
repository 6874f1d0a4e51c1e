#include "analysis/evaluation/faithfulness_metrics.h"

#include "analysis/evaluation/metric.h"
#include "analysis/faithfulness.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>

namespace fs::analysis {
using fs::model::InputError;

namespace {

struct Neighbour {
  int dr, dc;
  double w;
};
constexpr Neighbour kNeighbours[8] = {{-1, -1, 1.0 / 12}, {-1, 0, 1.0 / 6}, {-1, 1, 1.0 / 12}, {0, -1, 1.0 / 6},
                                      {0, 1, 1.0 / 6},    {1, -1, 1.0 / 12}, {1, 0, 1.0 / 6},  {1, 1, 1.0 / 12}};

// The system A x = b over the removed pixels: A_ii = sum of the in-image neighbours' weights,
// A_ij = -w for a removed neighbour j, b_i = sum of w * value over the known neighbours
// (symmetric positive definite when some pixel is known). Neighbour lists in CSR form.
struct ImputationSystem {
  std::vector<int64_t> pixels;  // removed pixels, raster order
  std::vector<double> diag;
  std::vector<int64_t> linkStart, link;  // removed neighbours of i: link[linkStart[i] .. linkStart[i+1])
  std::vector<double> linkWeight;
  std::vector<int64_t> knownStart, known;  // known neighbours (pixel index)
  std::vector<double> knownWeight;
};

ImputationSystem buildSystem(const bool* removed, int64_t h, int64_t w) {
  ImputationSystem s;
  std::vector<int64_t> index(size_t(h * w), -1);
  for (int64_t p = 0; p < h * w; ++p)
    if (removed[p]) index[size_t(p)] = int64_t(s.pixels.size()), s.pixels.push_back(p);
  const size_t n = s.pixels.size();
  s.diag.assign(n, 0.0);
  s.linkStart.push_back(0), s.knownStart.push_back(0);
  for (size_t i = 0; i < n; ++i) {
    const int64_t r = s.pixels[i] / w, c = s.pixels[i] % w;
    for (const Neighbour& nb : kNeighbours) {
      const int64_t rr = r + nb.dr, cc = c + nb.dc;
      if (rr < 0 || cc < 0 || rr >= h || cc >= w) continue;
      s.diag[i] += nb.w;
      const int64_t q = rr * w + cc;
      if (removed[q]) s.link.push_back(index[size_t(q)]), s.linkWeight.push_back(nb.w);
      else s.known.push_back(q), s.knownWeight.push_back(nb.w);
    }
    s.linkStart.push_back(int64_t(s.link.size())), s.knownStart.push_back(int64_t(s.known.size()));
  }
  return s;
}

void applySystem(const ImputationSystem& s, const std::vector<double>& x, std::vector<double>& y) {
  for (size_t i = 0; i < x.size(); ++i) {
    double v = s.diag[i] * x[i];
    for (int64_t k = s.linkStart[i]; k < s.linkStart[i + 1]; ++k) v -= s.linkWeight[size_t(k)] * x[size_t(s.link[size_t(k)])];
    y[i] = v;
  }
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Jacobi-preconditioned conjugate gradients to a relative residual of 1e-8.
std::vector<double> solve(const ImputationSystem& s, const std::vector<double>& b) {
  const size_t n = b.size();
  std::vector<double> x(n, 0.0), r = b, z(n), p(n), ap(n);
  for (size_t i = 0; i < n; ++i) z[i] = r[i] / s.diag[i];
  p = z;
  double rz = dot(r, z);
  const double stop = 1e-16 * std::max(dot(b, b), 1e-300);
  for (size_t it = 0; it < 10 * n + 100 && dot(r, r) > stop; ++it) {
    applySystem(s, p, ap);
    const double pap = dot(p, ap);
    const double alpha = pap > 0 ? rz / pap : 0.0;
    for (size_t i = 0; i < n; ++i) x[i] += alpha * p[i], r[i] -= alpha * ap[i];
    for (size_t i = 0; i < n; ++i) z[i] = r[i] / s.diag[i];
    const double next = dot(r, z);
    const double beta = rz > 0 ? next / rz : 0.0;
    for (size_t i = 0; i < n; ++i) p[i] = z[i] + beta * p[i];
    rz = next;
  }
  return x;
}

// The system's Cholesky factor A = L L^T in band form (A's links reach at most `band` places back
// in raster order: L(i, j) at L[i * (band + 1) + i - j] for i - band <= j <= i). One factorisation
// serves every channel; n * band^2 / 2 multiply-adds. False if A is not positive definite.
struct BandCholesky {
  size_t n = 0, band = 0;
  std::vector<double> l;
  double& at(size_t i, size_t j) { return l[i * (band + 1) + i - j]; }
  double at(size_t i, size_t j) const { return l[i * (band + 1) + i - j]; }
};

size_t bandOf(const ImputationSystem& s) {
  size_t band = 0;
  for (size_t i = 0; i + 1 < s.linkStart.size(); ++i)
    for (int64_t k = s.linkStart[i]; k < s.linkStart[i + 1]; ++k)
      band = std::max(band, size_t(std::llabs(int64_t(i) - s.link[size_t(k)])));
  return band;
}

bool factorise(const ImputationSystem& s, size_t band, BandCholesky& f) {
  const size_t n = s.diag.size();
  f.n = n, f.band = band;
  f.l.assign(n * (band + 1), 0.0);
  for (size_t i = 0; i < n; ++i) {
    f.at(i, i) = s.diag[i];
    for (int64_t k = s.linkStart[i]; k < s.linkStart[i + 1]; ++k)
      if (size_t(s.link[size_t(k)]) < i) f.at(i, size_t(s.link[size_t(k)])) -= s.linkWeight[size_t(k)];
  }
  for (size_t i = 0; i < n; ++i) {
    const size_t first = i > band ? i - band : 0;
    for (size_t j = first; j <= i; ++j) {
      // sum_k L(i,k) L(j,k) over from <= k < j: both rows are contiguous (k descending).
      const size_t from = std::max(first, j > band ? j - band : 0), len = j - from;
      const double* a = &f.l[i * (band + 1) + i - j + 1];
      const double* b = &f.l[j * (band + 1) + 1];
      double acc[4] = {0, 0, 0, 0};
      size_t t = 0;
      for (; t + 4 <= len; t += 4)
        for (size_t u = 0; u < 4; ++u) acc[u] += a[t + u] * b[t + u];
      for (; t < len; ++t) acc[0] += a[t] * b[t];
      const double sum = f.at(i, j) - ((acc[0] + acc[1]) + (acc[2] + acc[3]));
      if (i == j) {
        if (!(sum > 0)) return false;
        f.at(i, i) = std::sqrt(sum);
      } else {
        f.at(i, j) = sum / f.at(j, j);
      }
    }
  }
  return true;
}

// Forward and back substitution: x = A^-1 b.
std::vector<double> solveBand(const BandCholesky& f, std::vector<double> x) {
  for (size_t i = 0; i < f.n; ++i) {
    for (size_t k = i > f.band ? i - f.band : 0; k < i; ++k) x[i] -= f.at(i, k) * x[k];
    x[i] /= f.at(i, i);
  }
  for (size_t i = f.n; i-- > 0;) {
    x[i] /= f.at(i, i);
    for (size_t k = i > f.band ? i - f.band : 0; k < i; ++k) x[k] -= f.at(i, k) * x[i];
  }
  return x;
}

// Pixels removed at `percent` of the ranking (most relevant first for MoRF, least for LeRF).
at::Tensor removedPixels(const at::Tensor& map2d, int percent, bool morf) {
  const at::Tensor flat = map2d.reshape({-1});
  const at::Tensor order = std::get<1>(at::sort(flat, /*stable=*/true, 0, /*descending=*/morf));
  const int64_t k = std::llround(double(percent) / 100.0 * double(flat.numel()));
  at::Tensor removed = at::zeros({flat.numel()}, at::kBool);
  if (k > 0) removed.index_fill_(0, order.narrow(0, 0, k), true);
  return removed.view(map2d.sizes());
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
  const ImputationSystem s = buildSystem(rem.data_ptr<bool>(), h, w);
  at::Tensor out = img.clone();
  if (s.pixels.empty()) return (batched ? out.unsqueeze(0) : out).to(image.scalar_type());
  if (int64_t(s.pixels.size()) == h * w) throw InputError("ROAD imputation: every pixel is removed");
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const at::Tensor eps = at::randn({ch, int64_t(s.pixels.size())}, gen, at::kDouble).mul_(noise).contiguous();
  const size_t n = s.pixels.size();
  // A direct band Cholesky solve (one factorisation for all channels) where it costs at most about
  // what conjugate gradients would (the 112-pixel demo inputs: n * band^2 <= 3e8); else CG.
  const size_t band = bandOf(s);
  BandCholesky factor;
  const bool direct = double(n) * double(band) * double(band) <= 3e8 && factorise(s, band, factor);
  for (int64_t c = 0; c < ch; ++c) {
    const double* v = img[c].data_ptr<double>();
    std::vector<double> b(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (int64_t k = s.knownStart[i]; k < s.knownStart[i + 1]; ++k)
        b[i] += s.knownWeight[size_t(k)] * v[s.known[size_t(k)]];
    const std::vector<double> x = direct ? solveBand(factor, std::move(b)) : solve(s, b);
    double* o = out[c].data_ptr<double>();
    const double* e = eps[c].data_ptr<double>();
    for (size_t i = 0; i < n; ++i) o[s.pixels[i]] = x[i] + e[i];
  }
  return (batched ? out.unsqueeze(0) : out).to(image.scalar_type());
}

RoadCurve roadCurve(LoadedModel& model, const at::Tensor& input, const at::Tensor& map, int target, bool morf,
                    const RoadOptions& o) {
  if (!input.defined() || input.dim() != 4 || input.size(0) != 1) throw InputError("ROAD: input must be [1,C,H,W]");
  if (o.percentages.empty()) throw InputError("ROAD: no percentages");
  c10::InferenceMode guard;
  const at::Tensor m = mapToSize(map, input.size(2), input.size(3));
  std::vector<at::Tensor> imputed;
  for (size_t i = 0; i < o.percentages.size(); ++i) {
    const int p = o.percentages[i];
    if (p < 0 || p >= 100) throw InputError("ROAD: percentages must be in [0, 100)");
    imputed.push_back(noisyLinearImputation(input, removedPixels(m, p, morf), o.noise, o.seed + i).to(at::kFloat));
  }
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
