#include "analysis/cka.h"

#include "analysis/batch_budget.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <string>

namespace fs::analysis {
using fs::model::InputError;

namespace {

// One model's side of the computation: its taps and their n x n Gram matrices.
struct Side {
  LoadedModel* model = nullptr;
  const std::vector<at::Tensor>* inputs = nullptr;
  std::vector<fs::model::TapInfo> taps;
  std::vector<std::string> names;
  std::vector<at::Tensor> grams;  // float64 [n,n], uncentred
  size_t forwardBatch = 1;        // images per forward (makeSide)
};

int64_t bytesPerImage(const Side& s);

Side makeSide(LoadedModel& m, const std::vector<at::Tensor>& inputs, const char* which) {
  Side s{&m, &inputs, m.net->taps(), {}, {}};
  const int64_t n = static_cast<int64_t>(inputs.size());
  for (const auto& t : s.taps) {
    s.names.push_back(t.name);
    s.grams.push_back(at::zeros({n, n}, at::kDouble));
  }
  for (const auto& x : inputs)
    if (x.dim() != 4 || x.size(0) != 1 || x.sizes() != inputs.front().sizes())
      throw InputError(std::string("CKA: the inputs of model ") + which + " must all be [1,3,H,W] of one size");
  // From memory: the forward's own activations and every kept tap of the batch within the budget.
  const at::Tensor& x = inputs.front();
  s.forwardBatch = static_cast<size_t>(std::max<int64_t>(
      1, std::min<int64_t>(inferenceBatchSize(m, x.size(2), x.size(3)),
                           static_cast<int64_t>(batchMemoryBudgetBytes() / double(bytesPerImage(s))))));
  return s;
}

int64_t bytesPerImage(const Side& s) {
  const auto& spec = s.model->config.input;
  const at::Tensor& x = s.inputs->front();
  const double scale = double(x.size(2) * x.size(3)) / double(std::max(1, spec.height * spec.width));
  double floats = 0;
  for (const auto& t : s.taps) floats += double(t.channels) * t.height * t.width * scale;
  return static_cast<int64_t>(floats * sizeof(float)) + 1;
}

// Per tap, float32 [end - begin, C*H*W]: each image's tap flattened to one row.
std::vector<at::Tensor> blockFeatures(Side& s, size_t begin, size_t end) {
  std::vector<std::vector<at::Tensor>> parts(s.names.size());
  for (size_t i = begin; i < end; i += s.forwardBatch) {
    const size_t j = std::min(end, i + s.forwardBatch);
    const std::vector<at::Tensor> batch(s.inputs->begin() + i, s.inputs->begin() + j);
    const fs::model::ForwardResult r = s.model->net->forward(at::cat(batch), s.names);
    for (size_t t = 0; t < s.names.size(); ++t)
      parts[t].push_back(r.taps.at(s.names[t]).reshape({int64_t(j - i), -1}));
  }
  std::vector<at::Tensor> out;
  for (auto& p : parts) out.push_back(at::cat(p));
  return out;
}

// Writes the Gram block K[I,J] = X_I X_J^T (and its transpose) in float64.
void accumulate(Side& s, const std::vector<at::Tensor>& fi, const std::vector<at::Tensor>& fj, int64_t i0,
                int64_t j0) {
  for (size_t t = 0; t < s.grams.size(); ++t) {
    const at::Tensor g = fi[t].to(at::kDouble).matmul(fj[t].to(at::kDouble).t());
    s.grams[t].narrow(0, i0, g.size(0)).narrow(1, j0, g.size(1)).copy_(g);
    if (i0 != j0) s.grams[t].narrow(0, j0, g.size(1)).narrow(1, i0, g.size(0)).copy_(g.t());
  }
}

// Rows = taps: the centred Gram matrix flattened and scaled to unit Frobenius norm (0 if constant).
at::Tensor unitCentredGrams(const Side& s, bool debiased) {
  std::vector<at::Tensor> rows;
  for (const auto& g : s.grams) {
    const at::Tensor c = centredGram(g, debiased).reshape({-1});
    const double norm = c.norm().item<double>();
    rows.push_back(norm > 0 ? c / norm : at::zeros_like(c));
  }
  return at::stack(rows);
}

CkaMatrix assemble(const Side& a, const Side& b, int images, CkaEstimator estimator) {
  CkaMatrix out;
  out.tapsA = a.taps, out.tapsB = b.taps, out.images = images, out.estimator = estimator;
  const bool debiased = estimator == CkaEstimator::Debiased;
  // The clamp only removes rounding beyond the estimator's range.
  const at::Tensor m =
      unitCentredGrams(a, debiased).matmul(unitCentredGrams(b, debiased).t()).clamp(debiased ? -1.0 : 0.0, 1.0).contiguous();
  const double* p = m.data_ptr<double>();
  for (int64_t i = 0; i < m.size(0); ++i) out.cka.emplace_back(p + i * m.size(1), p + (i + 1) * m.size(1));
  return out;
}

}  // namespace

CkaEstimator resolveCkaEstimator(CkaEstimator e, int images) {
  if (e == CkaEstimator::Auto) return images >= 4 && images < kCkaDebiasedBelow ? CkaEstimator::Debiased : CkaEstimator::Biased;
  if (e == CkaEstimator::Debiased && images < 4)
    throw InputError("debiased CKA needs at least 4 images, got " + std::to_string(images));
  return e;
}

const char* ckaEstimatorName(CkaEstimator e) {
  switch (e) {
    case CkaEstimator::Auto: return "auto";
    case CkaEstimator::Biased: return "biased";
    case CkaEstimator::Debiased: return "debiased";
  }
  return "auto";
}

CkaEstimator parseCkaEstimator(const std::string& name) {
  for (CkaEstimator e : {CkaEstimator::Auto, CkaEstimator::Biased, CkaEstimator::Debiased})
    if (name == ckaEstimatorName(e)) return e;
  throw fs::model::UsageError("unknown CKA estimator '" + name + "' (valid: auto, biased, debiased)");
}

at::Tensor centredGram(const at::Tensor& gram, bool debiased) {
  at::Tensor k = gram.to(at::kDouble);
  if (!debiased) return k - k.mean(0, true) - k.mean(1, true) + k.mean();
  const int64_t n = k.size(0);
  if (n < 4) throw InputError("debiased CKA needs at least 4 images, got " + std::to_string(n));
  k = k.clone();
  k.fill_diagonal_(0.0);
  at::Tensor means = k.sum(0) / double(n - 2);
  means = means - means.sum() / (2.0 * double(n - 1));
  k = k - means.unsqueeze(1) - means.unsqueeze(0);
  k.fill_diagonal_(0.0);
  return k;
}

double ckaFromGrams(const at::Tensor& k, const at::Tensor& l, bool debiased) {
  const at::Tensor kc = centredGram(k, debiased), lc = centredGram(l, debiased);
  const double denom = std::sqrt((kc * kc).sum().item<double>() * (lc * lc).sum().item<double>());
  return denom > 0 ? (kc * lc).sum().item<double>() / denom : 0.0;
}

double linearCka(const at::Tensor& x, const at::Tensor& y, bool debiased) {
  if (x.size(0) != y.size(0)) throw InputError("linearCka: x and y need the same number of rows");
  const at::Tensor xd = x.reshape({x.size(0), -1}).to(at::kDouble), yd = y.reshape({y.size(0), -1}).to(at::kDouble);
  return ckaFromGrams(xd.matmul(xd.t()), yd.matmul(yd.t()), debiased);
}

CkaMatrix computeCka(LoadedModel& a, LoadedModel& b, const std::vector<at::Tensor>& inputsA,
                     const std::vector<at::Tensor>& inputsB, const std::function<void(double)>& progress,
                     const std::atomic<bool>* cancel, int64_t maxBlockBytes, CkaEstimator estimator) {
  if (inputsA.size() != inputsB.size()) throw InputError("CKA: both models need the same images");
  if (inputsA.size() < 2) throw InputError("CKA needs at least 2 images, got " + std::to_string(inputsA.size()));
  estimator = resolveCkaEstimator(estimator, static_cast<int>(inputsA.size()));
  c10::InferenceMode guard;
  Side sa = makeSide(a, inputsA, "A"), sb = makeSide(b, inputsB, "B");
  const size_t n = inputsA.size();
  // Blocks are recomputed (blocks^2 / 2 pairs) when the features of all images do not fit at once.
  const int64_t perImage = bytesPerImage(sa) + bytesPerImage(sb);
  const size_t block = std::clamp<size_t>(size_t(std::max<int64_t>(0, maxBlockBytes) / perImage), 1, n);
  const size_t blocks = (n + block - 1) / block;
  const double total = blocks * (blocks + 1) / 2.0;
  double done = 0;
  for (size_t bi = 0; bi < blocks; ++bi) {
    const size_t i0 = bi * block, i1 = std::min(n, i0 + block);
    const auto fa = blockFeatures(sa, i0, i1), fb = blockFeatures(sb, i0, i1);
    for (size_t bj = bi; bj < blocks; ++bj) {
      if (cancel && cancel->load()) return CkaMatrix{sa.taps, sb.taps, {}, int(n), true, estimator};
      const size_t j0 = bj * block, j1 = std::min(n, j0 + block);
      if (bj == bi) {
        accumulate(sa, fa, fa, int64_t(i0), int64_t(i0)), accumulate(sb, fb, fb, int64_t(i0), int64_t(i0));
      } else {
        accumulate(sa, fa, blockFeatures(sa, j0, j1), int64_t(i0), int64_t(j0));
        accumulate(sb, fb, blockFeatures(sb, j0, j1), int64_t(i0), int64_t(j0));
      }
      if (progress) progress(++done / total);
    }
  }
  return assemble(sa, sb, int(n), estimator);
}

}  // namespace fs::analysis
