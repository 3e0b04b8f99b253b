#!/usr/bin/env bash
# a4nn-scalesim drives the search's own strategy objects and scheduling loop:
# in simulated time it makes the same models, in the same order, with the
# same genomes, epochs and fitness as a real `a4nn run --worker.backend=replay`
# with the same configuration and seed (generational with 3 workers; async
# with 1 worker, where the order does not depend on timing).
source "$(dirname "$0")/t_run_common.inc"
C=$(curves) || { echo "SKIPPED: reference curves (shared/data/curves) not found"; exit 77; }
SIM=${A4NN_BUILD:-$PWD/build}/a4nn-scalesim
[[ -x $SIM ]] || fail "$SIM not built"
common=(configs/replay.ini --worker.replay_curves="$C" --worker.replay_epoch_seconds=0.002
        --search.pop_size=8 --search.n_offspring=6 --search.n_gens=3 --train.epochs=25
        --penguin.policy=seed --run.seed=5 --quiet)

same_order() {  # run dir, trace
  $PY - "$1/results.csv" "$2" <<'PY' || fail "scalesim and the run made different models ($1)"
import csv, sys
run = {int(r["id"]): r for r in csv.DictReader(open(sys.argv[1]))}
sim = {int(r["model"]): r for r in csv.DictReader(open(sys.argv[2]))}
assert sorted(run) == sorted(sim) == list(range(len(run))), (sorted(run), sorted(sim))
for i in range(len(run)):
    a, b = run[i], sim[i]
    assert a["genome"] == b["genome"], (i, a["genome"], b["genome"])
    assert int(a["epochs_trained"]) == int(b["epochs_trained"]), (i, a["epochs_trained"], b["epochs_trained"])
    assert abs(float(a["fitness"]) - float(b["fitness"])) < 1e-6, (i, a["fitness"], b["fitness"])
    assert abs(float(a["mflops"]) - float(b["mflops"])) < 1e-6, (i, a["mflops"], b["mflops"])
print(len(run), "models: same ids, genomes, epochs and fitness")
PY
}

run 5 "$A4NN" run "${common[@]}" --run.dir="$TMP/gen" || fail "generational run failed"
"$SIM" --config "$TMP/gen/config.ini" --workers 3 --trace "$TMP/gen.trace" --csv "$TMP/gen.csv" \
  2>"$TMP/sim.err" || { cat "$TMP/sim.err"; fail "scalesim (generational) failed"; }
same_order "$TMP/gen" "$TMP/gen.trace"

run 3 "$A4NN" run "${common[@]}" --run.mode=async --run.dir="$TMP/async" || fail "async run failed"
"$SIM" --config "$TMP/async/config.ini" --workers 1 --trace "$TMP/async.trace" --csv "$TMP/async.csv" \
  2>"$TMP/sim.err" || { cat "$TMP/sim.err"; fail "scalesim (async) failed"; }
same_order "$TMP/async" "$TMP/async.trace"
echo "ok: scalesim reproduces the model order of the real search"
