#!/usr/bin/env bash
# Brings up a real single-node Slurm (test/slurm/up.sh) and runs a 4-rank MPI
# program inside sbatch with both launchers the job scripts use: mpirun
# --oversubscribe and srun --mpi=pmix. Tears Slurm down even on failure.
set -uo pipefail
source "$(dirname "$0")/slurm/common.sh"
command -v mpicc >/dev/null || skip "mpicc not found"
slurm_up
TEST_TMP=$(mktemp -d /tmp/a4nn-t-slurm-mpi.XXXXXX)

cat >"$TEST_TMP/hello.c" <<'C'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    int rank, size, sum = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    printf("rank %d of %d sum %d\n", rank, size, sum);
    MPI_Finalize();
    return 0;
}
C
mpicc -o "$TEST_TMP/hello" "$TEST_TMP/hello.c" || fail "mpicc hello.c"

for launcher in mpirun srun; do
  cat >"$TEST_TMP/$launcher.sbatch" <<S
#!/bin/bash
#SBATCH --ntasks=4 --output=$TEST_TMP/$launcher.out
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [[ $launcher == mpirun ]]; then mpirun --oversubscribe -np 4 $TEST_TMP/hello
else srun --mpi=pmix -n 4 $TEST_TMP/hello; fi
S
  id=$(sbatch --parsable "$TEST_TMP/$launcher.sbatch") || fail "sbatch ($launcher)"
  slurm_wait 120 "$id" || fail "$launcher job $id did not finish"
  state=$(job_field "$id" JobState)
  cat "$TEST_TMP/$launcher.out"
  [[ $state == COMPLETED ]] || fail "$launcher job $id ended $state"
  n=$(grep -c '^rank [0-3] of 4 sum 6$' "$TEST_TMP/$launcher.out")
  [[ $n -eq 4 ]] || fail "$launcher: $n of 4 ranks reported the right sum"
  echo "ok: 4 ranks under sbatch with $launcher"
done
echo "PASS"
