#!/usr/bin/env bash
# a4nn run, A4NN (PENGUIN on) against plain NSGA-Net (PENGUIN off) on the same
# seed and data, measured in the same run: total epochs trained, wall time,
# best accuracy and the hypervolume of the Pareto front (100 - fitness %,
# MFLOPs; reference point 100 %, 1.1 x the largest MFLOPs of both runs).
#   1. replay backend on the reference curves: 100 models (20 + 20 x 4), 25-epoch
#      budget, 0.02 s per epoch on average, 8 workers (oversubscribed), with
#      each PENGUIN policy (front, seed, fixed:10, median, ensemble, pareto)
#      against PENGUIN off
#   2. real CPU training on the default data: the demo search (configs/default.ini)
#      with a 20-epoch budget on 512 training images, 2 workers (about 4 minutes)
# Timings on a shared machine are noisy; epochs and accuracies are not.
set -uo pipefail
cd "$(dirname "$0")/.."
A4NN=${A4NN_BUILD:-$PWD/build}/a4nn
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
TMP=$(mktemp -d /tmp/a4nn-bench-wf.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
[[ -x $A4NN ]] || { echo "b_workflow: $A4NN not built"; exit 1; }

timed() {  # name np args...
  local name=$1 np=$2; shift 2
  local t0; t0=$(date +%s.%N)
  mpirun --oversubscribe -np "$np" "$A4NN" run "$@" --run.dir="$TMP/$name" --quiet >"$TMP/$name.out" 2>&1 \
    || { cat "$TMP/$name.out"; echo "b_workflow: run $name failed"; exit 1; }
  /usr/bin/python3 -c "import sys; print(float(sys.argv[1]) - float(sys.argv[2]))" "$(date +%s.%N)" "$t0" >"$TMP/$name.wall"
}

summary() {  # title on off
  /usr/bin/python3 - "$TMP" "$@" <<'PY'
import csv, sys
tmp, title, on, off = sys.argv[1:5]
def load(n):
    rows = list(csv.DictReader(open(f"{tmp}/{n}/results.csv")))
    wall = float(open(f"{tmp}/{n}.wall").read())
    return rows, wall
def front(rows):
    pts = sorted((float(r["mflops"]), 100 - float(r["fitness"])) for r in rows)
    f, best = [], float("inf")
    for m, e in pts:
        if e < best:
            f.append((m, e)); best = e
    return f
def hv(f, ref):
    v, prev = 0.0, ref[1]
    for m, e in f:                  # MFLOPs ascending, error descending
        if m < ref[0] and e < prev:
            v += (ref[0] - m) * (prev - e); prev = e
    return v
R = {n: load(n) for n in (on, off)}
ref = (1.1 * max(float(r["mflops"]) for n in R for r in R[n][0]), 100.0)
print(f"-- {title}")
print(f"{'':28s} {'PENGUIN on':>12s} {'PENGUIN off':>12s} {'on/off':>8s}")
def line(label, a, b, fmt="{:12.2f}"):
    ratio = f"{a / b:8.3f}" if b else "       -"
    print(f"{label:28s} {fmt.format(a)} {fmt.format(b)} {ratio}")
ep = {n: sum(int(r["epochs_trained"]) for r in R[n][0]) for n in R}
line("models", len(R[on][0]), len(R[off][0]), "{:12d}")
line("total epochs trained", ep[on], ep[off], "{:12d}")
run_ = {n: sum(int(r.get("epochs_run") or r["epochs_trained"]) for r in R[n][0]) for n in R}
line("  epochs the workers ran", run_[on], run_[off], "{:12d}")   # + epochs begun before a STOP arrived
line("wall time (s)", R[on][1], R[off][1])
line("best fitness (%)", max(float(r["fitness"]) for r in R[on][0]), max(float(r["fitness"]) for r in R[off][0]))
line("best measured val acc (%)", max(float(r["last_val_acc"]) for r in R[on][0]), max(float(r["last_val_acc"]) for r in R[off][0]))
line("Pareto front size", len(front(R[on][0])), len(front(R[off][0])), "{:12d}")
line("hypervolume", hv(front(R[on][0]), ref), hv(front(R[off][0]), ref), "{:12.1f}")
print(f"epochs saved by PENGUIN: {100 * (1 - ep[on] / ep[off]):.1f} %")
PY
}

C=""
for r in "${A4NN_SHARED:-}" ../shared test/reference; do
  [[ -n $r && -r $r/data/curves/nsganet-xfel-1e16-full.csv ]] && { C=$r/data/curves/nsganet-xfel-1e16-full.csv; break; }
done
if [[ -n $C ]]; then
  rp=(configs/replay.ini --worker.replay_curves="$C" --worker.replay_epoch_seconds=0.02 --run.seed=1)
  timed replay-off 10 "${rp[@]}" --penguin=off
  for pol in front seed fixed:10 median ensemble pareto; do
    timed "replay-$pol" 10 "${rp[@]}" --penguin=on --penguin.policy=$pol
    summary "replay backend, reference curves, 100 models x 25 epochs, 8 workers, policy $pol" \
      "replay-$pol" replay-off
  done
else
  echo "-- replay: skipped (reference curves not found)"
fi

data=data/default/xfel-1e16.h5
if [[ -r $data ]]; then
  cp=(configs/default.ini --train.epochs=20 --data.train_count=512 --run.seed=1)
  timed cpu-on 4 "${cp[@]}" --penguin.enabled=on
  timed cpu-off 4 "${cp[@]}" --penguin.enabled=off
  summary "CPU training, default data ($data), 12 models x 20 epochs, 512 train images, 2 workers" cpu-on cpu-off
else
  echo "-- CPU: skipped ($data not generated: make demo or scripts/make-default-data.sh)"
fi
