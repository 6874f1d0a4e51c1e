#!/bin/bash
# Runs a group of GoogleTest tests in one process (tests/gtest_groups.py registers the groups) and
# fails unless the binary succeeded and ran exactly the COUNT tests the group names: a group whose
# names no longer match would otherwise pass having run nothing.
#   usage: run_gtest_group.sh EXE COUNT GTEST_FILTER
set -uo pipefail
exe=$1 count=$2 filter=$3
log=$(mktemp "${TMPDIR:-/tmp}/gtest-group.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
"$exe" "--gtest_filter=$filter" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
ran=$(sed -n 's/^\[==========\] \([0-9]*\) tests\{0,1\} from .* ran\..*/\1/p' "$log" | tail -n 1)
if [ "$rc" -ne 0 ]; then
  exit "$rc"
fi
if [ "${ran:-0}" != "$count" ]; then
  echo "run_gtest_group: $exe ran ${ran:-no} tests; this group names $count ($filter)" >&2
  exit 1
fi
