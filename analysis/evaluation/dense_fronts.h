#pragma once
// The dense kernels of the multifrontal Cholesky in imputation_solver.cpp: each front is a small
// f x f column-major matrix (lower triangle) whose first k columns are eliminated there. Compiled
// for x86-64-v3 (AVX2, FMA) and for the baseline and chosen at run time by the CPU's features (no
// -march flag). Plain functions; no state.
#include <cstddef>

namespace fs::analysis::imputation {

// Cholesky of the first k columns of `a`: L's columns replace them and the trailing block becomes
// the Schur complement. False when a pivot is not positive (A not positive definite).
bool partialCholesky(double* a, size_t f, size_t k);

// The front's part of L y = b and of L^T x = y: y over its f unknowns, the first k eliminated here.
void forwardFront(const double* l, size_t f, size_t k, double* y);
void backwardFront(const double* l, size_t f, size_t k, double* y);

// The kernels' instruction set on this CPU: "x86-64-v3" (AVX2 + FMA, ...) or "baseline".
const char* kernelIsa();

}  // namespace fs::analysis::imputation
