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
