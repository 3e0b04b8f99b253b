#!/usr/bin/env bash
# CPU training throughput: a4nn's CPU backend vs PyTorch (CPU) on the same
# decoded networks, same threads and batch; and achieved GFLOP/s as a
# fraction of OpenBLAS sgemm measured in the same run.
# Networks: the reference genomes with the lowest, median and highest MFLOPs
# (init_channels 24, 127x127, batch 32) and a small case (8 channels, 32x32,
# batch 128). The PyTorch peer must build the same network: its parameter
# count is checked against a4nn's for every case.
# PYTHON: the interpreter with PyTorch (default /usr/bin/python3).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${A4NN_BUILD:-build}
THREADS=${THREADS:-$(nproc)}
STEPS=${STEPS:-5}
# KERNELS=direct: the CPU backend's direct 3x3 kernels only; own: its Winograd and direct ones, no oneDNN (worker.cpu_kernels)
KERNELS=${KERNELS:-auto}
CSV=${A4NN_SHARED:-../shared}/data/curves/nsganet-xfel-1e16-full.csv
PY=${PYTHON:-/usr/bin/python3}
# NATIVE_BLAS=1: let OpenBLAS pick its kernels for this CPU in this run (the
# machine's environment may pin OPENBLAS_CORETYPE to an older kernel set).
if [[ ${NATIVE_BLAS:-0} == 1 ]]; then unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; fi
echo "OpenBLAS kernels: ${OPENBLAS_CORETYPE:-chosen by OpenBLAS for this CPU}"
if [[ ! -f $CSV ]]; then echo "SKIPPED: reference curves not found at $CSV"; exit 0; fi

mapfile -t G < <($PY - "$CSV" <<'PYEOF'
import csv, sys
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    rows.setdefault(r["genome"], float(r["flops"]))
g = sorted(rows, key=rows.get)
for x in (g[0], g[len(g) // 2], g[-1]):
    print(x)
PYEOF
)
have_torch=1
$PY -c 'import torch' 2>/dev/null || have_torch=0

peak=$("$B"/bench/bench_train --sgemm --threads "$THREADS" | sed 's/.*sgemm_gflops=\([0-9.]*\).*/\1/')
echo "OpenBLAS sgemm on $THREADS threads: $peak GFLOP/s (the practical limit)"
echo "% sgemm: training GFLOP/s with a multiply-add as 2 FLOPs (as sgemm's 2n^3), over sgemm GFLOP/s"
echo "cpu ratio: the same ratio per second of each process's CPU time (less sensitive to other load)"
echo "other: the cores that other processes kept busy during the case, on average (/proc/stat); with"
echo "  THREADS at the core count, two-thread figures stall in OpenMP barriers once it is well above 0"
printf '%-8s %-34s %9s %11s %11s %8s %8s %9s %6s\n' case network MFLOPs "a4nn img/s" "torch img/s" ratio "% sgemm" "cpu ratio" other
ticks() { # busy and all jiffies of the machine, and those of this script's waited-for children
  awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9; exit}' /proc/stat
  awk '{print $16+$17}' /proc/$$/stat
}
kv() { # kv KEY LINE: the value of KEY=value in a line of key=value pairs
  tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -n1
}
run_case() { # name genome size channels batch
  local out tout ips gf mf params tparams tips ratio frac cips tcips cratio t0 t1 other
  t0=$(ticks)
  out=$("$B"/bench/bench_train --genome "$2" --size "$3" --init-channels "$4" --batch "$5" --threads "$THREADS" --steps "$STEPS" --kernels "$KERNELS") ||
    { echo "b_train: bench_train failed for case $1: $out"; exit 1; }
  ips=$(kv images_per_s "$out")
  gf=$(kv train_gflops "$out")
  mf=$(kv mflops "$out")
  params=$(kv params "$out")
  cips=$(kv cpu_images_per_s "$out")
  frac=$(awk -v g="$gf" -v p="$peak" 'BEGIN{printf "%.1f", 100*g/p}')
  if [[ $have_torch == 1 ]]; then
    tout=$($PY bench/torch_train.py --genome "$2" --size "$3" --init-channels "$4" --batch "$5" --threads "$THREADS" --steps "$STEPS") ||
      { echo "b_train: bench/torch_train.py failed for case $1: $tout"; exit 1; }
    tparams=$(kv params "$tout")
    if [[ -z $params || $tparams != "$params" ]]; then
      echo "b_train: parameter count mismatch for case $1 ($3 C=$4, genome $2): a4nn ${params:-?}, PyTorch ${tparams:-?}; the PyTorch peer does not build the same network, so the comparison is void"
      exit 1
    fi
    tips=$(kv images_per_s "$tout")
    tcips=$(kv cpu_images_per_s "$tout")
    ratio=$(awk -v a="$ips" -v b="$tips" 'BEGIN{printf "%.2fx", a/b}')
    cratio=$(awk -v a="$cips" -v b="$tcips" 'BEGIN{printf "%.2fx", a/b}')
  else
    tips="SKIPPED"; ratio="(no python3-torch)"; cratio="-"
  fi
  t1=$(ticks)
  other=$(echo $t0 $t1 | awk -v n="$(nproc)" '{b = $4 - $1; t = $5 - $2; o = $6 - $3; printf "%.2f", (t > 0 ? (b - o) * n / t : 0)}')
  printf '%-8s %-34s %9.2f %11.1f %11s %8s %8s %9s %6s\n' "$1" "$3 C=$4 batch $5" "$mf" "$ips" "$tips" "$ratio" "$frac" "$cratio" "$other"
}
run_case lowest "${G[0]}" 127x127 24 32
run_case median "${G[1]}" 127x127 24 32
run_case highest "${G[2]}" 127x127 24 32
run_case small "${G[1]}" 32x32 8 128
echo "MFLOPs: DESIGN.md counter (a multiply-add = 1). Training GFLOP/s = 3 x forward FLOPs x images/s,"
echo "with a multiply-add of conv and linear layers = 2 FLOPs like sgemm (element-wise ops as counted);"
[[ $have_torch == 1 ]] && echo "PyTorch's parameter count equals a4nn's for every network above"
