#!/usr/bin/env bash
# Scaling at simulated scale: generational vs async search from 4 to 1,024
# workers (tools/scalesim, one process, discrete events, PENGUIN and NSGA-II
# from the library, the reference learning curves). Writes the table and plot
# to $BUILD/bench-scaling/ and prints async against generational, measured in
# the same run, at every worker count.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
sim=$BUILD/a4nn-scalesim
[[ -x $sim ]] || { echo "b_scaling: $sim not built (make BUILD=$BUILD)"; exit 1; }
out=$BUILD/bench-scaling; mkdir -p "$out"
t0=$(date +%s.%N)
"$sim" --csv "$out/scaling.csv" --svg "$out/scaling.svg" "$@" 2>"$out/scalesim.log" || { cat "$out/scalesim.log"; exit 1; }
t1=$(date +%s.%N)
grep PENGUIN "$out/scalesim.log"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { key = $col["workers"]; m = $col["mode"]
    util[m, key] = $col["utilisation_pct"]; tts[m, key] = $col["time_to_solution_h"]
    if (m == "async") order[++n] = key }
  END {
    printf "%8s  %10s %10s  %10s %10s  %12s\n", "workers", "gen util%", "async util%", "gen h", "async h", "speedup(a/g)"
    for (i = 1; i <= n; i++) { w = order[i]
      printf "%8d  %10.1f %10.1f  %10.3f %10.3f  %11.2fx\n", w, util["generational", w], util["async", w],
             tts["generational", w], tts["async", w], tts["generational", w] / tts["async", w] }
    w = order[n]
    printf "b_scaling: async at %d workers: utilisation %.1f %% (goal >= 95 %%), %.2fx faster to solution than generational\n",
           w, util["async", w], tts["generational", w] / tts["async", w]
  }' "$out/scaling.csv"
echo "b_scaling: simulation took $(echo "$t1 - $t0" | bc) s on this machine (shared, noisy); table $out/scaling.csv, plot $out/scaling.svg"
