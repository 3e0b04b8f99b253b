#!/usr/bin/env bash
# PENGUIN fitting speed against scipy.optimize.curve_fit (the original's
# fitter, called as the original calls it) on the same 25-epoch curve, one core each.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${A4NN_BUILD:-build}
CSV=${A4NN_SHARED:-../shared}/data/curves/nsganet-xfel-1e16-full.csv
[[ -f $CSV ]] || CSV=
out=$(OMP_NUM_THREADS=1 taskset -c 0 "$B"/bench/bench_penguin $CSV)
echo "$out" | grep -v '^default_fits_per_s'
ours=$(sed -n 's/^default_fits_per_s=//p' <<<"$out")
if /usr/bin/python3 -c 'import scipy' 2>/dev/null; then
  theirs=$(taskset -c 0 /usr/bin/python3 - <<'PYEOF'
import time, numpy as np
from scipy.optimize import curve_fit
x = np.arange(25.0); y = 96.0 - 18.0 * np.exp(-0.45 * x) + 0.4 * np.sin(1.7 * x)
f = lambda x, a, b, c: a - b ** (c - x)
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 2.0:
    try: curve_fit(f, x, y, bounds=([0.5, 1, 0], [200, np.inf, np.inf]))
    except RuntimeError: pass
    n += 1
print(n / (time.perf_counter() - t0))
PYEOF
)
  awk -v a="$ours" -v b="$theirs" 'BEGIN{printf "default curve: a4nn %.0f fits/s, scipy curve_fit %.0f fits/s: %.1fx\n", a, b, a/b}'
else
  echo "default curve: a4nn $ours fits/s; scipy ratio SKIPPED (python3-scipy not installed)"
fi

# Every policy on every learning-curve file at hand (the reference file and
# the development corpora of scripts/make-curve-corpus.sh), replayed as a
# search with 2 workers in flight: the figures of README "PENGUIN".
source bench/curve_files.inc
curve_files
printf '%-34s %-9s %8s %6s %7s %6s %7s   %s\n' "curves" "policy" "saved %" "rho" "regret" "kept" "|err|" \
  "over 20 orders: saved / rho / regret, mean (worst)"
for f in "${files[@]}"; do
  for pol in front seed fixed:10 median ensemble pareto; do
    "$B"/a4nn penguin --curves "$f" --policy "$pol" --orders 20 --format json 2>/dev/null |
      /usr/bin/python3 -c '
import json, os, sys
d = json.load(sys.stdin)
o = d["orders"]
print("%-34s %-9s %8.1f %6.3f %7.2f %3d/%-2d %7.2f   %.1f (%.1f) / %.3f (%.3f) / %.2f (%.2f)" % (
      os.path.basename(d["curves"]), d["policy"],
      d["epochs_saved_pct"], d["rho"], d["front_regret"], d["front_kept"], d["true_front"],
      d["mean_abs_fitness_err"], o["epochs_saved_pct"]["mean"], o["epochs_saved_pct"]["min"],
      o["rho"]["mean"], o["rho"]["min"], o["front_regret"]["mean"], o["front_regret"]["max"]))'
  done
done
echo "(a4nn penguin --curves FILE --policy P --workers 2 --orders 20; the first figures are the file's order;"
echo " saved = epochs saved, regret = front regret in points, kept = true-front models in the policy front,"
echo " |err| = mean |fitness - final|; targets: saved >= 60, rho >= 0.9, regret <= 0.1)"
