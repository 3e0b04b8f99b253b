#!/usr/bin/env bash
# `a4nn penguin`: CSV contract on the reference curves, and clear errors.
set -euo pipefail
cd "$(dirname "$0")/.."
A4NN="${A4NN_BUILD:-build}/a4nn"
CSV="${A4NN_SHARED:-../shared}/data/curves/nsganet-xfel-1e16-full.csv"
if [[ ! -f $CSV ]]; then echo "SKIPPED: reference curves not found at $CSV"; exit 77; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$A4NN" penguin --curves "$CSV" --policy seed --workers 1 >"$tmp/out.csv" 2>"$tmp/err.txt"
[[ $(head -1 "$tmp/out.csv") == "model,converged_epoch,prediction,final_observed,epochs_used" ]]
[[ $(wc -l <"$tmp/out.csv") -eq 101 ]]
grep -q 'epochs saved 34.8 %' "$tmp/err.txt"
# a converged model used converged_epoch + 1 epochs; one that never converged used all 25
awk -F, 'NR>1 { if ($2 == "" && $5 != 25) exit 1; if ($2 != "" && $5 != $2 + 1) exit 1 }' "$tmp/out.csv"
# the default policy (front) and the figures' definitions in the summary
"$A4NN" penguin --curves "$CSV" 2>"$tmp/err.txt" >/dev/null
grep -q 'policy front, 2 workers' "$tmp/err.txt"
grep -q 'front regret' "$tmp/err.txt" && grep -q 'Spearman' "$tmp/err.txt"
# JSON: the same figures, machine-readable, and one row per model
"$A4NN" penguin --curves "$CSV" --policy fixed:10 --format json >"$tmp/out.json" 2>/dev/null
python3 - "$tmp/out.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["policy"] == "fixed:10" and d["models"] == 100 and len(d["rows"]) == 100, d
assert abs(d["epochs_saved_pct"] - 60.0) < 1e-9, d["epochs_saved_pct"]
assert all(r["epochs_used"] == 10 for r in d["rows"])
for k in ("rho", "front_regret", "front_kept", "true_front", "mean_abs_fitness_err"):
    assert k in d, k
assert 0 <= d["front_kept"] <= d["true_front"] and -1 <= d["rho"] <= 1
EOF
"$A4NN" penguin --curves "$CSV" --policy median 2>"$tmp/err.txt" >/dev/null
grep -q 'policy median' "$tmp/err.txt"
"$A4NN" penguin --curves "$CSV" --policy ensemble 2>"$tmp/err.txt" >/dev/null
grep -q 'policy ensemble' "$tmp/err.txt"
"$A4NN" penguin --curve list | grep -q '^default'
# a file of full curves of another length: the budget is that length, so the
# front policy sees models finish and calibrates (with 25 it would see none)
awk -F, 'NR == 1 || $1 < 20' "$CSV" >"$tmp/e20.csv"
"$A4NN" penguin --curves "$tmp/e20.csv" --format json >"$tmp/e20.json" 2>"$tmp/err.txt"
grep -q 'budget 20 epochs, the length of every curve' "$tmp/err.txt"
python3 - "$tmp/e20.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["budget"] == 20 and d["epochs_saved_pct"] > 20, (d["budget"], d["epochs_saved_pct"])
assert max(r["epochs_used"] for r in d["rows"]) == 20
EOF
"$A4NN" penguin --curves "$tmp/e20.csv" --policy fixed:10 2>"$tmp/err.txt" >/dev/null
grep -q 'epochs saved 50.0 %' "$tmp/err.txt"
# --budget wins; curves of different lengths (a run with early stops) keep 25
"$A4NN" penguin --curves "$tmp/e20.csv" --budget 25 2>"$tmp/err.txt" >/dev/null
grep -q 'budget 20 epochs' "$tmp/err.txt" && { echo "FAIL: --budget 25 not honoured"; exit 1; }
grep -q 'epochs saved 0.0 %' "$tmp/err.txt"
awk -F, 'NR > 1 && $1 == 0 { m++ } NR == 1 || m > 40 || $1 < 20' "$CSV" >"$tmp/mixed.csv"
"$A4NN" penguin --curves "$tmp/mixed.csv" --format json 2>"$tmp/err.txt" | python3 -c '
import json, sys; assert json.load(sys.stdin)["budget"] == 25'
grep -q 'the length of every curve' "$tmp/err.txt" && { echo "FAIL: budget taken from curves of different lengths"; exit 1; }

