#!/usr/bin/env bash
# The cluster path end to end on a real single-node Slurm cluster on localhost: munged, slurmctld
# and slurmd from Debian's munge / slurm-wlm packages, started here with their own key, socket,
# ports, state and logs in a temporary folder (never the system's), and torn down on exit.
# packaging/slurm/export.sbatch runs as a 4-task array over 200 generated images; one task is
# killed (SIGKILL) after it has finished some images and requeued with `scontrol requeue`; then
# `featurescope-cli merge` must give exactly what one process writes: every output file byte for
# byte, the manifest byte for byte except its "updated" time. Then evaluate.sbatch as a 2-task
# array: the merged scorecard must equal one process's except "updated".
#   usage: slurm_cluster_test.sh FEATURESCOPE_CLI SOURCE_DIR
set -euo pipefail
cli=$(readlink -f "$1")
src=$(readlink -f "$2")
python=${FS_PYTHON:-python3}
images=200
tasks=4
methods=gradcam,integrated_gradients,smoothgrad
say() { echo "slurm_cluster_test: $*"; }
fail() { say "FAIL: $*" >&2; exit 1; }

for tool in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v "$tool" >/dev/null ||
    fail "$tool not found: install Debian's munge and slurm-wlm packages (bash packaging/setup.sh test does)"
done
[ -x "$cli" ] || fail "$cli: featurescope-cli not built"
[ "$(id -u)" -eq 0 ] || fail "needs root: the test cluster runs slurmctld and slurmd as SlurmUser=root"

