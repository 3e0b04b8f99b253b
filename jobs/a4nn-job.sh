# a4nn job library: sourced by the batch scripts in this directory.
#
#   a4nn_job_setup                 site file, modules, launcher
#   a4nn_job_output DIR NAME       the job's output from here on into DIR/NAME
#   a4nn_job_run DIR CONFIG [--section.key=value ...]
#                                  runs (or resumes) one search in DIR; on
#                                  USR1/TERM forwards the signal to the job
#                                  step, waits for its checkpoint and requeues
#
# Environment:
#   A4NN_SITE      site file name in jobs/sites (generic, darwin, summit) or a path
#   A4NN_LAUNCHER  srun | mpirun | jsrun (the site file's default otherwise)
#   A4NN           the a4nn binary (default: a4nn on PATH, else build/a4nn)
#   A4NN_NP        MPI ranks (default: SLURM_NTASKS)
#   A4NN_REQUEUE   0 disables requeueing after a signal (default 1)
#   A4NN_DRY_RUN   1: print the launch line and the environment it gets, run nothing
#
# Every rank starts through a4nn-rank.sh, which gives a GPU only to the worker
# ranks (the job asks for one GPU per worker rank: --gpus=W).
#
# `a4nn run` exits with status 75 when a signal interrupted it after it saved
# its checkpoint; only then (or after a forwarded signal with a non-zero
# status and saved state) is the job requeued. A finished run is never.

a4nn_job_log() { echo "a4nn-job[${SLURM_JOB_ID:-local}]: $(date -u +%H:%M:%S) $*"; }
a4nn_job_die() { echo "a4nn: job: $*" >&2; exit 1; }

# The jobs directory: sbatch runs a copy of the script from Slurm's spool, so
# find this directory from the environment or the submit directory.
a4nn_job_dir() {
  local d
  for d in "${A4NN_JOBS_DIR:-}" "${A4NN_ROOT:+$A4NN_ROOT/share/a4nn/jobs}" \
           "${SLURM_SUBMIT_DIR:-.}/jobs" "${SLURM_SUBMIT_DIR:-.}"; do
    [[ -n $d && -f $d/a4nn-job.sh ]] && { (cd "$d" && pwd); return; }
  done
  return 1
}

