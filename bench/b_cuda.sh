#!/usr/bin/env bash
# CUDA backend vs PyTorch eager on the same GPU: training images/s and the
# projected time of one full epoch (63,508 images of 127x127, synthetic data)
# for the reference genomes with the lowest, median and highest MFLOPs,
# init_channels 24, batch 128, in fp32 and TF32. Prints a4nn/torch ratios.
#   BUILD=build bench/b_cuda.sh [steps]
# Environment: PYTHON (a Python with torch; default /usr/bin/python3),
# A4NN_SHARED (reference data; default ../shared).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
STEPS=${1:-100}
PY=${PYTHON:-/usr/bin/python3}
bin=$BUILD/bench/bench_cuda
csv=${A4NN_SHARED:-../shared}/data/curves/nsganet-xfel-1e16-full.csv
[[ -x $bin ]] || { echo "SKIPPED: $bin not built (make CUDA=1 benches)"; exit 0; }
[[ -r $csv ]] || { echo "SKIPPED: reference curves $csv not found"; exit 0; }
probe=$("$bin" --genome '[[1,0,0,0,0,0,0],[0,0,0,0,0,0,0],[0,0,0,0,0,0,0]]' --steps 1 --size 16x16 2>&1)
if [[ $probe == SKIPPED* || $probe == *"no CUDA"* ]]; then echo "SKIPPED: no CUDA GPU visible"; exit 0; fi
val() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
echo "genome_mflops(csv) tf32 a4nn_img_s torch_img_s ratio a4nn_epoch_s torch_epoch_s"
"$bin" --pick "$csv" | while read -r mf genome; do
  for tf in 0 1; do
    a=$("$bin" --genome "$genome" --tf32 $tf --steps "$STEPS") || { echo "bench_cuda failed: $a"; exit 1; }
    t=$("$PY" bench/torch_gpu.py --genome "$genome" --tf32 $tf --steps "$STEPS") || { echo "torch_gpu failed"; exit 1; }
    ai=$(val images_per_s "$a"); ti=$(val images_per_s "$t")
    printf '%s %s %s %s %s %s %s   # %s\n' "$mf" "$tf" "$ai" "$ti" \
      "$(awk -v a="$ai" -v b="$ti" 'BEGIN{printf "%.2fx", a/b}')" "$(val epoch_s "$a")" "$(val epoch_s "$t")" "$genome"
  done
done
