#!/usr/bin/env bash
# a4nn run end to end on 4 ranks with the CPU backend: real training on the
# tiny default data (generated first when absent), commons, checkpoints, CSV
# outputs.
source "$(dirname "$0")/t_run_common.inc"
data=data/default/xfel-1e16.h5
A4NN_BUILD=$(dirname "$A4NN") scripts/make-default-data.sh >"$TMP/data.log" 2>&1 \
  || { cat "$TMP/data.log"; fail "cannot generate the default data"; }
src=(--data.file="$data")
run 4 "$A4NN" run configs/default.ini "${src[@]}" --search.pop_size=3 --search.n_offspring=2 \
  --search.n_gens=1 --train.epochs=3 --data.train_count=256 --data.val_count=128 \
  --search.init_channels=4 --train.batch=64 --run.dir="$TMP/cpu" >"$TMP/out" 2>&1 \
  || { cat "$TMP/out"; fail "4-rank CPU run failed"; }
cat "$TMP/out"
check_once "$TMP/cpu/results.csv" 5
grep -q "Pareto front" "$TMP/out" || fail "no Pareto front printed"
grep -q " 5/5\] model" "$TMP/out" || fail "no progress line for the last model"
$PY - "$TMP/cpu/results.csv" <<'PY' || fail "implausible results"
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    assert int(r["epochs_trained"]) == 3 and r["stop_reason"] == "budget", r
    assert 0 <= float(r["last_val_acc"]) <= 100 and float(r["mflops"]) > 0 and int(r["params"]) > 0, r
    assert float(r["seconds"]) > 0, r
PY
[[ $(ls "$TMP/cpu/checkpoints" | grep -c ckpt) -eq 5 ]] || fail "want one checkpoint per model"
h5dump -d /models/000004/epochs "$TMP/cpu/commons.h5" | grep -q train_acc || fail "no epochs table"
h5dump -a /config "$TMP/cpu/commons.h5" | grep -q "init_channels = 4" || fail "no config text"
[[ $(tail -n +2 "$TMP/cpu/pareto.csv" | wc -l) -ge 1 ]] || fail "empty pareto.csv"
echo "ok: CPU search of 5 models on 4 ranks"

# SIGTERM while a model trains, then --resume: the interrupted model restarts
# from its last epoch checkpoint (trainer state) and the results equal the
# uninterrupted run's.
interrupt_and_resume 4 5 "$TMP/term" configs/default.ini "${src[@]}" --search.pop_size=3 \
  --search.n_offspring=2 --search.n_gens=1 --train.epochs=3 --data.train_count=256 \
  --data.val_count=128 --search.init_channels=4 --train.batch=64
diff <(stable_results "$TMP/cpu/results.csv") <(stable_results "$TMP/term/results.csv") \
  || fail "resumed CPU results differ from the uninterrupted run"
echo "ok: SIGTERM + resume reproduces the CPU run"
