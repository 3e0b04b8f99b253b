#!/usr/bin/env bash
# tools/scalesim (a4nn-scalesim): small simulated scaling studies on the
# reference curves. Checks the table's bookkeeping (models = pop * (gens + 1),
# epochs within the budget, utilisation in (0, 100] and = busy / (workers *
# time)), that async keeps workers busier than generational, the per-model
# trace (every model dispatched and finished exactly once, no worker holding
# two models at a time, models sharded over the analytics ranks by id), that
# one seed gives one answer (also inside a --seeds list), that the analytics
# ranks are modelled (a slow fit saturates one rank and costs utilisation,
# more ranks win it back), that the SVG is well-formed, and that bad input
# fails with an a4nn: message.
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
s() { "$sim" --curves "$curves" "$@"; }

s --workers 4,16,64 --gens 5 --csv "$tmp/a.csv" --svg "$tmp/a.svg" --trace "$tmp/a.trace" 2>"$tmp/log" ||
  { cat "$tmp/log"; fail "scalesim failed"; }
grep -q 'ms per fit here' "$tmp/log" || fail "no measured fit cost in the log: $(cat "$tmp/log")"
s --workers 4,16,64 --gens 5 --csv "$tmp/b.csv" --trace "$tmp/b.trace" 2>/dev/null || fail "second run failed"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || fail "same seed, different tables"
cmp -s "$tmp/a.trace" "$tmp/b.trace" || fail "same seed, different traces"
s --workers 4,16,64 --gens 5 --seed 2 --csv "$tmp/c.csv" 2>/dev/null || fail "seed 2 failed"
cmp -s "$tmp/a.csv" "$tmp/c.csv" && fail "seed 2 gave seed 1's table"
s --workers 4,16,64 --gens 5 --seeds 1,2 --csv "$tmp/s.csv" --svg "$tmp/s.svg" 2>"$tmp/slog" || fail "--seeds 1,2 failed"
grep -q 'utilisation min .* over 2 seeds' "$tmp/slog" || fail "--seeds: no min/mean summary: $(cat "$tmp/slog")"
s --workers 16 --gens 5 --mode async --no-penguin --csv "$tmp/np.csv" 2>/dev/null || fail "--no-penguin failed"
# analytics (seed policy): 0.7 s per fit saturates one rank at 64 workers
# (fits arrive faster than that for most of the run with the search's own
# genomes), four
# ranks keep up; no service time at all: STOP arrives at once
for v in "1 0.7" "4 0.7" "1 0"; do
  set -- $v
  s --workers 64 --gens 5 --mode async --penguin policy=seed --analytics "$1" --fit-cost "$2" --msg-cost "$([[ $2 == 0 ]] && echo 0 || echo 0.00002)" \
    --csv "$tmp/an$1-$2.csv" --trace "$tmp/an$1-$2.trace" 2>/dev/null || fail "--analytics $1 --fit-cost $2 failed"
done
cat "$tmp/a.csv"

/usr/bin/python3 - "$tmp" <<'PY' || fail "table checks"
import collections, csv, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
rd = lambda f: list(csv.DictReader(open(f"{d}/{f}")))
rows = rd("a.csv")
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
    assert 0 <= float(r["analytics_busy_pct"]) < 100 and int(r["analytics_ranks"]) == 1, r
    by[(r["mode"], w)] = r
for w in (4, 16, 64):
    ga, aa = float(by[("generational", w)]["utilisation_pct"]), float(by[("async", w)]["utilisation_pct"])
    assert aa > ga, f"{w} workers: async {aa} % not above generational {ga} %"
    assert float(by[("generational", w)]["epochs_saved_pct"]) > 10, "PENGUIN saved no epochs"

# the trace: every model once, no worker running two at a time
tr = rd("a.trace")
runs = collections.defaultdict(list)
for t in tr:
    runs[(t["mode"], int(t["workers"]), t["seed"])].append(t)
