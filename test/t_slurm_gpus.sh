#!/usr/bin/env bash
# GPUs only for worker ranks (jobs/a4nn-rank.sh), without a Slurm or a GPU:
#   1. under a real mpirun (4 and 6 ranks), the search and analytics ranks get
#      CUDA_VISIBLE_DEVICES="" and each worker rank its own GPU of the list;
#   2. srun's per-task variables on two nodes (SLURM_PROCID, SLURM_LOCALID):
#      worker GPUs restart at 0 on the second node;
#   3. jobs/a4nn-job.sh in dry-run mode: the launch line starts every rank
#      through a4nn-rank.sh with the run's analytics ranks; the batch scripts
#      ask for GPUs per job (--gpus), not per task.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
command -v mpirun >/dev/null || { echo "SKIPPED: no mpirun"; exit 77; }
rankw=$root/jobs/a4nn-rank.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

# 1. real MPI ranks: rank role CUDA_VISIBLE_DEVICES, sorted by rank
show() { # np analytics
  A4NN_NP=$1 A4NN_ANALYTICS_RANKS=$2 A4NN_RANK_SHOW=1 CUDA_VISIBLE_DEVICES=4,5,6,7 \
    mpirun --oversubscribe -np "$1" -x A4NN_NP -x A4NN_ANALYTICS_RANKS -x A4NN_RANK_SHOW -x CUDA_VISIBLE_DEVICES \
    "$rankw" true 2>&1 | grep '^a4nn-rank:' | sort -k2n | sed 's/^a4nn-rank: //' | tr '\n' ';'
}
got=$(show 4 1)
[[ $got == "0 search ;1 worker 4;2 worker 5;3 analytics ;" ]] || fail "4 ranks, 1 analytics: $got"
got=$(show 6 2)
[[ $got == "0 search ;1 worker 4;2 worker 5;3 worker 6;4 analytics ;5 analytics ;" ]] || fail "6 ranks, 2 analytics: $got"
echo "ok: mpirun: only worker ranks get a GPU, each its own"

# 2. srun on 2 nodes of 4 tasks, 1 analytics rank: node 0 ranks 0-3, node 1 ranks 4-7
got=
for r in 0 1 2 3 4 5 6 7; do
  got+=$(env -u OMPI_COMM_WORLD_RANK -u OMPI_COMM_WORLD_LOCAL_RANK SLURM_PROCID=$r SLURM_LOCALID=$((r % 4)) \
         SLURM_NTASKS=8 A4NN_NP= A4NN_ANALYTICS_RANKS=1 CUDA_VISIBLE_DEVICES=0,1,2,3 \
         "$rankw" sh -c 'echo "$A4NN_RANK_ROLE=$CUDA_VISIBLE_DEVICES"')";"
done
[[ $got == "search=;worker=0;worker=1;worker=2;worker=0;worker=1;worker=2;analytics=;" ]] || fail "srun, 2 nodes: $got"
echo "ok: srun, 2 nodes: worker GPUs per node, none for search and analytics"
env -u OMPI_COMM_WORLD_RANK -u PMIX_RANK -u SLURM_PROCID "$rankw" true 2>"${TMPDIR:-/tmp}/a4nn-rank-err.$$" &&
  fail "a rank without a rank number ran"
grep -q '^a4nn: rank:' "${TMPDIR:-/tmp}/a4nn-rank-err.$$" || fail "no a4nn: message"; rm -f "${TMPDIR:-/tmp}/a4nn-rank-err.$$"

# 3. the job library's launch line (dry run), starting and resuming
tmp=$(mktemp -d /tmp/a4nn-t-slurm-gpus.XXXXXX); trap 'rm -rf "$tmp"' EXIT
line=$(cd "$tmp" && A4NN_JOBS_DIR=$root/jobs A4NN_SITE=ci A4NN=/bin/true A4NN_NP=6 A4NN_DRY_RUN=1 bash -c '
  source "$A4NN_JOBS_DIR/a4nn-job.sh"; a4nn_job_setup; a4nn_job_run run1 '"$root"'/configs/replay.ini --analytics.ranks=2') ||
  fail "dry run failed: $line"
[[ $line == *"A4NN_NP=6 A4NN_ANALYTICS_RANKS=2 mpirun "*" $root/jobs/a4nn-rank.sh /bin/true run $root/configs/replay.ini "* ]] ||
  fail "launch line: $line"
mkdir -p "$tmp/run2"; : >"$tmp/run2/commons.h5"; printf '[analytics]\nranks = 3\n' >"$tmp/run2/config.ini"
line=$(cd "$tmp" && A4NN_JOBS_DIR=$root/jobs A4NN_SITE=generic A4NN=/bin/true A4NN_NP=8 A4NN_DRY_RUN=1 bash -c '
  source "$A4NN_JOBS_DIR/a4nn-job.sh"; a4nn_job_setup; a4nn_job_run run2 none') || fail "dry run (resume) failed: $line"
[[ $line == *"A4NN_NP=8 A4NN_ANALYTICS_RANKS=3 srun --mpi=pmix -n 8 $root/jobs/a4nn-rank.sh /bin/true run --resume $tmp/run2" ]] ||
  fail "resume launch line: $line"
echo "ok: launch lines start every rank through a4nn-rank.sh with the run's analytics ranks"
for f in a4nn.sbatch beam-intensities.sbatch; do
  grep -q -- '--gpus-per-task' "$root/jobs/$f" && fail "$f asks for GPUs per task"
  grep -q '^#SBATCH --gpus=2$' "$root/jobs/$f" || fail "$f: no --gpus=2 (2 worker ranks of 4)"
done
grep -rq -- '--gpus-per-task\|--gpu-bind' "$root"/jobs/sites/ && fail "a site file binds GPUs per task"
echo PASS
