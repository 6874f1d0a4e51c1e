// The multifrontal solver's dense kernels (analysis/evaluation/dense_fronts.h), compiled twice and
// chosen by the CPU's features.
#include "analysis/evaluation/dense_fronts.h"

#include <algorithm>
#include <cmath>

namespace fs::analysis::imputation {

namespace {

// C[i, c] -= sum over t < k of L[i, t] L[c, t] for the R rows from i0 and the C columns from c0 of
// the front's trailing block, the sums kept in registers over all k (the Schur complement's
// micro-kernel: R + C loads per R x C multiply-adds, and C loaded and stored once per tile).
template <int R, int C>
__attribute__((always_inline)) inline void schurTile(double* a, size_t f, size_t k, size_t i0, size_t c0) {
  double acc[C][R] = {};
  for (size_t t = 0; t < k; ++t) {
    const double* lt = a + t * f;
    for (int q = 0; q < C; ++q) {
      const double l = lt[c0 + size_t(q)];
      for (int r = 0; r < R; ++r) acc[q][r] += lt[i0 + size_t(r)] * l;
    }
  }
  for (int q = 0; q < C; ++q) {
    double* col = a + (c0 + size_t(q)) * f + i0;
    for (int r = 0; r < R; ++r) col[r] -= acc[q][r];
  }
}

// The Schur complement of the first k columns on the trailing columns k..f-1 (rows at or below the
// diagonal; tiles that cross it also write above it, where the front is never read).
template <int C>
__attribute__((always_inline)) inline void schurColumns(double* a, size_t f, size_t k, size_t c0) {
  size_t i = c0;
  for (; i + 8 <= f; i += 8) schurTile<8, C>(a, f, k, i, c0);
  for (; i + 4 <= f; i += 4) schurTile<4, C>(a, f, k, i, c0);
  for (; i < f; ++i) schurTile<1, C>(a, f, k, i, c0);
}

// Cholesky of the first k columns of the f x f column-major front `a` (lower triangle): L's columns
// replace them and the trailing block becomes the Schur complement. The k columns right-looking,
// four at a time; then the trailing block in register tiles of 8 rows x 4 columns over all k at
// once.
__attribute__((always_inline)) inline bool partialCholeskyBody(double* a, size_t f, size_t k) {
  constexpr size_t kBlock = 4;
  for (size_t j0 = 0; j0 < k; j0 += kBlock) {
    const size_t jb = std::min(kBlock, k - j0);
    for (size_t j = j0; j < j0 + jb; ++j) {  // the panel
      double* lj = a + j * f;
      if (!(lj[j] > 0)) return false;
      const double d = std::sqrt(lj[j]), inverse = 1.0 / d;  // a product, not a division, per row (as LAPACK's dpotf2)
      lj[j] = d;
      for (size_t i = j + 1; i < f; ++i) lj[i] *= inverse;
      for (size_t c = j + 1; c < j0 + jb; ++c) {
        const double lc = lj[c];
        double* col = a + c * f;
        for (size_t i = c; i < f; ++i) col[i] -= lj[i] * lc;
      }
    }
    const double* p = a + j0 * f;
    for (size_t c = j0 + jb; c < k; ++c) {  // the columns still to be eliminated here
      double* col = a + c * f;
      if (jb == kBlock) {
        const double l0 = p[c], l1 = p[f + c], l2 = p[2 * f + c], l3 = p[3 * f + c];
        if (l0 == 0.0 && l1 == 0.0 && l2 == 0.0 && l3 == 0.0) continue;
        const double *p0 = p, *p1 = p + f, *p2 = p + 2 * f, *p3 = p + 3 * f;
        for (size_t i = c; i < f; ++i) col[i] -= (p0[i] * l0 + p1[i] * l1) + (p2[i] * l2 + p3[i] * l3);
      } else {
        for (size_t t = 0; t < jb; ++t) {
          const double* pt = p + t * f;
          const double lc = pt[c];
          if (lc == 0.0) continue;
          for (size_t i = c; i < f; ++i) col[i] -= pt[i] * lc;
        }
      }
    }
  }
  size_t c = k;
  for (; c + 4 <= f; c += 4) schurColumns<4>(a, f, k, c);
  for (; c < f; ++c) schurColumns<1>(a, f, k, c);
  return true;
}

// One front's part of L y = b (y over the front's f unknowns, the first k eliminated here) and of
// L^T x = y, on the front's dense columns.
__attribute__((always_inline)) inline void forwardFrontBody(const double* l, size_t f, size_t k, double* y) {
  for (size_t j = 0; j < k; ++j) {
    const double* lj = l + j * f;
    const double v = y[j] / lj[j];
    y[j] = v;
    for (size_t i = j + 1; i < f; ++i) y[i] -= lj[i] * v;
  }
}

__attribute__((always_inline)) inline void backwardFrontBody(const double* l, size_t f, size_t k, double* y) {
  for (size_t j = k; j-- > 0;) {
    const double* lj = l + j * f;
    double acc[4] = {0, 0, 0, 0};
    size_t i = j + 1;
    for (; i + 4 <= f; i += 4)
      for (size_t u = 0; u < 4; ++u) acc[u] += lj[i + u] * y[i + u];
    for (; i < f; ++i) acc[0] += lj[i] * y[i];
    y[j] = (y[j] - ((acc[0] + acc[1]) + (acc[2] + acc[3]))) / lj[j];
  }
}

// The dense kernels twice: for x86-64-v3 (AVX2, FMA) and for the baseline, chosen at run time by
// CPU features (no -march flag). Not GCC's target_clones("arch=haswell"): its resolver tests the
// CPU model (__builtin_cpu_is), so an AMD EPYC or any Intel CPU but Haswell ran the baseline clone.
__attribute__((target("arch=x86-64-v3"))) bool partialCholeskyV3(double* a, size_t f, size_t k) {
  return partialCholeskyBody(a, f, k);
}
__attribute__((target("arch=x86-64-v3"))) void forwardFrontV3(const double* l, size_t f, size_t k, double* y) {
  forwardFrontBody(l, f, k, y);
}
__attribute__((target("arch=x86-64-v3"))) void backwardFrontV3(const double* l, size_t f, size_t k, double* y) {
  backwardFrontBody(l, f, k, y);
}
bool partialCholeskyBaseline(double* a, size_t f, size_t k) { return partialCholeskyBody(a, f, k); }
void forwardFrontBaseline(const double* l, size_t f, size_t k, double* y) { forwardFrontBody(l, f, k, y); }
void backwardFrontBaseline(const double* l, size_t f, size_t k, double* y) { backwardFrontBody(l, f, k, y); }

bool cpuHasV3() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v3");
}
const bool kV3 = cpuHasV3();

}  // namespace

bool partialCholesky(double* a, size_t f, size_t k) {
  return kV3 ? partialCholeskyV3(a, f, k) : partialCholeskyBaseline(a, f, k);
}
void forwardFront(const double* l, size_t f, size_t k, double* y) {
  kV3 ? forwardFrontV3(l, f, k, y) : forwardFrontBaseline(l, f, k, y);
}
void backwardFront(const double* l, size_t f, size_t k, double* y) {
  kV3 ? backwardFrontV3(l, f, k, y) : backwardFrontBaseline(l, f, k, y);
}

const char* kernelIsa() { return kV3 ? "x86-64-v3" : "baseline"; }

}  // namespace fs::analysis::imputation
