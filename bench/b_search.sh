#!/usr/bin/env bash
# Compute-budget search: at an equal epoch budget (search.budget_epochs),
# PENGUIN off against the seed policy and the front policy (the default).
# Saved epochs become more evaluated models; what counts is the final front,
# judged on fully trained accuracies:
#   models      models evaluated            epochs   epochs trained
#   best        best fully trained accuracy among the run's Pareto front
#   HV          hypervolume of the run's Pareto front (chosen by the run's
#               fitness) measured at the models' fully trained accuracies
#               (error 100 - final, MFLOPs; reference 100 %, 1.1 x the
#               largest MFLOPs of the runs compared)
#   regret      front regret (README "PENGUIN") of the run's front against
#               the true front of the models it evaluated
#   (a) replay backend on every learning-curve file at hand: each model's
#       fully trained accuracy is the last epoch of the curve it replays;
#       budget 2,500 epochs (100 models x 25 with PENGUIN off), 4 workers
#   (b) real CPU training on the default data (32x32, 256 training and 256
#       validation images, init_channels 8, a 10-epoch budget, 2 workers),
#       budget 120 epochs: front models that PENGUIN stopped are trained to
#       the budget afterwards (a4nn train, same images) to measure them
# Ratios are against PENGUIN off in the same run; the machine is shared, so
# wall times are left out: epochs and accuracies are what compare.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${A4NN_BUILD:-$PWD/build}
A4NN=$B/a4nn
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
TMP=$(mktemp -d /tmp/a4nn-bench-search.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
[[ -x $A4NN ]] || { echo "b_search: $A4NN not built"; exit 1; }
POLICIES=(off seed front)

run() {  # name np args...
  local name=$1 np=$2; shift 2
  nice -n 10 mpirun --oversubscribe -np "$np" "$A4NN" run "$@" --run.dir="$TMP/$name" --quiet \
    >"$TMP/$name.out" 2>&1 || { tail -5 "$TMP/$name.out"; echo "b_search: run $name failed"; return 1; }
}

# table TITLE FINALS_KIND PREFIX: one line per policy from $TMP/PREFIX-<policy>
# (FINALS_KIND: a curve file, or "cpu" for $TMP/PREFIX-<policy>.finals)
table() {
  /usr/bin/python3 - "$TMP" "$@" "${POLICIES[@]}" <<'PY'
import csv, json, os, sys
tmp, title, kind, prefix, *pols = sys.argv[1:]
def pick_table(path):
    # a4nn_curves_pick: the curve of that very genome, else FNV-1a of its text
    curves, cur = [], None
    for r in csv.DictReader(open(path)):
        if int(r["epoch"]) == 0:
            cur = {"genome": r["genome"], "acc": []}
            curves.append(cur)
        cur["acc"].append(float(r["val_accs"]))
    by = {}
    for i, c in enumerate(curves):
        by.setdefault(c["genome"], i)
    def final(genome):
        i = by.get(genome)
        if i is None:
            h = 1469598103934665603
            for ch in genome.encode():
                h = ((h ^ ch) * 1099511628211) % (1 << 64)
            i = h % len(curves)
        return curves[i]["acc"][-1]
    return final
runs = {}
for p in pols:
    rows = list(csv.DictReader(open(f"{tmp}/{prefix}-{p}/results.csv")))
    if kind == "cpu":
        fin = json.load(open(f"{tmp}/{prefix}-{p}.finals"))
        for r in rows:
            r["final"] = fin[r["id"]]
    else:
        final = pick_table(kind)
        for r in rows:
            r["final"] = final(r["genome"])
    runs[p] = rows
def nondom(rows, key):
    out = []
    for r in rows:
        if not any(float(s["mflops"]) <= float(r["mflops"]) and s[key] >= r[key] and
                   (float(s["mflops"]) < float(r["mflops"]) or s[key] > r[key]) for s in rows):
            out.append(r)
    return out
ref = 1.1 * max(float(r["mflops"]) for rows in runs.values() for r in rows)
def hv(front):
    pts = sorted((float(r["mflops"]), 100 - r["final"]) for r in front)
    v, prev = 0.0, 100.0
    for m, e in pts:
        if e < prev:
            v += (ref - m) * (prev - e)
            prev = e
    return v
def regret(rows, front):
    worst = 0.0
    for t in nondom(rows, "final"):
        got = [s["final"] for s in front if float(s["mflops"]) <= float(t["mflops"])]
        worst = max(worst, t["final"] - max(got) if got else 50.0)
    return worst
print(f"-- {title}")
print(f"{'policy':8s} {'models':>7s} {'epochs':>7s} {'best %':>8s} {'HV':>10s} {'regret':>7s}"
      f" {'models/off':>10s} {'HV/off':>7s}")
base = None
for p in pols:
    rows = runs[p]
    for r in rows:
        r["fit"] = float(r["fitness"])
    front = nondom(rows, "fit")
    m, ep = len(rows), sum(int(r["epochs_trained"]) for r in rows)
    best, h, g = max(r["final"] for r in front), hv(front), regret(rows, front)
    if base is None:
        base = (m, h)
    print(f"{p:8s} {m:7d} {ep:7d} {best:8.2f} {h:10.1f} {g:7.2f} {m / base[0]:10.2f} "
          f"{(h / base[1] if base[1] else 0):7.3f}")
PY
}

# ---- (a) replay ----
source bench/curve_files.inc
curve_files
k=0
for f in "${files[@]}"; do
  k=$((k + 1))
  ok=1
  for p in "${POLICIES[@]}"; do
    pen=(--penguin=on --penguin.policy="$p")
    [[ $p == off ]] && pen=(--penguin=off)
    run "r$k-$p" 6 configs/replay.ini --worker.replay_curves="$f" --worker.replay_epoch_seconds=0.002 \
      --search.pop_size=20 --search.n_offspring=20 --search.n_gens=100 --search.budget_epochs=2500 \
      --run.seed=1 "${pen[@]}" || ok=0
  done
  [[ $ok == 1 ]] && table "(a) replay of $(basename "$f"), budget 2500 epochs, 4 workers" "$f" "r$k"
done
echo "(a4nn run configs/replay.ini --worker.replay_curves=FILE --search.budget_epochs=2500 --search.n_gens=100 --penguin.policy=P | --penguin=off; np 6)"

# ---- (b) real CPU training ----
data=data/default/xfel-1e16.h5
if [[ -r $data ]] && /usr/bin/python3 -c 'import h5py' 2>/dev/null; then
  # the very images the runs use (the first 256 of each split), for a4nn train
  /usr/bin/python3 - "$data" "$TMP/subset.h5" <<'PY'
import h5py, sys
with h5py.File(sys.argv[1], "r") as s, h5py.File(sys.argv[2], "w") as d:
    for k, v in s.attrs.items():
        d.attrs[k] = v
    for g in ("train", "test"):
        dg = d.create_group(g)
        for k, v in s[g].attrs.items():
            dg.attrs[k] = v
        for name, ds in s[g].items():
            dg.create_dataset(name, data=ds[:256])
PY
  cp=(configs/default.ini --data.file="$data" --data.train_count=256 --data.val_count=256
      --train.epochs=10 --search.pop_size=6 --search.n_offspring=3 --search.n_gens=100
      --search.budget_epochs=120 --run.seed=3)
  ok=1
  for p in "${POLICIES[@]}"; do
    pen=(--penguin=on --penguin.policy="$p")
    [[ $p == off ]] && pen=(--penguin=off)
    run "cpu-$p" 4 "${cp[@]}" "${pen[@]}" || { ok=0; continue; }
    # fully trained accuracy: the last epoch for models trained to the budget,
    # a4nn train to the budget for the front models PENGUIN stopped
    /usr/bin/python3 - "$TMP/cpu-$p/results.csv" "$A4NN" "$TMP/subset.h5" >"$TMP/cpu-$p.finals" <<'PY'
import csv, json, subprocess, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def dom(s, r):
    a, b = (float(s["mflops"]), -float(s["fitness"])), (float(r["mflops"]), -float(r["fitness"]))
    return a[0] <= b[0] and a[1] <= b[1] and a != b
front = {r["id"] for r in rows if not any(dom(s, r) for s in rows)}
fin = {}
for r in rows:
    if int(r["epochs_trained"]) >= 10:
        fin[r["id"]] = float(r["last_val_acc"])
    elif r["id"] in front:
        out = subprocess.run(["nice", "-n", "10", sys.argv[2], "train", "--genome", r["genome"],
                              "--data", sys.argv[3], "--epochs", "10", "--batch", "128",
                              "--init-channels", "8", "--threads", "1", "--backend", "cpu",
                              "--seed", str(1 + int(r["id"])), "--csv"],
                             capture_output=True, text=True, check=True).stdout.split("\n")
        fin[r["id"]] = float([l for l in out if l and l[0].isdigit()][-1].split(",")[2])
    else:
        fin[r["id"]] = float(r["last_val_acc"])  # off the front: what it reached
print(json.dumps(fin))
PY
  done
  [[ $ok == 1 ]] && table "(b) CPU training, $data (256 + 256 images), budget 120 epochs (12 models x 10 with PENGUIN off), 2 workers" cpu cpu
  echo "(a4nn run configs/default.ini --data.train_count=256 --data.val_count=256 --train.epochs=10 --search.budget_epochs=120 --penguin.policy=P | --penguin=off; np 4)"
else
  echo "-- (b) CPU: skipped ($data or python3-h5py missing: scripts/make-default-data.sh)"
fi
