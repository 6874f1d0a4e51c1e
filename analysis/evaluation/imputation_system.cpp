// ROAD's sparse system (imputation_solver.h): built from the removed-pixel mask, its right-hand
// side per channel, and the conjugate-gradient solver for images too large for the factor.
#include "analysis/evaluation/imputation_solver.h"

#include <algorithm>

namespace fs::analysis::imputation {

namespace {

struct Neighbour {
  int dr, dc;
  double w;
};
constexpr Neighbour kNeighbours[8] = {{-1, -1, 1.0 / 12}, {-1, 0, 1.0 / 6}, {-1, 1, 1.0 / 12}, {0, -1, 1.0 / 6},
                                      {0, 1, 1.0 / 6},    {1, -1, 1.0 / 12}, {1, 0, 1.0 / 6},  {1, 1, 1.0 / 12}};

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

void applySystem(const System& s, const std::vector<double>& x, std::vector<double>& y) {
  for (size_t i = 0; i < x.size(); ++i) {
    double v = s.diag[i] * x[i];
    for (int64_t k = s.linkStart[i]; k < s.linkStart[i + 1]; ++k) v -= s.linkWeight[size_t(k)] * x[size_t(s.link[size_t(k)])];
    y[i] = v;
  }
}

}  // namespace

System buildSystem(const bool* removed, int64_t h, int64_t w) {
  System s;
  buildSystem(removed, h, w, s);
  return s;
}

void buildSystem(const bool* removed, int64_t h, int64_t w, System& s) {
  s.h = h, s.w = w;
  const int64_t plane = h * w;
  s.index.resize(size_t(plane));
  s.pixels.clear();
  for (int64_t p = 0; p < plane; ++p) {
    s.index[size_t(p)] = removed[p] ? int64_t(s.pixels.size()) : -1;
    if (removed[p]) s.pixels.push_back(p);
  }
  const size_t n = s.pixels.size();
  s.diag.resize(n), s.linkStart.resize(n + 1), s.knownStart.resize(n + 1);
  // Written in place up to 8 entries a pixel, then cut to size (no per-entry capacity checks).
  s.link.resize(8 * n), s.linkWeight.resize(8 * n), s.known.resize(8 * n), s.knownWeight.resize(8 * n);
  size_t links = 0, knowns = 0;
  s.linkStart[0] = 0, s.knownStart[0] = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t p = s.pixels[i], r = p / w, c = p - r * w;
    const bool inside = r > 0 && c > 0 && r + 1 < h && c + 1 < w;  // all 8 neighbours in the image
    double d = 0.0;  // the in-image neighbours' weights, summed in kNeighbours' order
    for (const Neighbour& nb : kNeighbours) {
      if (!inside && (r + nb.dr < 0 || c + nb.dc < 0 || r + nb.dr >= h || c + nb.dc >= w)) continue;
      d += nb.w;
      const int64_t q = p + nb.dr * w + nb.dc;
      if (removed[q]) s.link[links] = s.index[size_t(q)], s.linkWeight[links++] = nb.w;
      else s.known[knowns] = q, s.knownWeight[knowns++] = nb.w;
    }
    s.diag[i] = d, s.linkStart[i + 1] = int64_t(links), s.knownStart[i + 1] = int64_t(knowns);
  }
  s.link.resize(links), s.linkWeight.resize(links), s.known.resize(knowns), s.knownWeight.resize(knowns);
}

std::vector<double> rightHandSide(const System& s, const double* v) {
  const size_t n = s.pixels.size();
  std::vector<double> b(n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (int64_t k = s.knownStart[i]; k < s.knownStart[i + 1]; ++k) b[i] += s.knownWeight[size_t(k)] * v[s.known[size_t(k)]];
  return b;
}

std::vector<double> conjugateGradients(const System& s, const std::vector<double>& b) {
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

}  // namespace fs::analysis::imputation
