#!/usr/bin/env bash
# Worker groups on the CPU backend: a group of 2 ranks (1 thread each, each on
# half of every batch, gradients averaged by MPI_Allreduce) against one rank
# (1 thread) on the same global batch, in the same run. Prints the speedup,
# its efficiency and the allreduce's share of the step. Cases: the median
# reference genome at 127x127 (init_channels 24, batch 32) and the demo's
# 32x32 network (init_channels 8, batch 128).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${A4NN_BUILD:-build}
STEPS=${STEPS:-3}
bin=$B/bench/bench_group
[[ -x $bin ]] || { echo "b_group: $bin not built (make benches)"; exit 1; }
command -v mpirun >/dev/null || { echo "SKIPPED: mpirun not found"; exit 0; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
median='[[0,1,0,1,1,1,0],[0,0,0,0,0,0,0],[1,0,1,1,0,0,0]]'
printf '%-28s %10s %10s %8s %8s %10s\n' case "1 rank" "2 ranks" speedup "eff %" "allreduce %"
for c in "127x127 24 32 $median" "32x32 8 128 $median"; do
  read -r size ch batch genome <<<"$c"
  out=$(OMP_NUM_THREADS=1 mpirun --oversubscribe -np 2 "$bin" --genome "$genome" --size "$size" \
        --init-channels "$ch" --batch "$batch" --threads 1 --steps "$STEPS") || { echo "$out"; echo "b_group: bench_group failed"; exit 1; }
  echo "$out" | grep -q '^ranks=' || { echo "$out"; exit 1; }
  eval "$(echo "$out" | grep '^ranks=' | tr ' ' '\n' | sed 's/^/r_/')"
  printf '%-28s %10.2f %10.2f %7.2fx %8.1f %10.1f\n' "$size C=$ch b$batch (${r_mflops} MF)" \
    "$r_single_images_per_s" "$r_group_images_per_s" "$r_speedup" "$r_efficiency_pct" "$r_allreduce_pct"
done