expect_fail() {
  local pat=$1; shift
  local out rc=0
  out=$("$A4NN" "$@" 2>&1) || rc=$?
  [[ $rc -ne 0 && $out == *"a4nn: "*"$pat"* ]] || { echo "expected '$pat' from: $* -> $out"; exit 1; }
}
expect_fail "cannot open" penguin --curves /nonexistent.csv
expect_fail "unknown curve 'nope'" penguin --curves "$CSV" --curve nope
expect_fail "penguin.policy: bad value 'fast'" penguin --curves "$CSV" --policy fast
expect_fail "unknown key 'bogus'" penguin --curves "$CSV" --bogus 1
expect_fail "fixed:K" penguin --curves "$CSV" --policy fixed:0
expect_fail "--format" penguin --curves "$CSV" --format xml
expect_fail "--workers" penguin --curves "$CSV" --workers 0
expect_fail "--orders" penguin --curves "$CSV" --orders 0
expect_fail "--seed" penguin --curves "$CSV" --seed -2
# arrival orders: the file's first, then shuffles; fixed:K does not depend on
# the order, front does
"$A4NN" penguin --curves "$CSV" --orders 4 --seed 7 --format json >"$tmp/o.json" 2>"$tmp/err.txt"
grep -q 'over 4 arrival orders' "$tmp/err.txt"
"$A4NN" penguin --curves "$CSV" --policy fixed:10 --orders 3 --format json >"$tmp/f.json" 2>/dev/null
python3 - "$tmp/o.json" "$tmp/f.json" <<'EOF'
import json, sys
d, f = (json.load(open(p)) for p in sys.argv[1:3])
o = d["orders"]
assert o["n"] == 4 and o["seed"] == 7, o
for k in ("epochs_saved_pct", "rho", "front_regret"):
    assert o[k]["min"] <= d[k] + 1e-4 and d[k] <= o[k]["max"] + 1e-4, (k, o[k], d[k])
    assert o[k]["min"] - 1e-9 <= o[k]["mean"] <= o[k]["max"] + 1e-9, (k, o[k])
assert o["epochs_saved_pct"]["min"] < o["epochs_saved_pct"]["max"], o  # front: order matters
s = f["orders"]["epochs_saved_pct"]
assert s["min"] == s["max"] == 60, s
EOF
printf 'epoch,val_accs\n0,50\n0,x\n' >"$tmp/bad.csv"
expect_fail "bad epoch" penguin --curves "$tmp/bad.csv"
echo "penguin CLI ok"

# a user plug-in curve: a shared library exporting a4nn_curve_plugin()
cat >"$tmp/plugin.c" <<'CEOF'
#include <math.h>
#include <string.h>
#include "a4nn/penguin.h"
static double f(double x, const double *p) { return p[0] - p[1] * exp(-x / 3.0); }
static void df(double x, const double *p, double *g) { g[0] = 1; g[1] = -exp(-x / 3.0); }
int a4nn_curve_plugin(a4nn_curve *c)
{
    strcpy(c->name, "myexp");
    c->formula = "a - b e^(-x/3)";
    c->n_params = 2;
    c->f = f, c->df = df;
    c->start[0] = 90, c->start[1] = 20;
    c->lower[0] = 0, c->upper[0] = 100, c->lower[1] = -INFINITY, c->upper[1] = INFINITY;
    return 0;
}
CEOF
cc -shared -fPIC -Iinclude -o "$tmp/plugin.so" "$tmp/plugin.c"
"$A4NN" penguin --plugin "$tmp/plugin.so" --curve list | grep -q '^myexp'
"$A4NN" penguin --curves "$CSV" --plugin "$tmp/plugin.so" --curve myexp 2>"$tmp/err.txt" >/dev/null
grep -q 'curve myexp' "$tmp/err.txt"
expect_fail "no working a4nn_curve_plugin" penguin --curves "$CSV" --plugin /lib/x86_64-linux-gnu/libm.so.6
expect_fail "cannot load curve plug-in" penguin --curves "$CSV" --plugin "$tmp/none.so"
echo "penguin plug-ins ok"
