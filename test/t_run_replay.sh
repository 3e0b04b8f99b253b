#!/usr/bin/env bash
# a4nn run with the replay backend at 18 ranks (oversubscribed): every model
# evaluated exactly once, STOP honoured, the commons complete; and identical
# results with 2 and 5 workers in generational mode.
source "$(dirname "$0")/t_run_common.inc"
C=$(curves) || { echo "SKIPPED: reference curves (shared/data/curves) not found"; exit 77; }
common=(--worker.backend=replay --worker.replay_curves="$C" --worker.replay_epoch_seconds=0.01
        --search.pop_size=12 --search.n_offspring=12 --search.n_gens=2 --train.epochs=25 --run.seed=7)

run 18 "$A4NN" run configs/replay.ini "${common[@]}" --analytics.ranks=2 --run.dir="$TMP/big" --quiet \
  || fail "18-rank replay run failed"
check_once "$TMP/big/results.csv" 36
$PY - "$TMP/big/results.csv" <<'PY' || fail "STOP not honoured"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
conv = [r for r in rows if r["stop_reason"] == "converged"]
assert conv, "no model converged"
assert all(int(r["epochs_trained"]) < 25 for r in conv), "a converged model used its budget"
assert all(int(r["epochs_trained"]) == 25 for r in rows if r["stop_reason"] == "budget")
assert all(r["predicted_fitness"] != "" for r in conv)
print("converged", len(conv), "of", len(rows))
PY
# the commons holds every model with its curve
n=$(h5ls "$TMP/big/commons.h5/models" | wc -l)
[[ $n -eq 36 ]] || fail "commons holds $n models, want 36"
h5dump -a /models/000000/stop_reason "$TMP/big/commons.h5" >/dev/null || fail "no stop_reason"
h5dump -d /models/000000/epochs "$TMP/big/commons.h5" | grep -q val_acc || fail "no epochs table"
[[ -s $TMP/big/pareto.csv && -s $TMP/big/config.ini && -s $TMP/big/run.log ]] || fail "outputs missing"

# 2 workers vs 5 workers: identical results
run 4 "$A4NN" run configs/replay.ini "${common[@]}" --run.dir="$TMP/w2" --quiet || fail "2-worker run"
run 7 "$A4NN" run configs/replay.ini "${common[@]}" --run.dir="$TMP/w5" --quiet || fail "5-worker run"
diff <(stable_results "$TMP/w2/results.csv") <(stable_results "$TMP/w5/results.csv") \
  || fail "results differ between 2 and 5 workers"
diff <(stable_results "$TMP/w2/results.csv") <(stable_results "$TMP/big/results.csv") \
  || fail "results differ between 2 workers and 15 workers with 2 analytics ranks"
cmp "$TMP/w2/pareto.csv" "$TMP/w5/pareto.csv" || fail "Pareto fronts differ"
# async (steady-state) mode: every model once, no worker left idle waiting
# for a generation barrier
run 8 "$A4NN" run configs/replay.ini "${common[@]}" --run.mode=async --run.dir="$TMP/async" --quiet \
  || fail "async run failed"
check_once "$TMP/async/results.csv" 36
grep -q "async search of 36 models" "$TMP/async/run.log" || fail "async mode not reported"
echo "ok: 36 models once each, identical with 2, 5 and 15 workers; async mode"
