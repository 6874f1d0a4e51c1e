#!/usr/bin/env bash
# featurescope-cli bench beside Python torch 1.13 (python3-torch) in one run, interleaved rounds.
# Python runs with 1 and 2 threads on the system BLAS (what the project installs: OpenBLAS OpenMP
# build) and on OpenBLAS's pthread build when present, with the default and the PASSIVE OpenMP
# wait policy; the summary takes Python's best per model.
# usage: tests/bench/run_bench.sh [BUILD_DIR] [REPEAT] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
repeat=${2:-10}
rounds=${3:-3}
models="convmlp_s resnet50 mixer_b16"
pthread=/usr/lib/x86_64-linux-gnu/openblas-pthread
log=$(mktemp)
peak_bin=$(mktemp)
trap 'rm -f "$log" "$peak_bin"' EXIT
for ((r = 1; r <= rounds; r++)); do
  echo "fs $("$build/app/featurescope-cli" bench $models --repeat "$repeat" --json 2>/dev/null | tr -d ' \n')" >>"$log"
  for t in 1 2; do
    echo "py$t $(/usr/bin/python3 "$here/../../resources/bench/peer.py" "$t" "$repeat")" >>"$log"
    echo "pypassive$t $(OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$here/../../resources/bench/peer.py" "$t" "$repeat")" >>"$log"
    [ -d "$pthread" ] && echo "pypthread$t $(LD_LIBRARY_PATH=$pthread /usr/bin/python3 "$here/../../resources/bench/peer.py" "$t" "$repeat")" >>"$log"
  done
done
# The fp32 FMA peak measured now, and each model's multiply-accumulates: the bound per model.
# Vector width of the ISA under test (no -march=native: AVX-512 only when the CPU has it and
# ONEDNN_MAX_CPU_ISA does not cap it at AVX2).
isa_flags="-mavx2 -mfma"
if grep -q avx512f /proc/cpuinfo && [ "${ONEDNN_MAX_CPU_ISA:-ALL}" != AVX2 ]; then isa_flags="-mavx512f -mavx2 -mfma"; fi
g++ -O2 $isa_flags -fopenmp "$here/fma_peak.cpp" -o "$peak_bin"
threads=$(sed -n 's/^fs .*"threads":\([0-9]*\).*/\1/p' "$log" | head -n 1)  # what featurescope ran with
echo "peak $("$peak_bin" "$threads")" >>"$log"
for m in $models; do echo "macs $m $("$build/app/featurescope-cli" info "$m" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["macs"])')" >>"$log"; done
/usr/bin/python3 - "$log" <<'PY'
import json, statistics, sys
runs, macs, peak = {}, {}, None
for line in open(sys.argv[1]):
    tag, rest = line.split(" ", 1)
    if tag == "peak":
        peak = float(rest.split()[1])
    elif tag == "macs":
        macs[rest.split()[0]] = int(rest.split()[1])
    else:
        runs.setdefault(tag, []).append(json.loads(rest))
def med(tag, model):
    return statistics.median(r[model]["forward_ms"] for r in runs[tag])
print("%-10s %10s %14s %8s %16s %8s" % ("model", "fs ms", "python ms", "ratio", "py-pthread ms", "ratio"))
for m in ["convmlp_s", "resnet50", "mixer_b16"]:
    fs = med("fs", m)
    py = min(med(t, m) for t in ("py1", "py2", "pypassive1", "pypassive2"))
    line = "%-10s %10.1f %14.1f %8.2f" % (m, fs, py, fs / py)
    if "pypthread1" in runs:
        pp = min(med("pypthread1", m), med("pypthread2", m))
        line += " %16.1f %8.2f" % (pp, fs / pp)
    print(line)
# The machines are noisy: the ratio in each round (ours against Python's best configuration of that round).
for m in ["convmlp_s", "resnet50", "mixer_b16"]:
    per = []
    for r in range(len(runs["fs"])):
        py = min(runs[t][r][m]["forward_ms"] for t in ("py1", "py2", "pypassive1", "pypassive2"))
        per.append("%.2f" % (runs["fs"][r][m]["forward_ms"] / py))
    print("%-10s per-round ratios: %s" % (m, " ".join(per)))
print("fp32 FMA peak measured now: %.0f GFLOP/s; bound = 2 * MACs / peak" % peak)
for m in ["convmlp_s", "resnet50", "mixer_b16"]:
    fs = med("fs", m)
    print("%-10s bound %6.1f ms   featurescope %6.1f GFLOP/s (%2.0f%% of peak)" % (
        m, 2 * macs[m] / peak / 1e6, 2 * macs[m] / fs / 1e6, 100 * 2 * macs[m] / fs / 1e6 / peak))
print("fs forward_backward ms:", {m: round(statistics.median(r[m]["forward_backward_ms"] for r in runs["fs"]), 1) for m in ["convmlp_s", "resnet50", "mixer_b16"]})
PY