assert len(runs) == 6, runs.keys()
for (mode, w, seed), ts in runs.items():
    ids = sorted(int(t["model"]) for t in ts)
    assert ids == list(range(6 * w)), f"{mode} {w}: models {ids[:10]}... not each of 0..{6 * w - 1} once"
    r = by[(mode, w)]
    assert sum(int(t["epochs_trained"]) for t in ts) == int(r["epochs_trained"]), (mode, w)
    per_worker = collections.defaultdict(list)
    for t in ts:
        a, e, dn = float(t["dispatched_s"]), float(t["ended_s"]), float(t["done_s"])
        assert a < e <= dn + 1e-6, t
        assert int(t["analytics"]) == 0 and 0 <= int(t["worker"]) < w, t
        assert 1 <= int(t["epochs_trained"]) <= int(t["epochs_run"]) <= 25, t
        per_worker[int(t["worker"])].append((a, e))
    for wk, iv in per_worker.items():
        iv.sort()
        for (a0, e0), (a1, e1) in zip(iv, iv[1:]):
            assert a1 >= e0 - 1e-6, f"{mode} {w}: worker {wk} got a model at {a1} before finishing one at {e0}"
    assert abs(max(float(t["done_s"]) for t in ts) / 3600 - float(r["time_to_solution_h"])) < 1e-3, (mode, w)

# --seeds: one row per seed; seed 1's rows are the single run's
srows = rd("s.csv")
assert len(srows) == 12 and {r["seed"] for r in srows} == {"1", "2"}, len(srows)
key = lambda r: (r["mode"], r["workers"])
one = {key(r): r for r in srows if r["seed"] == "1"}
for r in rows:
    assert one[key(r)] == r, (one[key(r)], r)

np_ = rd("np.csv")[0]
assert int(np_["epochs_trained"]) == int(np_["epochs_budget"]), "--no-penguin still stopped early"

# analytics ranks: saturated, then four ranks, then free
sat, four, free = rd("an1-0.7.csv")[0], rd("an4-0.7.csv")[0], rd("an1-0.csv")[0]
u = lambda r: float(r["utilisation_pct"])
assert float(sat["analytics_busy_pct"]) > 90, f"one rank at 0.7 s per fit is only {sat['analytics_busy_pct']} % busy"
assert u(sat) < u(free) - 10, f"a saturated analytics rank cost no utilisation: {u(sat)} vs {u(free)}"
assert u(four) > u(sat) + 10, f"four analytics ranks did not help: {u(four)} vs {u(sat)}"
assert float(sat["wasted_pct"]) > 1 and float(sat["stop_delay_ms"]) > 2000, sat
assert float(free["stop_delay_ms"]) == 0 and float(free["wasted_pct"]) == 0, free
shards = collections.Counter(int(t["analytics"]) for t in rd("an4-0.7.trace"))
assert sorted(shards) == [0, 1, 2, 3] and all(int(t["analytics"]) == int(t["model"]) % 4 for t in rd("an4-0.7.trace"))
print(f"analytics: 1 rank at 0.7 s/fit {u(sat):.1f} % ({sat['analytics_busy_pct']} % busy), "
      f"4 ranks {u(four):.1f} %, no cost {u(free):.1f} %")

for f, bars in (("a.svg", 0), ("s.svg", 6)):
    svg = ET.parse(f"{d}/{f}").getroot()
    assert svg.tag.endswith("svg")
    lines = [e for e in svg.iter() if e.tag.endswith("polyline")]
    assert len(lines) == 4, f"{f}: {len(lines)} curves in the plot, expected 4"
    for l in lines:
        assert len(l.get("points").split()) == 3, l.get("points")
    n_bars = sum(1 for e in svg.iter() if e.tag.endswith("}line") and e.get("stroke", "").startswith("#") and e.get("stroke") not in ("#ddd", "#999"))
    assert n_bars == bars, f"{f}: {n_bars} min..max bars, expected {bars}"
print("table, trace and plot ok")
PY

# bad input: a clear a4nn: message and a non-zero exit
for args in "--workers 0" "--workers x" "--mode sideways" "--tflops -1" "--curves /nonexistent.csv" "--penguin nokey" \
            "--penguin window=abc" "--bogus 1" "--analytics 0" "--fit-cost -1" "--seeds x" "--seed 1,2" "--seeds ,"; do
  # shellcheck disable=SC2086
  if "$sim" $args --csv "$tmp/x.csv" >"$tmp/err" 2>&1; then fail "'$args' was accepted"; fi
  grep -q '^a4nn: ' "$tmp/err" || fail "'$args': no a4nn: message: $(cat "$tmp/err")"
done
echo "ok: bad input rejected"
echo PASS
