#!/usr/bin/env bash
# a4nn-xfelsim end to end (kernel, noise, effects, deflate, parallel HDF5): a
# subset of the full 127x127 set on all cores, extrapolated to its 79,384
# images. The machine may be shared: bench_xfelsim's kernel ratios, measured
# side by side, are the comparable numbers.  Usage: b_xfelsim.sh [IMAGES]
set -euo pipefail
B=${A4NN_BUILD:-build}
n=${1:-800}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
start=$(date +%s.%N)
"$B/a4nn-xfelsim" -o "$tmp/x.h5" --fluence 1e15 --n-train $((n * 4 / 5)) --n-test $((n / 5)) 2>/dev/null
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$n" -v c="$(nproc)" 'BEGIN {
  t = e - s; printf "a4nn-xfelsim: %d images of 127x127 in %.1f s on %d cores: %.1f images/s; full set (79,384) about %.1f min\n", n, t, c, n / t, 79384 / (n / t) / 60 }'
