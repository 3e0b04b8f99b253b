#!/usr/bin/env bash
# Generates the embedded default datasets, deterministically and only if
# absent: one file per beam intensity (1e14, 1e15, 1e16 photons/um^2/pulse),
# 32x32 patterns (a 128-pixel detector binned 4x4), 2,048 train / 512 test
# images each, of the built-in EF2-like model in its two conformations at the
# simulator's default hinge (30 degrees, docs/xfelsim.md).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${A4NN_BUILD:-${BUILD:-build}}
OUT=${1:-data/default}
mkdir -p "$OUT"
for f in 1e14 1e15 1e16; do
  file="$OUT/xfel-$f.h5"
  if [[ -f $file ]] && h5ls "$file/train/images" >/dev/null 2>&1; then continue; fi
  "$B/a4nn-xfelsim" -o "$file.tmp" --fluence "$f" --pixels 128 --bin 4 \
    --n-train 2048 --n-test 512 --seed 2023 --preview "$OUT/preview"
  mv "$file.tmp" "$file"
done
