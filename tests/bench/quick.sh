#!/usr/bin/env bash
# ctest bench_quick: run the benchmark's tiny variant and check that it produced every row.
#   quick.sh TOOLS_DIR PEERS_BUILD_DIR
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(mktemp -d "${TMPDIR:-/tmp}/dstk-bench-quick.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
start=$SECONDS
"$REPO/bench/run" --quick --no-readme --out "$OUT" --bin "$1" --peers-build "$2"
"$REPO/bench/report" --check "$OUT"
echo "PASS bench_quick in $((SECONDS - start)) s"
