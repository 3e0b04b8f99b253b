#!/usr/bin/env bash
# A worker group of 2 MPI ranks (MPI_Allreduce of the gradients, each rank on
# half of every global batch) trains like one rank on the full batch.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${A4NN_BUILD:-$PWD/build}/test/test_group_mpi
[[ -x $bin ]] || { echo "FAIL: $bin not built"; exit 1; }
command -v mpirun >/dev/null || { echo "SKIPPED: mpirun not found"; exit 77; }
out=$(OMP_NUM_THREADS=1 timeout 300 mpirun --oversubscribe -np 2 "$bin" 2>&1); rc=$?
echo "$out"
[[ $rc -eq 0 ]] || { echo "FAIL: mpirun exited $rc"; exit 1; }
# both ranks ran all three tests, none skipped or failed
[[ $(grep -c '^\[  PASSED  \] 3 test(s)' <<<"$out") -eq 2 ]] || { echo "FAIL: not all tests passed on both ranks"; exit 1; }
grep -q 'SKIPPED' <<<"$out" && { echo "FAIL: a test was skipped under 2 ranks"; exit 1; }
echo "ok"
