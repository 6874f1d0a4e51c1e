#!/usr/bin/env bash
# Copies the reference fixtures from a shared folder (default ../shared/reference) into
# tests/data/reference, where the tests read them, and lists what changed. The tests never read
# the shared folder: a clone of the repository alone passes.
# usage: packaging/sync_fixtures.sh [SHARED_REFERENCE_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=${1:-$root/../shared/reference}
dst=$root/tests/data/reference
[ -d "$src" ] || { echo "sync_fixtures: $src: no such folder" >&2; exit 2; }
header=$(head -n 4 "$dst/README.md")  # the repository's note above the shared README
diff -rq -x README.md "$src" "$dst" | sed 's/^/sync_fixtures: /' || true
find "$dst" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
cp -r "$src"/. "$dst"/
chmod -R u+w "$dst"
{ printf '%s\n' "$header"; cat "$src/README.md"; } >"$dst/README.md"
