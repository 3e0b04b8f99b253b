#!/usr/bin/env bash
# The job scripts on a real single-node Slurm (test/slurm/up.sh), with the
# replay backend on a tiny search, three submissions at once:
#   1. jobs/a4nn.sbatch, submitted with a plain sbatch, runs a search to the
#      end: results.csv lists every model, commons.h5 exists, the job
#      completed without a restart, its output is in the run directory;
#   2. the same search, slower, under a one-minute time limit with
#      --signal=B:USR1@5: Slurm itself sends USR1 before the limit, the trap
#      forwards it, a4nn checkpoints, the job requeues itself and the next leg
#      resumes (a leg may be signalled again); across all legs run.log has
#      exactly one "done" line per model, and the results equal the
#      uninterrupted run's;
#   3. jobs/beam-intensities.sbatch as a 3-task array: one run directory per
#      beam intensity, each complete, each with its task's output.
set -uo pipefail
source "$(dirname "$0")/slurm/common.sh"
A4NN=$A4NN_BUILD/a4nn
[[ -x $A4NN ]] || fail "$A4NN not built"
"$A4NN" run --help >/dev/null 2>&1 || skip "this a4nn has no 'run' command"
curves=$(reference_curves) || exit 77
slurm_up
TEST_TMP=$(mktemp -d /tmp/a4nn-t-slurm-jobs.XXXXXX)
cd "$A4NN_ROOT_DIR" || fail "cd"
export A4NN

tiny=(--search.pop_size=8 --search.n_offspring=8 --search.n_gens=2 --worker.replay_curves="$curves")
n_models=24

# 1. one search to the end, plain sbatch from another directory (the site
# file's only flag given by hand)
single=$(cd "$TEST_TMP" && A4NN_JOBS_DIR=$A4NN_ROOT_DIR/jobs A4NN_SITE=ci \
         sbatch --parsable --gpus=0 "$A4NN_ROOT_DIR/jobs/a4nn.sbatch" "$A4NN_ROOT_DIR/configs/replay.ini" \
         single "${tiny[@]}" --worker.replay_epoch_seconds=0.02) || fail "submit single"
# 2. the same search under a real time limit. slurmctld (22.05) checks limits
# every 30 s and signals at the first check within warn + 30 s of the limit:
# with --time=1 and USR1@5 the signal comes 25 to 55 s into a leg, and the
# limit (60 s) at least 30 s later. At 0.36 s per replayed epoch the search
# needs about 66 s on its 2 workers: still running when the first signal
# comes, so at least one requeue; later legs are signalled again while they
# run (about 25 s each), so it ends after 2 to 4 legs.
requeue=$(A4NN_SBATCH_ARGS="--time=1 --signal=B:USR1@5" \
          jobs/submit.sh ci jobs/a4nn.sbatch configs/replay.ini "$TEST_TMP/requeue" "${tiny[@]}" \
          --worker.replay_epoch_seconds=0.36) || fail "submit requeue"
# 3. the beam-intensity array on tiny replay configs
mkdir -p "$TEST_TMP/configs"
for b in 1e14 1e15 1e16; do
  sed -e "s/^seed = .*/seed = ${b#1e}/" configs/replay.ini >"$TEST_TMP/configs/xfel-$b.ini"
done
array=$(A4NN_CONFIG_DIR=$TEST_TMP/configs jobs/submit.sh ci jobs/beam-intensities.sbatch "$TEST_TMP/beam" \
        --search.pop_size=4 --search.n_offspring=2 --search.n_gens=1 --worker.replay_curves="$curves" \
        --worker.replay_epoch_seconds=0.02) || fail "submit array"
echo "jobs: single $single, requeue $requeue, array $array"
[[ $(job_field "$requeue" TimeLimit) == 00:01:00 ]] || fail "requeue job: time limit $(job_field "$requeue" TimeLimit), not 1 minute"

slurm_wait 300 "$single" "$requeue" "$array" || fail "jobs did not finish"

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
  echo "ok: $what: $n models in results.csv, each once"
}

out=$TEST_TMP/single/slurm-$single.out
[[ -f $out ]] || fail "single job: no output in its run directory ($(ls "$TEST_TMP/single"))"
cat "$out"
# Slurm's own file in the submit directory only names the real one
[[ $(cat "$TEST_TMP/a4nn-$single.out") == *"output continues in $TEST_TMP/single/slurm-$single.out" ]] ||
  fail "single job: $TEST_TMP/a4nn-$single.out: $(cat "$TEST_TMP/a4nn-$single.out")"
grep -q "done: $n_models/$n_models models" "$out" || fail "single job: the search's output is not in $out"
[[ $(job_field "$single" JobState) == COMPLETED ]] || fail "single job ended $(job_field "$single" JobState)"
[[ $(job_field "$single" Restarts) == 0 ]] || fail "single job restarted"
check_run "$TEST_TMP/single" $n_models "single job"

