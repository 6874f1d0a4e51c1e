#!/usr/bin/env bash
# Soak test (not part of CI): one featurescope-cli process exports N images (default 1,000) with
# three models and two saliency methods; its resident memory is sampled against the export's
# per-image progress lines. Passes if RSS at the end is within 10% of RSS after the first 50
# images (no leak per image, model or method).
#
# usage: packaging/soak.sh [N_IMAGES]
#   FS_CLI=path        featurescope-cli to test (default: $FS_BUILD_DIR/app/featurescope-cli, built
#                      there if missing; FS_BUILD_DIR defaults to ./build, as in setup.sh)
#   FS_SOAK_DIR=dir    work folder (default: a new folder under /tmp, removed afterwards unless
#                      FS_SOAK_KEEP=1)
# RSS counts what glibc keeps after large blocks (> 128 KB, e.g. the manifest text) are freed, too;
# MALLOC_MMAP_THRESHOLD_=131072 packaging/soak.sh shows the process's own allocations alone.
# Images: the Fashion-MNIST test set (Debian's dataset-fashion-mnist) as PNG files, every third one
# tinted RGB and every fifth one upscaled 2x, so that the decoder and the resize path both vary.
set -euo pipefail
n=${1:-1000}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FS_BUILD_DIR:-$root/build}
cli=${FS_CLI:-$build/app/featurescope-cli}
python=/usr/bin/python3
baseline_at=50

if [ ! -x "$cli" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target featurescope-cli
fi
work=${FS_SOAK_DIR:-$(mktemp -d /tmp/fs-soak.XXXXXX)}
[ -n "${FS_SOAK_DIR:-}" ] || [ "${FS_SOAK_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/images"
rm -rf "$work/out"

"$python" - "$n" "$work/images" <<'PY'
import gzip, struct, sys, zlib
import numpy as np
n, out = int(sys.argv[1]), sys.argv[2]
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
    images = np.frombuffer(f.read(), np.uint8).reshape(count, rows, cols)
def png(path, a):
    h, w = a.shape[:2]
    color = 2 if a.ndim == 3 else 0
    raw = b"".join(b"\0" + a[y].tobytes() for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for i in range(n):
    a = images[i % count]
    if i % 5 == 4:
        a = a.repeat(2, 0).repeat(2, 1)
    if i % 3 == 2:
        a = np.stack([a, (a * 0.8).astype(np.uint8), 255 - a], axis=-1)
    png(f"{out}/img_{i:05d}.png", np.ascontiguousarray(a))
PY
echo "soak: $n images in $work/images; cli $cli"

log="$work/export.log"
samples="$work/rss.tsv"
start=$(date +%s.%N)
"$cli" export --model convmlp_fmnist --model resnet_fmnist --model mixer_fmnist --images "$work/images" \
  --out "$work/out" --methods gradcam,gradient --limit "$n" 2>"$log" >"$work/stdout.txt" &
pid=$!
# progress (images finished) <tab> VmRSS kB, every 0.1 s while the process lives
: >"$samples"
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  done_images=$(grep -c '^export \[' "$log" || true)
  [ -n "$rss" ] && printf '%s\t%s\t%s\n' "$done_images" "$rss" "$hwm" >>"$samples"
  sleep 0.1
done
status=0
wait "$pid" || status=$?
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
cat "$work/stdout.txt"
if [ "$status" -ne 0 ]; then
  tail -20 "$log" >&2
  echo "soak: featurescope-cli export failed with exit code $status" >&2
  exit 1
fi
failed=$(grep -c 'FAILED' "$log" || true)

"$python" - "$samples" "$n" "$baseline_at" "$elapsed" "$failed" <<'PY'
import sys
path, n, at, elapsed, failed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
rows = [tuple(int(x) for x in line.split("\t")) for line in open(path) if line.strip()]
after = [r for r in rows if r[0] >= at]
if not after or rows[-1][0] < n:
    sys.exit(f"soak: too few samples ({len(rows)}; last progress {rows[-1][0] if rows else 0} of {n})")
base, end = after[0], rows[-1]
peak = max(r[2] for r in rows)
growth = (end[1] - base[1]) / base[1]
print(f"soak: {n} images x 3 models x 2 methods in one process, {elapsed:.0f} s "
      f"({1000 * elapsed / n:.0f} ms per image), {failed} failed, {len(rows)} RSS samples")
print(f"soak: RSS after {base[0]} images {base[1] / 1024:.1f} MiB; at the end ({end[0]} images) "
      f"{end[1] / 1024:.1f} MiB; change {100 * growth:+.1f}%; peak (VmHWM) {peak / 1024:.1f} MiB")
for k in (100, 250, 500, 750):
    r = next((r for r in rows if r[0] >= k), None)
    if r and k < n:
        print(f"soak:   after {r[0]:5d} images {r[1] / 1024:.1f} MiB")
if failed:
    sys.exit("soak: FAIL: some images failed")
if growth > 0.10:
    sys.exit("soak: FAIL: RSS grew by more than 10%")
print("soak: PASS (within 10%)")
PY
