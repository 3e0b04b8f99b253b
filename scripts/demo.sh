#!/usr/bin/env bash
# The README's main command (make demo): generates the default data if absent,
# then runs the default search on 4 MPI ranks with the CPU backend (search,
# 2 workers, analytics) and prints the Pareto front. A few minutes on 2 cores.
#   scripts/demo.sh [extra --section.key=value overrides]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
[[ -x $B/a4nn && -x $B/a4nn-xfelsim ]] || make BUILD="$B" all
A4NN_BUILD=$B scripts/make-default-data.sh
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1}
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
# every demo run gets its own directory under runs/
dir=runs/demo-$(date +%Y%m%d-%H%M%S)
echo "a4nn demo: mpirun --oversubscribe -np 4 $B/a4nn run configs/default.ini --run.dir=$dir $*"
mpirun --oversubscribe -np 4 "$B/a4nn" run configs/default.ini --run.dir="$dir" "$@"
echo "results: $dir/results.csv, $dir/pareto.csv, $dir/commons.h5 (a4nn report $dir for HTML)"