echo "---- requeued job output"
out=$TEST_TMP/requeue/slurm-$requeue.out
[[ -f $out ]] || fail "requeue job: no output in its run directory"
cat "$out"
echo "---- job legs"
cat "$TEST_TMP/requeue/job-legs.tsv"
state=$(job_field "$requeue" JobState) restarts=$(job_field "$requeue" Restarts)
[[ $state == COMPLETED ]] || fail "requeued job ended $state"
[[ $restarts -ge 1 ]] || fail "the job was not requeued (Restarts=$restarts)"
grep -q 'DUE TO TIME LIMIT' "$out" && fail "a leg ran into the time limit"
# every leg but the last: signalled by Slurm, checkpointed (75), requeued
legs=$(($(wc -l <"$TEST_TMP/requeue/job-legs.tsv") - 1))
[[ $legs -eq $((restarts + 1)) ]] || fail "$legs legs in job-legs.tsv, Slurm counts $restarts restarts"
[[ $(grep -c 'got SIGUSR1' "$out") -ge $restarts ]] || fail "the trap saw fewer USR1 than requeues"
[[ $(grep -c 'requeueing job' "$out") -eq $restarts ]] || fail "the job did not requeue itself $restarts times"
[[ $(grep -c "resuming $TEST_TMP/requeue" "$out") -eq $restarts ]] || fail "not every restarted leg resumed"
awk -F'\t' -v n="$legs" 'NR > 1 && NR <= n { if ($6 != 75) exit 1 } NR == n + 1 { if ($6 != 0) exit 1 }' \
  "$TEST_TMP/requeue/job-legs.tsv" || fail "leg statuses are not 75 ... 75, 0"
echo "ok: Slurm signalled the job before its time limit, $restarts requeue(s), $legs legs, the last completed"

# every model evaluated exactly once, from the progress lines of all legs
/usr/bin/python3 - "$TEST_TMP/requeue/run.log" "$n_models" "$legs" <<'PY' || fail "run.log: models not evaluated exactly once"
import collections, re, sys
path, n, n_legs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
legs = []
# progress lines, after run.log's ISO-8601 time stamp
line_re = re.compile(r"^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ )?\[\s*\d+/\d+\] model (\d+) (done|\(from the commons\))")
for line in open(path):
    if line.startswith("---- a4nn "):
        legs.append([])
        continue
    m = line_re.match(line)
    if m:
        assert legs, "a progress line before the first run header"
        legs[-1].append((int(m.group(1)), m.group(2)))
assert len(legs) == n_legs, f"{len(legs)} runs in run.log, {n_legs} job legs"
done = collections.Counter(i for leg in legs for i, how in leg if how == "done")
assert set(done) == set(range(n)), f"models never done: {sorted(set(range(n)) - set(done))}"
twice = sorted(i for i, c in done.items() if c > 1)
assert not twice, f"models done more than once: {twice}"
for k, leg in enumerate(legs):
    for i, how in leg:
        if how != "done":
            assert any(j == i and h == "done" for prev in legs[:k] for j, h in prev), \
                f"leg {k + 1}: model {i} from the commons, but no earlier leg finished it"
last = {i for i, _ in legs[-1]}
assert last == set(range(n)), f"the last leg does not account for models {sorted(set(range(n)) - last)}"
per_leg = [sum(h == "done" for _, h in leg) for leg in legs]
assert all(c > 0 for c in per_leg[:1]), "the first leg finished no model before the signal"
cont = sum(1 for line in open(path) if "continued from epoch" in line)
print(f"ok: run.log: {n} models, each done once; done per leg {per_leg}, "
      f"{cont} continued from a checkpoint")
PY
check_run "$TEST_TMP/requeue" $n_models "requeued job"
# generational search is reproducible: the interrupted run must give the
# uninterrupted run's models (id, genome, epochs, stop reason, fitness)
key() { tail -n +2 "$1/results.csv" | /usr/bin/python3 -c '
import csv, sys
for r in sorted(csv.reader(sys.stdin), key=lambda r: int(r[0])):
    print(r[0], r[1], r[4], r[5], r[7])'; }
diff <(key "$TEST_TMP/single") <(key "$TEST_TMP/requeue") || fail "requeued run differs from the uninterrupted one"
echo "ok: requeued run equals the uninterrupted run"

[[ $(job_field "$array" JobState) == COMPLETED ]] || fail "array job ended $(job_field "$array" JobState)"
for b in 1e14 1e15 1e16; do
  check_run "$TEST_TMP/beam/xfel-$b" 6 "beam array task $b"
  # each task's output in its own run directory
  grep -q "beam intensity $b" "$TEST_TMP"/beam/xfel-$b/slurm-"${array}"_*.out 2>/dev/null ||
    fail "no output of the $b task in $TEST_TMP/beam/xfel-$b"
done
# different seeds per intensity: the three searches differ
[[ $(cut -d, -f2- "$TEST_TMP"/beam/xfel-1e14/results.csv | md5sum) != $(cut -d, -f2- "$TEST_TMP"/beam/xfel-1e16/results.csv | md5sum) ]] ||
  fail "beam array tasks ran the same search"
echo "PASS"