a4nn_job_setup() {
  local jobs site
  jobs=$(a4nn_job_dir) || a4nn_job_die "cannot find the jobs directory (set A4NN_JOBS_DIR)"
  site=${A4NN_SITE:-generic}
  [[ $site == */* ]] || site="$jobs/sites/$site.sh"
  [[ -f $site ]] || a4nn_job_die "site file '$site' not found"
  # shellcheck source=/dev/null
  source "$site"
  if [[ -n ${A4NN_SITE_MODULES:-} ]]; then
    if command -v module >/dev/null 2>&1; then
      # shellcheck disable=SC2086
      module load $A4NN_SITE_MODULES || a4nn_job_die "module load $A4NN_SITE_MODULES failed"
    else
      a4nn_job_log "no module command here: not loading $A4NN_SITE_MODULES"
    fi
  fi
  A4NN_LAUNCHER=${A4NN_LAUNCHER:-${A4NN_SITE_LAUNCHER:-srun}}
  if [[ -z ${A4NN:-} ]]; then
    if command -v a4nn >/dev/null 2>&1; then A4NN=$(command -v a4nn)
    elif [[ -x ${SLURM_SUBMIT_DIR:-.}/build/a4nn ]]; then A4NN=${SLURM_SUBMIT_DIR:-.}/build/a4nn
    else a4nn_job_die "a4nn not found: load the a4nn module or set A4NN"; fi
  fi
  [[ -x $A4NN ]] || a4nn_job_die "'$A4NN' is not executable"
  A4NN_NP=${A4NN_NP:-${SLURM_NTASKS:-}}
  [[ $A4NN_NP =~ ^[0-9]+$ && $A4NN_NP -ge 3 ]] ||
    a4nn_job_die "need at least 3 MPI ranks (search, worker, analytics), got '${A4NN_NP}'"
}

# The launch command for the job step, in the array A4NN_LAUNCH.
a4nn_job_launch_cmd() {
  case $A4NN_LAUNCHER in
    srun)   A4NN_LAUNCH=(srun --mpi="${A4NN_SRUN_MPI:-pmix}" -n "$A4NN_NP" ${A4NN_SITE_SRUN_ARGS:-}) ;;
    mpirun) A4NN_LAUNCH=(mpirun --oversubscribe -np "$A4NN_NP" -x A4NN_NP -x A4NN_ANALYTICS_RANKS ${A4NN_SITE_MPIRUN_ARGS:-}) ;;
    jsrun)  A4NN_LAUNCH=(jsrun -n "$A4NN_NP" -a 1 ${A4NN_SITE_JSRUN_ARGS:-}) ;;
    *) a4nn_job_die "unknown launcher '$A4NN_LAUNCHER' (srun, mpirun or jsrun)" ;;
  esac
  A4NN_LAUNCH+=("$(a4nn_job_dir)/a4nn-rank.sh")
}

# Analytics ranks of the run: the last --analytics.ranks= override, else the
# [analytics] ranks of CONFIG (the run directory's config.ini on resume), else 1.
a4nn_job_analytics_ranks() {
  local config=$1 a n=""; shift
  for a in "$@"; do [[ $a == --analytics.ranks=* ]] && n=${a#--analytics.ranks=}; done
  [[ -z $n && -f $config ]] &&
    n=$(awk -F= '/^\[/ { s = $0 } s ~ /^\[analytics\]/ && $1 ~ /^[ \t]*ranks[ \t]*$/ { gsub(/[ \t]/, "", $2); print $2 }' "$config" | tail -n 1)
  echo "${n:-1}"
}

# Under Slurm, sends the rest of the job's output (appending: requeued legs
# add to it) to DIR/NAME, unless Slurm already writes into DIR (jobs/submit.sh
# passes --output there). A plain `sbatch` writes Slurm's own file in the
# submit directory; it then holds only the line naming the real one.
a4nn_job_output() {
  local dir=$1 name=$2 cur
  [[ -n ${SLURM_JOB_ID:-} ]] || return 0
  mkdir -p "$dir" || a4nn_job_die "cannot create run directory '$dir'"
  dir=$(cd "$dir" && pwd)
  cur=$(readlink -f "/proc/$$/fd/1" 2>/dev/null || true)
  [[ $cur == "$dir"/* ]] && return 0
  a4nn_job_log "output continues in $dir/$name"
  exec >>"$dir/$name" 2>&1
}

# 1 when DIR holds a run that can be resumed: a run exists once its
# commons.h5 does (a start that failed before leaves only checkpoints/ or
# config.ini, and is started again, not resumed).
a4nn_job_has_state() { [[ -f $1/commons.h5 ]]; }

_a4nn_job_signal() {
  local sig=$1
  A4NN_JOB_SIGNALLED=$sig
  a4nn_job_log "got SIG$sig: asking the search to checkpoint"
  # mpirun ends the job at once on TERM (exit 1, ranks killed after 1 s) but
  # forwards USR1 to every rank, which a4nn treats like TERM
  [[ $A4NN_LAUNCHER == mpirun ]] && sig=USR1
  [[ -n ${A4NN_JOB_PID:-} ]] && kill -"$sig" "$A4NN_JOB_PID" 2>/dev/null
}

a4nn_job_run() {
  local dir=$1 config=$2; shift 2
  local args rc restarts=${SLURM_RESTART_COUNT:-0}
  mkdir -p "$dir" || a4nn_job_die "cannot create run directory '$dir'"
  dir=$(cd "$dir" && pwd)
  if [[ $restarts -gt 0 ]] || a4nn_job_has_state "$dir"; then
    a4nn_job_log "resuming $dir (restart $restarts)"
    args=(run --resume "$dir")
    A4NN_ANALYTICS_RANKS=$(a4nn_job_analytics_ranks "$dir/config.ini")
  else
    [[ -f $config ]] || a4nn_job_die "config '$config' not found"
    a4nn_job_log "starting $dir from $config"
    args=(run "$config" --run.dir="$dir" "$@")
    A4NN_ANALYTICS_RANKS=$(a4nn_job_analytics_ranks "$config" "$@")
  fi
  export A4NN_NP A4NN_ANALYTICS_RANKS
  a4nn_job_launch_cmd
  if [[ ${A4NN_DRY_RUN:-0} == 1 ]]; then
    echo "A4NN_NP=$A4NN_NP A4NN_ANALYTICS_RANKS=$A4NN_ANALYTICS_RANKS ${A4NN_LAUNCH[*]} $A4NN ${args[*]}"
    return 0
  fi
  A4NN_JOB_SIGNALLED=
  trap '_a4nn_job_signal USR1' USR1
  trap '_a4nn_job_signal TERM' TERM
  a4nn_job_log "${A4NN_LAUNCH[*]} $A4NN ${args[*]}"
  local t_start; t_start=$(date +%s.%N)
  "${A4NN_LAUNCH[@]}" "$A4NN" "${args[@]}" &
  A4NN_JOB_PID=$!
  # wait returns early (status > 128) when a trapped signal arrives: wait again
  # until the step itself has ended.
  while :; do
    wait "$A4NN_JOB_PID"; rc=$?
    kill -0 "$A4NN_JOB_PID" 2>/dev/null || break
  done
  trap - USR1 TERM
  a4nn_job_log "a4nn exited with status $rc"
  # one line per job leg: the scaling study sums them into time-to-solution
  [[ -f $dir/job-legs.tsv ]] || printf 'job\trestart\tranks\tstart\tend\tstatus\n' >"$dir/job-legs.tsv"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${SLURM_JOB_ID:-local}" "$restarts" "$A4NN_NP" "$t_start" \
    "$(date +%s.%N)" "$rc" >>"$dir/job-legs.tsv"
  # 75 (EX_TEMPFAIL): a4nn run was interrupted and saved its state
  if [[ $rc -eq 75 || ( -n $A4NN_JOB_SIGNALLED && $rc -ne 0 ) ]]; then
    if [[ ${A4NN_REQUEUE:-1} == 1 && -n ${SLURM_JOB_ID:-} ]] && a4nn_job_has_state "$dir"; then
      a4nn_job_log "checkpoint written: requeueing job ${SLURM_JOB_ID}"
      scontrol requeue "$SLURM_JOB_ID" ||
        a4nn_job_die "scontrol requeue failed"
      exit 0
    fi
    a4nn_job_log "interrupted: resume with: a4nn run --resume $dir"
  fi
  return "$rc"
}
