#!/bin/sh
# Runs model_tests' fast-path tests on an emulated AVX2 CPU: oneDNN, OpenBLAS and ATen capped at
# AVX2. On a CPU without AVX-512 that cap changes nothing, and the normal model_tests run has
# already run these tests on the AVX2 kernels: the test then says so and reports itself skipped
# (exit 77, ctest's SKIP_RETURN_CODE) rather than run the same kernels a second time.
#   usage: emulated_avx2.sh MODEL_TESTS GTEST_FILTER
set -eu
if ! grep -qw avx512f /proc/cpuinfo; then
  echo "emulated_avx2: this CPU has no AVX-512, so its native ISA is AVX2 or lower and the model label's"
  echo "emulated_avx2: run of these tests (${2}) was the AVX2 run; not repeating it"
  exit 77
fi
exec env ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 "$1" "--gtest_filter=$2"
