#!/usr/bin/env bash
# tools/scalesim (a4nn-scalesim): a small simulated scaling study on the
# reference curves. Checks the table's bookkeeping (models = pop * (gens + 1),
# epochs within the budget, utilisation = busy / (workers * time)), that async
# keeps workers busier than generational, that one seed gives one answer, that
# the SVG is well-formed, and that bad input fails with an a4nn: message.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${A4NN_BUILD:-$PWD/build}
sim=$BUILD_DIR/a4nn-scalesim
fail() { echo "FAIL: $*"; exit 1; }
[[ -x $sim ]] || fail "$sim not built"
curves=
for r in "${A4NN_SHARED:-}" ../shared; do
  [[ -n $r && -f $r/data/curves/nsganet-xfel-1e16-full.csv ]] && { curves=$r/data/curves/nsganet-xfel-1e16-full.csv; break; }
done
[[ -n $curves ]] || { echo "SKIPPED: reference curves data/curves/nsganet-xfel-1e16-full.csv not found"; exit 77; }
tmp=$(mktemp -d /tmp/a4nn-t-scalesim.XXXXXX); trap 'rm -rf "$tmp"' EXIT

"$sim" --curves "$curves" --workers 4,16,64 --gens 5 --csv "$tmp/a.csv" --svg "$tmp/a.svg" 2>"$tmp/log" || { cat "$tmp/log"; fail "scalesim failed"; }
"$sim" --curves "$curves" --workers 4,16,64 --gens 5 --csv "$tmp/b.csv" 2>/dev/null || fail "second run failed"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || fail "same seed, different tables"
"$sim" --curves "$curves" --workers 4,16,64 --gens 5 --seed 2 --csv "$tmp/c.csv" 2>/dev/null || fail "seed 2 failed"
cmp -s "$tmp/a.csv" "$tmp/c.csv" && fail "seed 2 gave seed 1's table"
"$sim" --curves "$curves" --workers 16 --gens 5 --mode async --no-penguin --csv "$tmp/np.csv" 2>/dev/null || fail "--no-penguin failed"
cat "$tmp/a.csv"

/usr/bin/python3 - "$tmp/a.csv" "$tmp/a.svg" "$tmp/np.csv" <<'PY' || fail "table checks"
import csv, sys, xml.etree.ElementTree as ET
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 6, f"{len(rows)} rows, expected 6"
by = {}
for r in rows:
    w, pop, models = int(r["workers"]), int(r["pop_size"]), int(r["models"])
    assert pop == w and models == pop * 6, r
    ep, budget = int(r["epochs_trained"]), int(r["epochs_budget"])
    assert budget == models * 25 and models * 1 <= ep <= budget, r
    u = float(r["utilisation_pct"])
    assert 0 < u <= 100.0 + 1e-9, r
    busy, tts = float(r["worker_busy_h"]), float(r["time_to_solution_h"])
    assert abs(100 * busy / (w * tts) - u) < 0.05 * u, (r, 100 * busy / (w * tts))
    assert 0 < float(r["best_fitness"]) <= 100 and int(r["front_size"]) >= 1, r
    by[(r["mode"], w)] = r
for w in (4, 16, 64):
    ga, aa = float(by[("generational", w)]["utilisation_pct"]), float(by[("async", w)]["utilisation_pct"])
    assert aa > ga, f"{w} workers: async {aa} % not above generational {ga} %"
    assert float(by[("generational", w)]["epochs_saved_pct"]) > 10, "PENGUIN saved no epochs"
np_ = list(csv.DictReader(open(sys.argv[3])))[0]
assert int(np_["epochs_trained"]) == int(np_["epochs_budget"]), "--no-penguin still stopped early"
svg = ET.parse(sys.argv[2]).getroot()
assert svg.tag.endswith("svg")
lines = [e for e in svg.iter() if e.tag.endswith("polyline")]
assert len(lines) == 4, f"{len(lines)} curves in the plot, expected 4"
for l in lines:
    assert len(l.get("points").split()) == 3, l.get("points")
print("table and plot ok")
PY

# bad input: a clear a4nn: message and a non-zero exit
for args in "--workers 0" "--workers x" "--mode sideways" "--tflops -1" "--curves /nonexistent.csv" "--penguin nokey" "--penguin window=abc" "--bogus 1"; do
  # shellcheck disable=SC2086
  if "$sim" $args --csv "$tmp/x.csv" >"$tmp/err" 2>&1; then fail "'$args' was accepted"; fi
  grep -q '^a4nn: ' "$tmp/err" || fail "'$args': no a4nn: message: $(cat "$tmp/err")"
done
echo "ok: bad input rejected"
echo PASS
