#!/usr/bin/env bash
# a4nn run with the replay backend at 18 ranks (oversubscribed): every model
# evaluated exactly once, STOP honoured, the commons complete; and identical
# results with 2 and 5 workers in generational mode.
source "$(dirname "$0")/t_run_common.inc"
C=$(curves) || { echo "SKIPPED: reference curves (shared/data/curves) not found"; exit 77; }
# 0.03 s epochs: a STOP decided after a model's first epoch reaches its worker
# within the next epoch even with 18 ranks on two cores
common=(--worker.backend=replay --worker.replay_curves="$C" --worker.replay_epoch_seconds=0.03
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
# what the workers really trained: a STOP ends training at the worker's next
# check, at most one epoch after the one it was decided on
late = [r["id"] for r in conv if not int(r["epochs_trained"]) <= int(r["epochs_run"]) <= int(r["epochs_trained"]) + 1]
assert not late, ("workers went on after STOP", late)
assert sum(int(r["epochs_run"]) for r in conv) < 25 * len(conv) - len(conv)
assert all(int(r["epochs_run"]) == 25 for r in rows if r["stop_reason"] == "budget")
print("converged", len(conv), "of", len(rows))
PY
# the commons holds every model with its curve
n=$(h5ls "$TMP/big/commons.h5/models" | wc -l)
[[ $n -eq 36 ]] || fail "commons holds $n models, want 36"
h5dump -a /models/000000/stop_reason "$TMP/big/commons.h5" >/dev/null || fail "no stop_reason"
h5dump -d /models/000000/epochs "$TMP/big/commons.h5" | grep -q val_acc || fail "no epochs table"
[[ -s $TMP/big/pareto.csv && -s $TMP/big/config.ini && -s $TMP/big/run.log ]] || fail "outputs missing"
# the architecture tracker: each model of a later generation stores its
# nearest architectures among the earlier generations' models, with their
# LCS similarity and fitness as the commons has them
$PY - "$TMP/big/commons.h5" <<'PY' || fail "tracker neighbours missing or wrong in the commons"
import json, h5py, sys
def bits(g): return [b for phase in json.loads(g) for b in phase]
def lcs(x, y):
    t = [[0] * (len(y) + 1) for _ in range(len(x) + 1)]
    for i in range(len(x)):
        for j in range(len(y)):
            t[i + 1][j + 1] = t[i][j] + 1 if x[i] == y[j] else max(t[i][j + 1], t[i + 1][j])
    return t[-1][-1]
with h5py.File(sys.argv[1], "r") as f:
    models = {int(g.attrs["id"]): g for g in f["models"].values()}
    gen = lambda i: 0 if i < 12 else 1 + (i - 12) // 12   # pop_size 12, n_offspring 12
    checked = 0
    for i, g in models.items():
        nb = g["neighbours"][()]
        if gen(i) == 0:
            assert len(nb) == 0, (i, "first generation has no earlier models")
            continue
        assert len(nb) == 3, (i, len(nb))
        a = bits(g.attrs["genome"].decode() if isinstance(g.attrs["genome"], bytes) else g.attrs["genome"])
        for row in nb:
            j = int(row["id"]); o = models[j]
            assert gen(j) < gen(i), (i, j, "a neighbour must be trained before")
            b = bits(o.attrs["genome"].decode() if isinstance(o.attrs["genome"], bytes) else o.attrs["genome"])
            assert abs(row["similarity"] - lcs(a, b) / max(len(a), len(b))) < 1e-12, (i, j)
            assert row["fitness"] == o.attrs["fitness"], (i, j)
            assert int(row["hamming"]) == sum(p != q for p, q in zip(a, b)), (i, j)
        sims = [r["similarity"] for r in nb]
        assert sims == sorted(sims, reverse=True), (i, sims)
        checked += 1
    assert checked == 24, checked
PY

# 2 workers vs 5 workers: identical results
run 4 "$A4NN" run configs/replay.ini "${common[@]}" --run.dir="$TMP/w2" --quiet || fail "2-worker run"
run 7 "$A4NN" run configs/replay.ini "${common[@]}" --run.dir="$TMP/w5" --quiet || fail "5-worker run"
diff <(stable_results "$TMP/w2/results.csv") <(stable_results "$TMP/w5/results.csv") \
  || fail "results differ between 2 and 5 workers"
diff <(stable_results "$TMP/w2/results.csv") <(stable_results "$TMP/big/results.csv") \
  || fail "results differ between 2 workers and 15 workers with 2 analytics ranks"
cmp "$TMP/w2/pareto.csv" "$TMP/w5/pareto.csv" || fail "Pareto fronts differ"
neighbours() {
  $PY -c 'import h5py, sys
with h5py.File(sys.argv[1], "r") as f:
    for k in sorted(f["models"]): print(k, f["models"][k]["neighbours"][()].tolist())' "$1"
}
diff <(neighbours "$TMP/w2/commons.h5") <(neighbours "$TMP/w5/commons.h5") \
  || fail "tracker neighbours differ between 2 and 5 workers"
# the pareto policy decides against the current front: with 2 or 5 workers the
# front each model sees is that of the generations before it
for w in 2 5; do
  run $((w + 2)) "$A4NN" run configs/replay.ini "${common[@]}" --penguin.policy=pareto \
    --run.dir="$TMP/p$w" --quiet || fail "pareto run with $w workers"
done
diff <(stable_results "$TMP/p2/results.csv") <(stable_results "$TMP/p5/results.csv") \
  || fail "pareto-policy results differ between 2 and 5 workers"
grep -q ',converged,' "$TMP/p2/results.csv" || fail "the pareto policy stopped no model"
# a search where PENGUIN stopped nothing says why in its summary (here 4
# models: fewer than calibrate_after, so the front policy never calibrates);
# one where it stopped models does not
run 4 "$A4NN" run configs/replay.ini "${common[@]}" --search.pop_size=4 --search.n_gens=0 \
  --run.dir="$TMP/few" --quiet || fail "4-model replay run failed"
grep -q "(0.0 % saved)" "$TMP/few/run.log" || fail "the 4-model run saved epochs"
grep -q "PENGUIN (front) stopped no model: it stops none until 5 models" "$TMP/few/run.log" \
  || fail "no explanation of the zero savings in run.log"
grep -q "stopped no model" "$TMP/w2/run.log" && fail "explanation printed although models stopped"
# --penguin=off: plain NSGA-Net, every model trains its whole budget
run 4 "$A4NN" run configs/replay.ini "${common[@]}" --penguin=off --run.dir="$TMP/off" --quiet \
  || fail "--penguin=off run failed"
$PY - "$TMP/off/results.csv" <<'PY' || fail "--penguin=off stopped a model"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 36 and all(r["stop_reason"] == "budget" and r["epochs_trained"] == "25" for r in rows)
PY
# async (steady-state) mode: every model once, no worker left idle waiting
# for a generation barrier
run 8 "$A4NN" run configs/replay.ini "${common[@]}" --run.mode=async --run.dir="$TMP/async" --quiet \
  || fail "async run failed"
check_once "$TMP/async/results.csv" 36
grep -q "async search of 36 models" "$TMP/async/run.log" || fail "async mode not reported"
echo "ok: 36 models once each, identical with 2, 5 and 15 workers; async mode"
