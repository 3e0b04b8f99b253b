# Shared by the Slurm shell tests: bring up a private Slurm, tear it down on
# exit (also on failure), and helpers to wait for jobs.
#   source test/slurm/common.sh; slurm_up; ...
A4NN_ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
A4NN_BUILD=${A4NN_BUILD:-$A4NN_ROOT_DIR/build}
export PATH=$PATH:/usr/sbin

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIPPED: $*"; exit 77; }

# Absolute path of the reference curves ($A4NN_SHARED, ../shared beside the
# checkout, or the copy in test/reference). When none is there it says
# SKIPPED on stderr and returns 77: curves=$(reference_curves) || exit 77
reference_curves() {
  local r rel=data/curves/nsganet-xfel-1e16-full.csv
  for r in "${A4NN_SHARED:-}" "$A4NN_ROOT_DIR/../shared" "$A4NN_ROOT_DIR/test/reference"; do
    [[ -n $r && -f $r/$rel ]] && { echo "$(cd "$r" && pwd)/$rel"; return 0; }
  done
  echo "SKIPPED: reference curves $rel not found" >&2
  return 77
}

slurm_down() {
  local rc=$?
  if [[ -n ${A4NN_SLURM_DIR:-} ]]; then
    if [[ $rc -ne 0 && $rc -ne 77 ]]; then
      echo "---- slurm logs (failure)"
      tail -n 20 "$A4NN_SLURM_DIR"/log/*.log 2>/dev/null
    fi
    "$A4NN_ROOT_DIR/test/slurm/down.sh" "$A4NN_SLURM_DIR"
  fi
  [[ -n ${TEST_TMP:-} && -d $TEST_TMP ]] && rm -rf "$TEST_TMP"
  exit $rc
}

slurm_up() {
  local out rc
  out=$("$A4NN_ROOT_DIR/test/slurm/up.sh"); rc=$?
  [[ $rc -eq 77 ]] && skip "$(echo "$out" | sed -n 's/.*SKIPPED: \(.*\)'"'"'.*/\1/p')"
  [[ $rc -eq 0 ]] || fail "test/slurm/up.sh failed ($rc)"
  eval "$out"
  trap slurm_down EXIT
  echo "slurm up: $SLURM_CONF"
}

# Waits until none of the given job ids is pending or running (timeout in s).
# A requeued job is held back by its begin time (Slurm delays it by a
# minute or two): move that to 2 s from now. Not to now: a job that starts
# within the second of its requeue finds its credential revoked and fails.
slurm_wait() {
  local timeout=$1; shift
  local t0=$SECONDS left begin
  while :; do
    left=$(squeue -h -o '%i %T %r' 2>/dev/null | grep -E "^($(IFS='|'; echo "$*"))[ _]" || true)
    [[ -z $left ]] && return 0
    while read -r id st reason; do
      [[ $st == PENDING && $reason == BeginTime ]] || continue
      begin=$(date -d "$(squeue -h -j "$id" -o '%S' 2>/dev/null)" +%s 2>/dev/null) || continue
      (( begin - $(date +%s) > 3 )) && scontrol update jobid="$id" starttime=now+2 >/dev/null 2>&1
    done <<<"$left"
    (( SECONDS - t0 > timeout )) && { echo "jobs still queued after ${timeout}s:"; echo "$left"; return 1; }
    sleep 1
  done
}

job_field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
