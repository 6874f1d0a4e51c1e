#pragma once
// Which kernels the inference path (fast_inference.h) runs on this CPU, and a record of what it ran.
//
// oneDNN dispatches by the CPU's instruction set (or ONEDNN_MAX_CPU_ISA): on AVX-512 it has brgemm
// matmuls and jit convolutions for every form the zoo uses; on AVX2 some fused forms get only its
// reference implementation ("ref:any", ~100x slower) and its matmuls run on its own jit sgemm, which
// lost to OpenBLAS there. So:
//  - every oneDNN primitive is created, its implementation name read, and a reference kernel never
//    kept: the layer is rebuilt with fewer fused post-ops (the rest done by ATen), else run by ATen;
//  - matrix products go to oneDNN or to BLAS (ATen's addmm on OpenBLAS), whichever was faster in a
//    one-time micro-calibration on this machine (matmulBackend(); README, "Kernels per ISA"): on an
//    emulated AVX2 CPU oneDNN's jit sgemm won, on a real AVX2 laptop CPU OpenBLAS did.
// Every primitive and BLAS call the inference path executes is counted by kind and implementation
// (kernelUses()), which the tests and `featurescope-cli bench` read.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fs::model {

// oneDNN's effective instruction set after ONEDNN_MAX_CPU_ISA, e.g. "avx512_core_bf16", "avx2".
std::string onednnIsa();
bool onednnHasAvx512();

enum class MatmulBackend { OneDnn, Blas };
// The backend of every matrix product of the inference path, decided once per process:
// FEATURESCOPE_MATMUL=onednn|blas when set (benchmarks compare both); else the calibration cached
// for this CPU model, ISA, OpenBLAS core type and thread count in
// $XDG_CACHE_HOME/featurescope/matmul-calibration.json (~/.cache when unset); else calibrated now
// (timeMatmulBackends(), ~0.1 s) and cached.
MatmulBackend matmulBackend();
const char* backendName(MatmulBackend b);

// Whether a linear layer's product on oneDNN reads its weight W [N,K] from a copy in the blocked
// layout oneDNN's brgemm matmul asks for, made once per layer (and layout) by a reorder, rather than
// from the parameter itself as storeForMatmul() leaves it (which oneDNN 2.6 runs on its gemm:jit
// kernel, GELU a separate pass over the output). The copy needs brgemm (AVX-512; elsewhere the plain
// path runs) and costs the weight's size again in memory, so by default only weights of at most
// kBlockedWeightMaxValues values (1 MiB) get it: the small layers, where it gains most (the 2-core
// AVX-512 EPYC, 2 threads, GELU fused, one product timed alone: K = 32-128, 20-50% faster; Mixer-B/16's
// 768 x 3072, 4%; occlusion on the demo MLP models 4-6%). FEATURESCOPE_MATMUL_WEIGHTS=plain|blocked
// overrides it for every layer (benchmarks compare both in one run).
constexpr std::int64_t kBlockedWeightMaxValues = std::int64_t(1) << 18;
bool blockedMatmulWeights(std::int64_t values);

struct MatmulTiming {
  double onednnMs = 0, blasMs = 0;  // best of a few runs of the same representative products
};
// Times both backends on the channel-MLP products of Mixer-B/16 and ConvMLP-S (batch 1, GELU).
MatmulTiming timeMatmulBackends();
// Where the calibration is kept, and the key of this machine's entry in it.
std::string calibrationFile();
std::string calibrationKey();

// True for oneDNN implementations the inference path must not run: the reference ones ("ref:any",
// "ref:gemm" ...). Known-slow others can be added here.
bool isSlowImplementation(std::string_view impl);

// A counter for one (kind, implementation) pair; the address stays valid for the process.
std::int64_t* kernelCounter(const std::string& kind, const std::string& impl);
inline void countKernel(std::int64_t* counter) { __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED); }

struct KernelUse {
  std::string kind;  // "convolution", "matmul" or "pooling"
  std::string impl;  // oneDNN's implementation name ("jit:avx512_core", "brg:avx512_core"), or
                     // "blas:sgemm", or a fallback described ("aten (oneDNN offered ref:any)")
  std::int64_t calls = 0;
};
// What ran since the last resetKernelUses(), pairs with calls > 0 only.
std::vector<KernelUse> kernelUses();
void resetKernelUses();

}  // namespace fs::model
