#!/usr/bin/env bash
# Runs every benchmark: build/bench/bench_* programs and bench/b_*.sh scripts.
# Each prints its own numbers and ratios against a peer measured in the same run.
# A report of the whole run is written to $BUILD/bench-report.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export A4NN_BUILD="$PWD/$BUILD"
if [[ -z ${A4NN_SHARED:-} ]]; then
  if [[ -d ../shared/data/curves ]]; then export A4NN_SHARED="$(cd ../shared && pwd)"
  else export A4NN_SHARED="$PWD/test/reference"; fi
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
filter=${1:-}
report="$BUILD/bench-report.txt"
{
  echo "a4nn benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  for b in "$BUILD"/bench/bench_* bench/b_*.sh; do
    [[ -e $b ]] || continue
    name=$(basename "$b" .sh)
    [[ -n $filter && $name != *$filter* ]] && continue
    echo "== $name"
    if [[ $b == *.sh ]]; then bash "$b"; else "$b"; fi || echo "$name: FAILED (exit $?)"
  done
} 2>&1 | tee "$report"
