#!/usr/bin/env bash
# The seed policy's reference fits against scipy itself: on a4nn's development
# curves, scipy's curve_fit called as the original PENGUIN calls it (bounds,
# no start point) must give the seed rule the same first converged epoch and
# the same converged prediction as `a4nn penguin --policy seed`, model by
# model (the first MODELS models of each file: scipy's fits are slow).
set -euo pipefail
cd "$(dirname "$0")/.."
A4NN="${A4NN_BUILD:-build}/a4nn"
MODELS=${A4NN_SCIPY_MODELS:-6}
if ! /usr/bin/python3 -c 'import scipy.optimize' 2>/dev/null; then
  echo "SKIPPED: scipy not installed for /usr/bin/python3 (apt-get install python3-scipy)"
  exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
files=()
for s in 14 15 16; do
  f=test/reference/data/curves/a4nn-cpu32-xfel-1e$s.csv
  "$A4NN" penguin --curves "$f" --policy seed --workers 1 >"$tmp/1e$s.csv" 2>/dev/null
  files+=("$f" "$tmp/1e$s.csv")
done
/usr/bin/python3 - "$MODELS" "${files[@]}" <<'PY'
import csv, math, statistics, sys, warnings
import numpy as np
from scipy.optimize import curve_fit

warnings.simplefilter("ignore")  # curve_fit's covariance warnings

def f(x, a, b, c):
    return a - b ** (c - x)

def prediction(acc):
    """The original's fit after an epoch: inf when curve_fit gives up."""
    try:
        p, _ = curve_fit(f, np.arange(len(acc), dtype=float), np.array(acc),
                         bounds=[[0.5, 1.0, 0.0], [200.0, np.inf, np.inf]])
    except RuntimeError:
        return math.inf
    return f(25.0, *p)

def seed_rule(acc):
    """First epoch whose last 3 predictions lie in [0, 100] within 0.5 of
    their median, and the prediction there; (-1, None) if none."""
    preds = []
    for e in range(len(acc)):
        preds.append(prediction(acc[:e + 1]) if e >= 3 else math.inf)
        w = preds[-3:]
        if e >= 5 and all(0 <= v <= 100 for v in w):
            med = statistics.median(w)
            if all(abs(v - med) <= 0.5 for v in w):
                return e, preds[-1]
    return -1, None

n_models = int(sys.argv[1])
args = sys.argv[2:]
same_epoch = same_pred = total = 0
for curves, ours in zip(args[0::2], args[1::2]):
    models = []
    for r in csv.DictReader(open(curves)):
        if int(r["epoch"]) == 0:
            models.append([])
        models[-1].append(float(r["val_accs"]))
    rows = list(csv.DictReader(open(ours)))
    for i in range(min(n_models, len(models))):
        e, pred = seed_rule(models[i])
        row = rows[i]
        e_ours = int(row["converged_epoch"]) if row["converged_epoch"] else -1
        total += 1
        if e == e_ours:
            same_epoch += 1
            same_pred += e < 0 or abs(pred - float(row["prediction"])) <= 0.05
        else:
            print(f"{curves} model {i}: scipy converges at epoch {e}, a4nn at {e_ours}")
print(f"seed rule, scipy vs a4nn: first converged epoch equal for {same_epoch}/{total} "
      f"models, converged prediction within 0.05 for {same_pred}")
assert same_epoch >= total - 1 and same_pred >= same_epoch - 1, "reference fits differ from scipy's"
PY
echo "penguin reference fits match scipy"
