#include "analysis/evaluation/similarity.h"

#include "analysis/faithfulness.h"
#include "model/errors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fs::analysis {
using fs::model::InputError;

namespace {

std::pair<at::Tensor, at::Tensor> commonMaps(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor a2 = mapToSize(a, -1, -1), b2 = mapToSize(b, -1, -1);
  const int64_t h = std::max(a2.size(0), b2.size(0)), w = std::max(a2.size(1), b2.size(1));
  return {mapToSize(a2, h, w).to(at::kDouble), mapToSize(b2, h, w).to(at::kDouble)};
}

at::Tensor unitRange(const at::Tensor& m) {
  const double lo = m.min().item<double>(), hi = m.max().item<double>();
  return hi > lo ? (m - lo) / (hi - lo) : at::zeros_like(m);
}

// Mean over every `win` x `win` window lying inside the image, [H-win+1, W-win+1].
at::Tensor windowMean(const at::Tensor& m, int64_t win) {
  const std::vector<int64_t> k{win, win}, s{1, 1};
  return at::avg_pool2d(m.view({1, 1, m.size(0), m.size(1)}), at::IntArrayRef(k), at::IntArrayRef(s))[0][0];
}

double pearsonOf(const at::Tensor& x, const at::Tensor& y) {
  const at::Tensor xc = x - x.mean(), yc = y - y.mean();
  const double sxx = (xc * xc).sum().item<double>(), syy = (yc * yc).sum().item<double>();
  return sxx > 0 && syy > 0 ? (xc * yc).sum().item<double>() / std::sqrt(sxx * syy) : 0.0;
}

}  // namespace

double spearmanSimilarity(const at::Tensor& a, const at::Tensor& b, bool absolute) {
  const auto [x, y] = commonMaps(a, b);
  return absolute ? spearman(x.abs(), y.abs()) : spearman(x, y);
}

double ssimSimilarity(const at::Tensor& a, const at::Tensor& b) {
  const auto [x0, y0] = commonMaps(a, b);
  constexpr int64_t kWin = 7;
  if (x0.size(0) < kWin || x0.size(1) < kWin) throw InputError("SSIM: maps must be at least 7x7");
  const at::Tensor x = unitRange(x0), y = unitRange(y0);
  const double covNorm = double(kWin * kWin) / double(kWin * kWin - 1);
  const at::Tensor ux = windowMean(x, kWin), uy = windowMean(y, kWin);
  const at::Tensor vx = covNorm * (windowMean(x * x, kWin) - ux * ux);
  const at::Tensor vy = covNorm * (windowMean(y * y, kWin) - uy * uy);
  const at::Tensor vxy = covNorm * (windowMean(x * y, kWin) - ux * uy);
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  const at::Tensor s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
  return s.mean().item<double>();
}

at::Tensor hogDescriptor(const at::Tensor& map) {
  constexpr int64_t kCell = 8, kBlock = 3, kBins = 9;
  const at::Tensor m = unitRange(mapToSize(map, -1, -1).to(at::kDouble)).contiguous();
  const int64_t h = m.size(0), w = m.size(1);
  if (h < kCell * kBlock || w < kCell * kBlock) throw InputError("HOG: maps must be at least 24x24");
  at::Tensor gr = at::zeros_like(m), gc = at::zeros_like(m);
  gr.narrow(0, 1, h - 2).copy_(m.narrow(0, 2, h - 2) - m.narrow(0, 0, h - 2));
  gc.narrow(1, 1, w - 2).copy_(m.narrow(1, 2, w - 2) - m.narrow(1, 0, w - 2));
  const at::Tensor mag = at::hypot(gc, gr).contiguous();
  const at::Tensor ori = at::remainder(at::rad2deg(at::atan2(gr, gc)), 180.0).contiguous();
  const int64_t cr = h / kCell, cc = w / kCell;
  std::vector<double> hist(size_t(cr * cc * kBins), 0.0);
  const double* pm = mag.data_ptr<double>();
  const double* po = ori.data_ptr<double>();
  const double binWidth = 180.0 / kBins;
  for (int64_t r = 0; r < cr * kCell; ++r)
    for (int64_t c = 0; c < cc * kCell; ++c) {
      const double o = po[r * w + c];
      // skimage's bin test: start = width * i <= o < width * (i + 1).
      int64_t bin = std::min<int64_t>(kBins - 1, int64_t(o / binWidth));
      if (o < binWidth * double(bin)) --bin;
      else if (o >= binWidth * double(bin + 1)) ++bin;
      if (bin < 0 || bin >= kBins) continue;
      hist[size_t(((r / kCell) * cc + c / kCell) * kBins + bin)] += pm[r * w + c] / double(kCell * kCell);
    }
  const at::Tensor cells = at::tensor(hist, at::kDouble).view({cr, cc, kBins});
  std::vector<at::Tensor> blocks;
  constexpr double kEps = 1e-5;
  for (int64_t r = 0; r + kBlock <= cr; ++r)
    for (int64_t c = 0; c + kBlock <= cc; ++c) {
      at::Tensor b = cells.narrow(0, r, kBlock).narrow(1, c, kBlock).reshape({-1});
      b = (b / std::sqrt(b.square().sum().item<double>() + kEps * kEps)).clamp_max(0.2);
      blocks.push_back(b / std::sqrt(b.square().sum().item<double>() + kEps * kEps));
    }
  return at::cat(blocks);
}

double hogSimilarity(const at::Tensor& a, const at::Tensor& b) {
  const auto [x, y] = commonMaps(a, b);
  return pearsonOf(hogDescriptor(x), hogDescriptor(y));
}

SimilarityScores similarityScores(const at::Tensor& a, const at::Tensor& b) {
  const auto [x, y] = commonMaps(a, b);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const bool ssimFits = x.size(0) >= 7 && x.size(1) >= 7, hogFits = x.size(0) >= 24 && x.size(1) >= 24;
  return {spearman(x, y), spearman(x.abs(), y.abs()), ssimFits ? ssimSimilarity(x, y) : nan,
          hogFits ? hogSimilarity(x, y) : nan};
}

}  // namespace fs::analysis
