#!/usr/bin/env bash
# The job scripts on a real single-node Slurm (test/slurm/up.sh), with the
# replay backend on a tiny search, three submissions at once:
#   1. jobs/a4nn.sbatch runs a search to the end: results.csv lists every
#      model, commons.h5 exists, the job completed without a restart;
#   2. the same search, sent USR1 (what --signal=B:USR1@300 sends before the
#      time limit) while it runs: the trap forwards it, a4nn checkpoints, the
#      job requeues itself and the restarted job resumes; every model is then
#      evaluated exactly once, with the same results as the uninterrupted run;
#   3. jobs/beam-intensities.sbatch as a 3-task array: one run directory per
#      beam intensity, each complete.
set -uo pipefail
source "$(dirname "$0")/slurm/common.sh"
A4NN=$A4NN_BUILD/a4nn
[[ -x $A4NN ]] || fail "$A4NN not built"
"$A4NN" run --help >/dev/null 2>&1 || skip "this a4nn has no 'run' command"
curves=
for r in "${A4NN_SHARED:-}" "$A4NN_ROOT_DIR/../shared"; do
  [[ -n $r && -f $r/data/curves/nsganet-xfel-1e16-full.csv ]] && { curves=$(cd "$r" && pwd)/data/curves/nsganet-xfel-1e16-full.csv; break; }
done
[[ -n $curves ]] || skip "reference curves shared/data/curves/nsganet-xfel-1e16-full.csv not found"
slurm_up
TEST_TMP=$(mktemp -d /tmp/a4nn-t-slurm-jobs.XXXXXX)
cd "$A4NN_ROOT_DIR" || fail "cd"
export A4NN

tiny=(--search.pop_size=8 --search.n_offspring=8 --search.n_gens=2 --worker.replay_curves="$curves")
n_models=24

# 1. one search to the end
single=$(jobs/submit.sh ci jobs/a4nn.sbatch configs/replay.ini "$TEST_TMP/single" "${tiny[@]}" \
         --worker.replay_epoch_seconds=0.02) || fail "submit single"
# 2. the same search, slower, interrupted and requeued
requeue=$(jobs/submit.sh ci jobs/a4nn.sbatch configs/replay.ini "$TEST_TMP/requeue" "${tiny[@]}" \
          --worker.replay_epoch_seconds=0.1) || fail "submit requeue"
# 3. the beam-intensity array on tiny replay configs
mkdir -p "$TEST_TMP/configs"
for b in 1e14 1e15 1e16; do
  sed -e "s/^seed = .*/seed = ${b#1e}/" configs/replay.ini >"$TEST_TMP/configs/xfel-$b.ini"
done
array=$(A4NN_CONFIG_DIR=$TEST_TMP/configs jobs/submit.sh ci jobs/beam-intensities.sbatch "$TEST_TMP/beam" \
        --search.pop_size=4 --search.n_offspring=2 --search.n_gens=1 --worker.replay_curves="$curves" \
        --worker.replay_epoch_seconds=0.02) || fail "submit array"
echo "jobs: single $single, requeue $requeue, array $array"

# interrupt job 2 once a few of its models are done
t0=$SECONDS
while :; do
  done_models=$(grep -c 'model [0-9]* done' "$TEST_TMP/requeue/run.log" 2>/dev/null)
  [[ ${done_models:-0} -ge 4 ]] && break
  (( SECONDS - t0 > 90 )) && fail "requeue job: no progress in 90 s: $(cat "$TEST_TMP"/requeue/slurm-*.out 2>/dev/null)"
  sleep 0.5
done
echo "requeue job: $done_models models done, sending USR1 to the batch script"
scancel --signal=USR1 --batch "$requeue" || fail "scancel --signal=USR1"

slurm_wait 240 "$single" "$requeue" "$array" || fail "jobs did not finish"

# results.csv: the id column, one line per model
check_run() { # dir n_models what
  local dir=$1 n=$2 what=$3 rows uniq
  [[ -f $dir/commons.h5 ]] || fail "$what: no commons.h5 in $dir"
  [[ -f $dir/results.csv ]] || fail "$what: no results.csv in $dir"
  rows=$(tail -n +2 "$dir/results.csv" | wc -l)
  uniq=$(tail -n +2 "$dir/results.csv" | cut -d, -f1 | sort -un | wc -l)
  [[ $rows -eq $n && $uniq -eq $n ]] || fail "$what: $rows rows, $uniq distinct models in results.csv, expected $n"
  [[ $(tail -n +2 "$dir/results.csv" | cut -d, -f1 | sort -n | tail -n 1) -eq $((n - 1)) ]] ||
    fail "$what: model ids are not 0..$((n - 1))"
  echo "ok: $what: $n models, each once"
}

cat "$TEST_TMP"/single/slurm-*.out
[[ $(job_field "$single" JobState) == COMPLETED ]] || fail "single job ended $(job_field "$single" JobState)"
[[ $(job_field "$single" Restarts) == 0 ]] || fail "single job restarted"
check_run "$TEST_TMP/single" $n_models "single job"

echo "---- requeued job output"
cat "$TEST_TMP"/requeue/slurm-*.out
[[ $(job_field "$requeue" JobState) == COMPLETED ]] || fail "requeued job ended $(job_field "$requeue" JobState)"
[[ $(job_field "$requeue" Restarts) -ge 1 ]] || fail "the job was not requeued (Restarts=$(job_field "$requeue" Restarts))"
grep -q 'got SIGUSR1' "$TEST_TMP"/requeue/slurm-*.out || fail "the trap did not see USR1"
grep -q 'requeueing job' "$TEST_TMP"/requeue/slurm-*.out || fail "the job did not requeue itself"
grep -q "resuming $TEST_TMP/requeue" "$TEST_TMP"/requeue/slurm-*.out || fail "the restarted job did not resume"
check_run "$TEST_TMP/requeue" $n_models "requeued job"
# generational search is reproducible: the interrupted run must give the
# uninterrupted run's models (id, genome, epochs, stop reason, fitness)
key() { tail -n +2 "$1/results.csv" | /usr/bin/python3 -c '
import csv, sys
for r in sorted(csv.reader(sys.stdin), key=lambda r: int(r[0])):
    print(r[0], r[1], r[4], r[5], r[7])'; }
diff <(key "$TEST_TMP/single") <(key "$TEST_TMP/requeue") || fail "requeued run differs from the uninterrupted one"
echo "ok: requeued run equals the uninterrupted run"

for b in 1e14 1e15 1e16; do
  check_run "$TEST_TMP/beam/xfel-$b" 6 "beam array task $b"
  grep -q "beam intensity $b" "$TEST_TMP"/beam/a4nn-beam-*.out || fail "no array task ran $b"
done
# different seeds per intensity: the three searches differ
[[ $(cut -d, -f2- "$TEST_TMP"/beam/xfel-1e14/results.csv | md5sum) != $(cut -d, -f2- "$TEST_TMP"/beam/xfel-1e16/results.csv | md5sum) ]] ||
  fail "beam array tasks ran the same search"
echo "PASS"
