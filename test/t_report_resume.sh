#!/usr/bin/env bash
# Report of a real replay-backend run that was stopped with SIGTERM and
# resumed: every model appears once, the report's numbers equal the run's
# results.csv and pareto.csv, and they equal those of an uninterrupted run
# with the same seed (generational mode).
set -uo pipefail
cd "$(dirname "$0")/.."
A4NN=${A4NN_BUILD:-$PWD/build}/a4nn
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
fail() { echo "FAIL: $*"; exit 1; }
[[ -x $A4NN ]] || fail "$A4NN not built"
"$A4NN" --help | grep -q '^  run ' || { echo "SKIPPED: this a4nn has no run command"; exit 77; }
[[ -f configs/replay.ini ]] || { echo "SKIPPED: configs/replay.ini not found"; exit 77; }
C=
for r in "${A4NN_SHARED:-}" ../shared ../../shared; do
  [[ -n $r && -r $r/data/curves/nsganet-xfel-1e16-full.csv ]] && { C=$r/data/curves/nsganet-xfel-1e16-full.csv; break; }
done
[[ -n $C ]] || { echo "SKIPPED: reference curves (shared/data/curves) not found"; exit 77; }
TMP=$(mktemp -d /tmp/a4nn-report-resume.XXXXXX); trap 'rm -rf "$TMP"' EXIT

common=(configs/replay.ini --worker.backend=replay --worker.replay_curves="$C"
        --worker.replay_epoch_seconds=0.02 --search.pop_size=8 --search.n_offspring=8
        --search.n_gens=2 --train.epochs=25 --run.seed=5 --run.mode=generational --quiet)
mpirun --oversubscribe -np 5 "$A4NN" run "${common[@]}" --run.dir="$TMP/ref" >"$TMP/ref.out" 2>&1 \
  || { cat "$TMP/ref.out"; fail "reference run failed"; }

rows() { [[ -f $1/results.csv ]] && echo $(( $(wc -l <"$1/results.csv") - 1 )) || echo 0; }
mpirun --oversubscribe -np 5 "$A4NN" run "${common[@]}" --run.dir="$TMP/term" >"$TMP/term.out" 2>&1 & pid=$!
for _ in $(seq 1 600); do
  [[ $(rows "$TMP/term") -ge 6 ]] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
pkill -TERM -P $pid
wait $pid; rc=$?
stopped=$(rows "$TMP/term")
echo "stopped after $stopped models (exit $rc)"
[[ $rc -ne 0 && $stopped -lt 24 ]] || fail "the run was not interrupted (exit $rc, $stopped models)"
# a report of the interrupted run works too
"$A4NN" report "$TMP/term" -o "$TMP/partial.html" >"$TMP/partial.txt" || fail "report of the stopped run failed"
grep -q "models $stopped," "$TMP/partial.txt" || { cat "$TMP/partial.txt"; fail "stopped run: wrong model count"; }
mpirun --oversubscribe -np 5 "$A4NN" run --resume "$TMP/term" --quiet >"$TMP/resume.out" 2>&1 \
  || { cat "$TMP/resume.out"; fail "resume failed"; }

"$A4NN" report "$TMP/ref" "$TMP/term" -o "$TMP/r.html" >"$TMP/summary.txt" || fail "report failed"
cat "$TMP/summary.txt"
"$A4NN" export "$TMP/term" --format csv -o "$TMP/term.csv" || fail "export failed"
$PY - "$TMP" <<'PYEOF' || fail "report numbers differ"
import sys, re, json, csv
tmp = sys.argv[1]
D = json.loads(re.search(r'id="a4nn-data">(.*?)</script>', open(tmp + "/r.html").read(), re.S).group(1))
ref, term = D["runs"]
for run, d in ((ref, "ref"), (term, "term")):
    res = list(csv.DictReader(open("%s/%s/results.csv" % (tmp, d))))
    ids = [m["id"] for m in run["models"]]
    assert ids == sorted(set(ids)) == sorted(int(r["id"]) for r in res), (d, ids)
    by = {m["id"]: m for m in run["models"]}
    for r in res:
        m = by[int(r["id"])]
        assert abs(m["fitness"] - float(r["fitness"])) < 5e-6, (d, r["id"], m["fitness"], r["fitness"])
        assert abs(m["mflops"] - float(r["mflops"])) < 5e-6, (d, r["id"])
        assert m["epochs_trained"] == int(r["epochs_trained"]) == len(m["epochs"]["epoch"]), (d, r["id"])
        assert m["epochs"]["epoch"] == list(range(m["epochs_trained"])), (d, r["id"], m["epochs"]["epoch"])
        assert m["stop_reason"] == r["stop_reason"] and m["genome"] == r["genome"], (d, r["id"])
    front = sorted(int(r["id"]) for r in csv.DictReader(open("%s/%s/pareto.csv" % (tmp, d))))
    mine = sorted(m["id"] for m in run["models"] if m["on_front"])
    assert front == mine, (d, front, mine)
    assert run["summary"]["epochs_used"] == sum(int(r["epochs_trained"]) for r in res)
# stopped + resumed gives the uninterrupted run's numbers
key = lambda m: (m["id"], m["genome"], m["mflops"], m["fitness"], m["epochs_trained"], m["epochs"]["val_acc"])
assert [key(m) for m in ref["models"]] == [key(m) for m in term["models"]], "resumed run differs"
for k in ("epochs_used", "front_size", "hypervolume", "best_accuracy"):
    assert ref["summary"][k] == term["summary"][k], k
rows = list(csv.DictReader(open(tmp + "/term.csv")))
assert len(rows) == term["summary"]["epochs_used"]
print("resumed run: %d models, report matches results.csv, pareto.csv and the uninterrupted run" % len(term["models"]))
PYEOF
echo "ok"
