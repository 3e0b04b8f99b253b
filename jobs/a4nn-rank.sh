#!/usr/bin/env bash
# Per-rank GPU binding for one a4nn job step: the launcher (srun, mpirun,
# jsrun) starts this on every rank; it gives a GPU only to worker ranks and
# runs the command.
#
#   srun ... jobs/a4nn-rank.sh a4nn run ...     (a4nn-job.sh does this)
#
# Rank 0 (search) and the last A4NN_ANALYTICS_RANKS ranks (analytics) get
# CUDA_VISIBLE_DEVICES="" (no GPU); worker rank k of a node gets the k-th GPU
# of the node (of CUDA_VISIBLE_DEVICES when the step set it, else ordinal k).
# The job thus asks for one GPU per worker rank (--gpus=W), not per task.
# A4NN_NP is the number of ranks. Sets A4NN_RANK_ROLE (search, worker,
# analytics). With A4NN_RANK_SHOW=1 it prints "rank role CUDA_VISIBLE_DEVICES"
# before running the command.
set -u
die() { echo "a4nn: rank: $*" >&2; exit 1; }
# the launcher's own variables first: inside a batch job SLURM_PROCID and
# SLURM_LOCALID are those of the batch step under mpirun
rank=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-${JSM_NAMESPACE_RANK:-${SLURM_PROCID:-}}}}
local=${OMPI_COMM_WORLD_LOCAL_RANK:-${MPI_LOCALRANKID:-${JSM_NAMESPACE_LOCAL_RANK:-${SLURM_LOCALID:-}}}}
np=${A4NN_NP:-${OMPI_COMM_WORLD_SIZE:-${JSM_NAMESPACE_SIZE:-${SLURM_NTASKS:-}}}}
analytics=${A4NN_ANALYTICS_RANKS:-1}
[[ $rank =~ ^[0-9]+$ && $local =~ ^[0-9]+$ ]] || die "cannot tell this rank's number from the launcher's environment"
[[ $np =~ ^[0-9]+$ && $analytics =~ ^[0-9]+$ ]] || die "A4NN_NP '$np' or A4NN_ANALYTICS_RANKS '$analytics' is not a number"
[[ $# -ge 1 ]] || die "usage: a4nn-rank.sh COMMAND [ARGS...]"
if ((rank == 0)); then A4NN_RANK_ROLE=search
elif ((rank >= np - analytics)); then A4NN_RANK_ROLE=analytics
else A4NN_RANK_ROLE=worker; fi
if [[ $A4NN_RANK_ROLE != worker ]]; then
  CUDA_VISIBLE_DEVICES=
elif [[ ${CUDA_VISIBLE_DEVICES-unset} != "" && ${CUDA_VISIBLE_DEVICES-} != NoDevFiles ]]; then
  # workers of this node before this one; block distribution: the node that
  # holds rank 0 holds the search at local rank 0
  k=$local; ((rank - local == 0)) && k=$((local - 1))
  if [[ -n ${CUDA_VISIBLE_DEVICES:-} ]]; then
    IFS=, read -r -a gpus <<<"$CUDA_VISIBLE_DEVICES"
    CUDA_VISIBLE_DEVICES=${gpus[k % ${#gpus[@]}]}
  else
    CUDA_VISIBLE_DEVICES=$k
  fi
fi
export CUDA_VISIBLE_DEVICES A4NN_RANK_ROLE
[[ ${A4NN_RANK_SHOW:-0} == 1 ]] && echo "a4nn-rank: $rank $A4NN_RANK_ROLE ${CUDA_VISIBLE_DEVICES-unset}"
exec "$@"
