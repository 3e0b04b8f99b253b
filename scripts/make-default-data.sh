#!/usr/bin/env bash
# Generates the embedded default datasets, deterministically and only if
# absent or made by another simulator version: one file per beam intensity
# (1e14, 1e15, 1e16 photons/um^2/pulse), 32x32 patterns, 2,048 train / 512
# test images each, of the built-in EF2-like model in its two conformations
# at the simulator's default hinge (30 degrees) with the default experimental
# effects (docs/xfelsim.md). The detector is a 64x64 one of 1.2 mm pixels
# binned 2x2: the same area and q range as the 127x127 task's, each binned
# pixel the sum of four native ones.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${A4NN_BUILD:-${BUILD:-build}}
OUT=${1:-data/default}
mkdir -p "$OUT"
for f in 1e14 1e15 1e16; do
  file="$OUT/xfel-$f.h5"
  if [[ -f $file ]] && h5ls "$file/train/images" >/dev/null 2>&1 &&
     h5dump -a /hinge_deg "$file" >/dev/null 2>&1; then continue; fi
  "$B/a4nn-xfelsim" -o "$file.tmp" --force --fluence "$f" --pixels 64 --pixel-size 1.2e-3 --bin 2 \
    --n-train 2048 --n-test 512 --seed 2023 --preview "$OUT/preview"
  mv "$file.tmp" "$file"
done
