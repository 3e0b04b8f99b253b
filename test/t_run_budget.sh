#!/usr/bin/env bash
# Compute-budget search (search.budget_epochs): the search ends when the
# epochs are spent instead of after n_gens; at most one epoch budget per
# worker more is trained (the models in flight finish, results.csv marks
# them); with PENGUIN the epochs it saves become more evaluated models; in
# both modes; and a resumed budget run ends as the uninterrupted one.
source "$(dirname "$0")/t_run_common.inc"
C=$(curves) || { echo "SKIPPED: reference curves (shared/data/curves) not found"; exit 77; }
common=(configs/replay.ini --worker.replay_curves="$C" --worker.replay_epoch_seconds=0.003
        --search.pop_size=8 --search.n_offspring=4 --search.n_gens=1 --train.epochs=25
        --penguin.policy=seed --search.budget_epochs=400 --run.seed=9 --quiet)

check() {  # dir workers budget: prints the model count
  $PY - "$1/results.csv" "$2" "$3" <<'PY' || fail "budget not kept in $1"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
w, budget = int(sys.argv[2]), int(sys.argv[3])
spent = sum(int(r["epochs_trained"]) for r in rows)
assert budget <= spent <= budget + w * 25, (spent, budget, w)
assert sorted(int(r["id"]) for r in rows) == list(range(len(rows)))
late = [r for r in rows if r["after_budget"] == "1"]
assert len(late) <= w, ("more models in flight at the end than workers", len(late))
assert sum(int(r["epochs_trained"]) for r in rows if r["after_budget"] == "0") < budget + 25
print(len(rows))
PY
}

run 4 "$A4NN" run "${common[@]}" --penguin=off --run.dir="$TMP/off" || fail "budget run (PENGUIN off) failed"
run 4 "$A4NN" run "${common[@]}" --run.dir="$TMP/on" || fail "budget run (PENGUIN on) failed"
off=$(check "$TMP/off" 2 400) || exit 1
on=$(check "$TMP/on" 2 400) || exit 1
echo "generational, 400 epochs: $off models with PENGUIN off, $on with PENGUIN on"
[[ $off -eq 16 ]] || fail "PENGUIN off: $off models, want 400/25 = 16"
[[ $on -gt $off ]] || fail "PENGUIN on evaluated $on models, not more than $off"
grep -q "compute budget" "$TMP/on/run.log" || fail "no budget in the summary"

run 4 "$A4NN" run "${common[@]}" --run.mode=async --run.dir="$TMP/async" || fail "async budget run failed"
n=$(check "$TMP/async" 2 400) || exit 1
echo "async, 400 epochs: $n models"

# interrupted (SIGTERM once 10 models are done) and resumed: the models of
# the uninterrupted run
rows() { [[ -f $1/results.csv ]] && echo $(( $(wc -l <"$1/results.csv") - 1 )) || echo 0; }
mpirun --oversubscribe -np 4 "$A4NN" run "${common[@]}" --worker.replay_epoch_seconds=0.01 \
  --run.dir="$TMP/resumed" 2>"$TMP/err" & pid=$!
for _ in $(seq 1 1200); do [[ $(rows "$TMP/resumed") -ge 10 ]] && break; sleep 0.05; done
pkill -TERM -P $pid
wait $pid; rc=$?
[[ $rc -eq 75 ]] || { cat "$TMP/err"; fail "interrupted budget run exited $rc, want 75"; }
n=$(rows "$TMP/resumed"); echo "interrupted after $n models"
[[ $n -lt $on ]] || fail "the budget run finished before SIGTERM"
run 4 "$A4NN" run --resume "$TMP/resumed" --quiet || fail "resume of the budget run failed"
diff <(stable_results "$TMP/on/results.csv") <(stable_results "$TMP/resumed/results.csv") \
  || fail "the resumed budget run differs from the uninterrupted one"
echo "ok: compute budget kept, PENGUIN buys more models, resume reproduces the run"
