#!/usr/bin/env bash
# Reliability: kill -9 of the whole job mid-run, then --resume, ends with the
# same results as an uninterrupted run; SIGTERM stops every rank with exit
# status 75 and a resume hint, and --resume finishes the search identically.
source "$(dirname "$0")/t_run_common.inc"
C=$(curves) || { echo "SKIPPED: reference curves (shared/data/curves) not found"; exit 77; }
common=(configs/replay.ini --worker.backend=replay --worker.replay_curves="$C"
        --worker.replay_epoch_seconds=0.02 --search.pop_size=8 --search.n_offspring=8
        --search.n_gens=2 --train.epochs=25 --run.seed=11 --quiet)

run 5 "$A4NN" run "${common[@]}" --run.dir="$TMP/ref" || fail "reference run failed"

rows() { [[ -f $1/results.csv ]] && echo $(( $(wc -l <"$1/results.csv") - 1 )) || echo 0; }
wait_rows() {  # dir n pid
  for _ in $(seq 1 600); do
    [[ $(rows "$1") -ge $2 ]] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# ---- kill -9 mid-run ----
mpirun --oversubscribe -np 5 "$A4NN" run "${common[@]}" --run.dir="$TMP/k9" & pid=$!
wait_rows "$TMP/k9" 10 $pid || fail "run did not reach 10 models"
kids=$(pgrep -P $pid)
kill -9 $kids $pid 2>/dev/null; wait $pid 2>/dev/null
for k in $kids; do while kill -0 "$k" 2>/dev/null; do sleep 0.05; done; done
done_before=$(rows "$TMP/k9")
h5dump -H "$TMP/k9/commons.h5" >/dev/null || fail "h5dump cannot read the commons after kill -9"
echo "killed after $done_before models"
[[ $done_before -lt 24 ]] || fail "run finished before the kill"
run 4 "$A4NN" run --resume "$TMP/k9" --quiet || fail "resume after kill -9 failed"
check_once "$TMP/k9/results.csv" 24
diff <(stable_results "$TMP/ref/results.csv") <(stable_results "$TMP/k9/results.csv") \
  || fail "resumed results differ from the uninterrupted run"
reused=$(grep -c "(from the commons)" "$TMP/k9/run.log")
# every model in results.csv was in the commons (journal) first
[[ $reused -ge $done_before ]] || fail "$reused models reused from the commons, want all $done_before finished ones"

# ---- one worker rank dies: the job ends, nothing written is lost ----
mpirun --oversubscribe -np 5 "$A4NN" run "${common[@]}" --run.dir="$TMP/dead" >"$TMP/dead.out" 2>&1 & pid=$!
wait_rows "$TMP/dead" 6 $pid || fail "run did not reach 6 models"
for k in $(pgrep -P $pid); do
  [[ $(tr '\0' '\n' </proc/$k/environ | sed -n 's/^OMPI_COMM_WORLD_RANK=//p') == 2 ]] && kill -9 "$k"
done
wait $pid; rc=$?
[[ $rc -ne 0 ]] || fail "the job went on after a worker died"
grep -q "rank 2" "$TMP/dead.out" || { cat "$TMP/dead.out"; fail "no message naming the dead rank"; }
n=$(rows "$TMP/dead"); [[ $n -ge 6 && $n -lt 24 ]] || fail "$n models after the worker died"
run 5 "$A4NN" run --resume "$TMP/dead" --quiet || fail "resume after a dead worker failed"
diff <(stable_results "$TMP/ref/results.csv") <(stable_results "$TMP/dead/results.csv") \
  || fail "results after a dead worker + resume differ"

# ---- SIGTERM to every rank (as Slurm does) ----
mpirun --oversubscribe -np 5 "$A4NN" run "${common[@]}" --run.dir="$TMP/term" 2>"$TMP/term.err" & pid=$!
wait_rows "$TMP/term" 6 $pid || fail "run did not reach 6 models"
pkill -TERM -P $pid
wait $pid; rc=$?
cat "$TMP/term.err"
[[ $rc -eq 75 ]] || fail "an interrupted run exited $rc, want 75"
grep -q -- "--resume $TMP/term" "$TMP/term.err" || fail "no resume hint"
n=$(rows "$TMP/term"); [[ $n -lt 24 ]] || fail "run finished before SIGTERM"
ls "$TMP/term/checkpoints" | grep -q ckpt || fail "no checkpoints written"
run 5 "$A4NN" run --resume "$TMP/term" --quiet || fail "resume after SIGTERM failed"
diff <(stable_results "$TMP/ref/results.csv") <(stable_results "$TMP/term/results.csv") \
  || fail "results after SIGTERM + resume differ"
echo "ok: kill -9 and SIGTERM runs resume to the uninterrupted results"

# ---- asynchronous mode: SIGTERM, then resume ----
# Unfinished models are sent again under their own ids and genomes and
# continue from their checkpoints; every model's curve in the commons is the
# one recorded for its genome (no checkpoint of another genome is loaded).
# The seed policy lets models train several epochs, so that some are in
# flight with a checkpoint when SIGTERM comes (the front policy stops most
# models after their first epoch).
async=("${common[@]}" --run.mode=async --worker.replay_epoch_seconds=0.03 --penguin.policy=seed)
mpirun --oversubscribe -np 6 "$A4NN" run "${async[@]}" --run.dir="$TMP/async" 2>"$TMP/async.err" & pid=$!
wait_rows "$TMP/async" 5 $pid || fail "async run did not reach 5 models"
pkill -TERM -P $pid
wait $pid; rc=$?
[[ $rc -eq 75 ]] || { cat "$TMP/async.err"; fail "interrupted async run exited $rc, want 75"; }
n=$(rows "$TMP/async"); [[ $n -lt 24 ]] || fail "async run finished before SIGTERM"
run 6 "$A4NN" run --resume "$TMP/async" --quiet || fail "async resume failed"
check_once "$TMP/async/results.csv" 24
grep -q "continued from epoch" "$TMP/async/run.log" || fail "no model continued from its checkpoint"
$PY - "$TMP/async/commons.h5" "$C" <<'PY' || fail "a resumed model does not carry its own curve"
import csv, sys, h5py
curves, cur = [], None
for r in csv.DictReader(open(sys.argv[2])):
    if r["epoch"] == "0":
        cur = {"genome": r["genome"], "val": []}; curves.append(cur)
    cur["val"].append(float(r["val_accs"]))
def fnv1a(s):
    h = 1469598103934665603
    for b in s.encode():
        h = ((h ^ b) * 1099511628211) & (2**64 - 1)
    return h
by_genome = {}
for c in curves:
    by_genome.setdefault(c["genome"], c)
with h5py.File(sys.argv[1], "r") as f:
    for name, g in f["models"].items():
        genome = g.attrs["genome"].decode() if isinstance(g.attrs["genome"], bytes) else str(g.attrs["genome"])
        want = by_genome.get(genome) or curves[fnv1a(genome) % len(curves)]
        got = list(g["epochs"]["val_acc"])
        assert got == want["val"][:len(got)], (name, genome, got[:5], want["val"][:5])
print("every model carries its genome's curve")
PY
echo "ok: async SIGTERM + resume keeps every model's own curve"
