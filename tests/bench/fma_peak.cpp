// The machine's fp32 FMA peak, measured: 12 independent chains of FMAs per thread (enough to hide
// the latency), 512-bit where the compiler targets AVX-512 (-mavx512f), else 256-bit (-mavx2 -mfma). The clock
// a core actually runs at under load is not the nominal one, so bounds derived from a nominal figure can be wrong by a third.
// usage: fma_peak [THREADS] -> "THREADS GFLOP/s" (best of 3)
#include <immintrin.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#ifdef __AVX512F__
using Vec = __m512;
constexpr int kLanes = 16;
inline Vec splat(float v) { return _mm512_set1_ps(v); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline float sum(Vec v) { return _mm512_reduce_add_ps(v); }
#else
using Vec = __m256;
constexpr int kLanes = 8;
inline Vec splat(float v) { return _mm256_set1_ps(v); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline float sum(Vec v) {
  alignas(32) float f[8];
  _mm256_store_ps(f, v);
  return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
}
#endif

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : omp_get_max_threads();
  const long steps = 320000000 / kLanes;  // of 12 FMAs of kLanes floats each, per thread
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    float sink = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
      Vec acc[12];
      for (int i = 0; i < 12; ++i) acc[i] = splat(0.001f * i);
      const Vec b = splat(0.9999f), c = splat(0.0001f);
      for (long s = 0; s < steps; ++s) {
#pragma GCC unroll 12
        for (int k = 0; k < 12; ++k) acc[k] = fma(acc[k], b, c);
      }
      for (int i = 0; i < 12; ++i) sink += sum(acc[i]);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double gflops = threads * steps * 12.0 * kLanes * 2 / s / 1e9;
    if (gflops > best) best = gflops;
    if (sink == 1.2345f) std::puts("");  // keeps the loop
  }
  std::printf("%d %.1f\n", threads, best);
  return 0;
}
