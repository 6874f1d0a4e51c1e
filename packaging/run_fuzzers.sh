#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang and runs each for a bounded time.
# Not part of CI (.ci/run); a hardening check to run by hand or on a schedule.
#
# usage: packaging/run_fuzzers.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 60; TARGET: safetensors torch_zip npy model_config (default all)
#   FS_FUZZ_BUILD_DIR   build and work folder (default ./build-fuzz); the corpus grown by earlier
#                       runs is kept in it and reused
#   seeds come from the reference fixtures in tests/data/reference
# Findings of this run (crash-*, leak-*, oom-*, timeout-* inputs) are left in
# $FS_FUZZ_BUILD_DIR/findings/<target>/; the script exits 1 if there are any. Turn each into a
# regression test in tests/model (see tests/fuzz/README.md).
set -euo pipefail
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(safetensors torch_zip npy model_config)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FS_FUZZ_BUILD_DIR:-$root/build-fuzz}
reference=$root/tests/data/reference

declare -A max_len=([safetensors]=4096 [torch_zip]=8192 [npy]=4096 [model_config]=2048)

# clang and its runtime libraries (libFuzzer, ASan, UBSan) come from Debian's clang-14 packages.
need=()
command -v clang++ >/dev/null || need+=(clang)
[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] || need+=(libclang-rt-14-dev)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "run_fuzzers: installing ${need[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
fi

cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

seeds="$build/seeds"
rm -rf "$seeds"
/usr/bin/python3 "$root/packaging/fuzz_seeds.py" "$reference" "$seeds"

# LibTorch's one-time allocations are not leaks of ours: same suppressions as the FS_SANITIZE build.
export LSAN_OPTIONS="suppressions=$root/cmake/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OMP_NUM_THREADS=1

total_findings=0
summary=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  findings="$build/findings/$t"
  log="$build/fuzz_$t.log"
  rm -rf "$findings"  # this run's findings only; the grown corpus is kept
  mkdir -p "$corpus" "$findings"
  echo "run_fuzzers: fuzz_$t for ${seconds}s (max_len ${max_len[$t]})"
  status=0
  "$build/fuzz_$t" "$corpus" "$seeds/$t" -max_total_time="$seconds" -max_len="${max_len[$t]}" \
    -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1 || status=$?
  execs=$(awk '/stat::number_of_executed_units/ {print $NF}' "$log" | tail -1)
  rate=$(awk '/stat::average_exec_per_sec/ {print $NF}' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  found=$(find "$findings" -type f | wc -l)
  total_findings=$((total_findings + found))
  line=$(printf '%-13s %9s execs %7s exec/s  cov %5s  corpus %5s  findings %s  exit %s' "$t" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}" "$(find "$corpus" -type f | wc -l)" "$found" "$status")
  summary+=("$line")
  if ((status != 0)); then
    grep -m 30 -E 'ERROR|SUMMARY|#[0-9]+ 0x|invariant|terminate|what\(\)' "$log" || tail -30 "$log"
  fi
done
echo
echo "run_fuzzers: ${seconds}s per target"
printf '  %s\n' "${summary[@]}"
if ((total_findings)); then
  echo "run_fuzzers: $total_findings finding(s) in $build/findings" >&2
  exit 1
fi