work=$(mktemp -d /tmp/featurescope-slurm.XXXXXX)
chmod 700 "$work"
pids=()
job=""
teardown() {
  local rc=$?
  set +e
  if [ -n "$job" ]; then
    scancel "$job" 2>/dev/null
    for _ in $(seq 50); do [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ "$rc" -ne 0 ]; then
    for f in "$work"/log/*; do [ -f "$f" ] && { echo "--- $f (last lines)"; tail -n 15 "$f"; }; done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM
mkdir -p "$work"/munge "$work"/state "$work"/spool "$work"/log "$work"/images

# munged: its own key, socket, pid, seed and log file (-f: it refuses to run as root otherwise).
head -c 1024 /dev/urandom >"$work/munge/munge.key"
chmod 400 "$work/munge/munge.key"
socket=$work/munge/munge.socket
munged -F -f --socket="$socket" --key-file="$work/munge/munge.key" --pid-file="$work/munge/munged.pid" \
  --log-file="$work/log/munged.log" --seed-file="$work/munge/munged.seed" >"$work/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || fail "munged did not start"

# Two free ports for slurmctld and slurmd; the node is this host.
read -r ctld_port d_port < <("$python" -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
host=$(hostname -s)
export SLURM_CONF=$work/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=featurescope-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket,cred_expire=10
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobRequeue=1
MinJobAge=600
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=featurescope Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 60); do [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break; sleep 0.5; done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || fail "the node did not come up idle: $(sinfo 2>&1)"
say "cluster up: node $host, slurmctld port $ctld_port, slurmd port $d_port"

# 200 small PNGs (64x64 RGB, a different pattern each), written with the standard library only.
"$python" - "$work/images" "$images" <<'PY'
import struct, sys, zlib
out, n = sys.argv[1], int(sys.argv[2])
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
for i in range(n):
    rows = b"".join(b"\0" + bytes(v for x in range(64) for v in (
        (x * (i % 7 + 1) + y * 3) % 256, (y * (i % 5 + 2) + i * 11) % 256,
        255 if (x - i % 64) ** 2 + (y - (i * 7) % 64) ** 2 < 150 else (x ^ y) * (i % 3 + 1) % 256))
        for y in range(64))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    open(f"{out}/img_{i:03d}.png", "wb").write(png)
PY

export FS_CLI=$cli
# Manifests saved every 0.5 s: the victim is killed with most of its shard still to do however fast
# the machine (a 5 s save came after all 50 of its images once an image took 0.1 s).
export_args=(--model resnet_fmnist --images "$work/images" --methods "$methods" --threads 1 --save-every 0.5)
start=$(date +%s.%N)
job=$(sbatch --parsable --array=0-$((tasks - 1)) --chdir="$work" --output="$work/log/export-%A_%a.out" \
  "$src/packaging/slurm/export.sbatch" "${export_args[@]}" --out "$work/sharded")
job=${job%%;*}
say "submitted array job $job ($tasks tasks, $images images)"

# Kill array task 1 (shard 2/4) with SIGKILL once its manifest records finished images (it is
# saved every 0.5 s), while it still runs, then requeue it.
victim=${job}_1
log=$work/log/export-${job}_1.out
manifest=$work/sharded/manifest-shard-2-of-$tasks.json
for _ in $(seq 1200); do [ -f "$manifest" ] && break; sleep 0.1; done
[ -f "$manifest" ] || fail "task $victim wrote no manifest"
scancel --full --signal=KILL "$victim"
for _ in $(seq 100); do
  state=$(scontrol -o show job "$victim" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  [ "$state" = FAILED ] || [ "$state" = CANCELLED ] && break
  sleep 0.1
done
[[ "$state" =~ ^(FAILED|CANCELLED)$ ]] || fail "task $victim was not killed (state $state)"
killed_after=$(grep -c ': done' "$log")
[ "$killed_after" -lt $((images / tasks)) ] || fail "task $victim finished before it could be killed"
say "killed $victim after $killed_after of $((images / tasks)) images; requeueing it"
if "$cli" merge "$work/sharded" >"$work/log/merge-early.out" 2>&1; then fail "merge accepted an unfinished run"; fi
scontrol requeue "$victim"

# Wait for every task; all must complete, the killed one after a second start.
for _ in $(seq 900); do [ -z "$(squeue -h -j "$job")" ] && break; sleep 0.2; done
[ -z "$(squeue -h -j "$job")" ] || fail "the array did not finish in time: $(squeue -j "$job")"
sharded_s=$("$python" -c "import time; print(f'{time.time() - $start:.1f}')")
for t in $(seq 0 $((tasks - 1))); do
  line=$(scontrol -o show job "${job}_$t")
  [[ "$line" == *JobState=COMPLETED* ]] || fail "task ${job}_$t did not complete: $line"
done
[[ "$(scontrol -o show job "$victim")" == *Restarts=1* ]] || fail "task $victim was not restarted once"
grep -q 'start 2 ' "$log" || fail "$log: no second start"
skipped=$(grep -c 'skipped (outputs exist)' "$log" || true)
[ "$skipped" -gt 0 ] || fail "the requeued task skipped nothing"
say "all $tasks tasks completed in ${sharded_s} s; the requeued task skipped $skipped finished images"

"$cli" merge "$work/sharded" | tee "$work/log/merge.out"
single_start=$(date +%s.%N)
"$cli" export "${export_args[@]}" --out "$work/single" >"$work/log/single.out" 2>&1 || fail "single-process export failed"
single_s=$("$python" -c "import time; print(f'{time.time() - $single_start:.1f}')")

# Every output file byte for byte; the manifests byte for byte except the "updated" line.
(cd "$work/single" && find . -type f ! -name 'manifest*' | sort) >"$work/single.list"
(cd "$work/sharded" && find . -type f ! -name 'manifest*' | sort) >"$work/sharded.list"
cmp -s "$work/single.list" "$work/sharded.list" || fail "the output files differ: $(diff "$work/single.list" "$work/sharded.list" | head)"
files=$(wc -l <"$work/single.list")
[ "$files" -eq $((images * (4 + 2 * 3))) ] || fail "expected $((images * 10)) output files, found $files"
while read -r f; do cmp -s "$work/single/$f" "$work/sharded/$f" || fail "$f differs between the merged and the single run"; done <"$work/single.list"
grep -v '^  "updated": ' "$work/single/manifest.json" >"$work/single.manifest"
grep -v '^  "updated": ' "$work/sharded/manifest.json" >"$work/merged.manifest"
cmp "$work/single.manifest" "$work/merged.manifest" || fail "merged manifest differs: $(diff "$work/single.manifest" "$work/merged.manifest" | head -20)"
[ "$(grep -c '"status":"done"' "$work/sharded/manifest.json")" -eq "$images" ] || fail "not every image is done"
say "merged == single run: $files output files and the manifest identical (up to \"updated\")"

# evaluate.sbatch: a 2-task scorecard array over the first 20 images, merged == one process.
eval_args=(resnet_fmnist --images "$work/images" --limit 20 --methods gradcam,gradient --steps 10 --threads 1)
job=$(sbatch --parsable --array=1-2 --chdir="$work" --output="$work/log/evaluate-%A_%a.out" \
  "$src/packaging/slurm/evaluate.sbatch" "${eval_args[@]}" --out "$work/scorecard/card.json")
job=${job%%;*}
for _ in $(seq 600); do [ -z "$(squeue -h -j "$job")" ] && break; sleep 0.2; done
for t in 1 2; do
  [[ "$(scontrol -o show job "${job}_$t")" == *JobState=COMPLETED* ]] || fail "evaluate task ${job}_$t did not complete"
done
"$cli" merge "$work/scorecard" || fail "merging the scorecard shards failed"
"$cli" evaluate "${eval_args[@]}" --out "$work/single-card.json" >"$work/log/single-card.out" 2>&1 ||
  fail "single-process evaluate failed"
cmp <(grep -v '^  "updated": ' "$work/single-card.json") <(grep -v '^  "updated": ' "$work/scorecard/card.json") ||
  fail "merged scorecard differs from the single run's"
say "evaluate: 2 shards merged == single-process scorecard (records and means bit for bit)"
say "timings: $images images, array of $tasks tasks (one killed and requeued) ${sharded_s} s;" \
  "one process ${single_s} s ($("$python" -c "print(f'{$images / $single_s:.2f}')") images/s)"
