#!/usr/bin/env bash
# Scaling at simulated scale: generational vs async search from 4 to 1,024
# workers (tools/scalesim, one process, discrete events, PENGUIN and NSGA-II
# from the library, the reference learning curves, analytics ranks serving
# each EPOCH at the measured cost of a fit). Every run is repeated for
# several seeds (A4NN_SCALING_SEEDS, default 1,2,3); prints utilisation min
# and mean over the seeds and time to solution, async against generational
# measured in the same run, at every worker count. Writes the table and plot
# to $BUILD/bench-scaling/.
#
# Fails (exit 1) when the minimum async utilisation at 1,024 workers over the
# seeds is below the 95 % goal. Extra arguments go to a4nn-scalesim, e.g.
#   bench/b_scaling.sh --penguin policy=pareto --analytics 2
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
sim=$BUILD/a4nn-scalesim
[[ -x $sim ]] || { echo "b_scaling: $sim not built (make BUILD=$BUILD)"; exit 1; }
seeds=${A4NN_SCALING_SEEDS:-1,2,3}
goal_workers=1024 goal_pct=95
out=$BUILD/bench-scaling; mkdir -p "$out"
t0=$(date +%s.%N)
"$sim" --seeds "$seeds" --csv "$out/scaling.csv" --svg "$out/scaling.svg" "$@" 2>"$out/scalesim.log" ||
  { cat "$out/scalesim.log"; echo "b_scaling: FAILED: a4nn-scalesim exited with an error"; exit 1; }
t1=$(date +%s.%N)
grep PENGUIN "$out/scalesim.log"
awk -F, -v gw="$goal_workers" -v goal="$goal_pct" '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { w = $col["workers"]; k = $col["mode"] ":" w; u = $col["utilisation_pct"] + 0
    if (!(k in n)) { umin[k] = u; if (!(w in seen)) { seen[w] = 1; order[++nw] = w } }
    n[k]++; usum[k] += u; hsum[k] += $col["time_to_solution_h"]
    if (u < umin[k]) umin[k] = u
    if ($col["analytics_busy_pct"] + 0 > abusy[k]) abusy[k] = $col["analytics_busy_pct"] + 0
    ana = $col["analytics_ranks"] }
  function avg(sum, k) { return (k in n) ? sum[k] / n[k] : 0 }
  END {
    printf "%8s  %17s  %17s  %9s %9s  %12s  %10s\n", "workers", "gen util% min/avg", "async util% min/avg",
           "gen h", "async h", "speedup(a/g)", "analytics%"
    for (i = 1; i <= nw; i++) {
      w = order[i]; g = "generational:" w; a = "async:" w
      gh = avg(hsum, g); ah = avg(hsum, a)
      printf "%8d  %8.1f %8.1f  %8.1f %8.1f  %9.3f %9.3f  %11.2fx  %10.1f\n", w, umin[g], avg(usum, g),
             umin[a], avg(usum, a), gh, ah, (ah > 0 ? gh / ah : 0), abusy[a]
    }
    a = "async:" gw; g = "generational:" gw
    if (!(a in n)) {
      printf "b_scaling: no async run at %d workers: the %g %% utilisation goal is not checked\n", gw, goal
      exit 0
    }
    printf "b_scaling: async at %d workers (%d analytics rank%s): utilisation min %.1f %%, mean %.1f %% over %d seeds (goal >= %g %%)", gw, ana, (ana > 1 ? "s" : ""), umin[a], avg(usum, a), n[a], goal
    if (g in n) printf "; %.2fx faster to solution than generational", avg(hsum, g) / avg(hsum, a)
    printf "\n"
    if (umin[a] < goal) {
      printf "b_scaling: FAILED: async utilisation at %d workers is %.1f %% for one of the seeds, below the %g %% goal\n", gw, umin[a], goal
      exit 1
    }
  }' "$out/scaling.csv"
rc=$?
echo "b_scaling: simulation took $(echo "$t1 - $t0" | bc) s on this machine (shared, noisy); table $out/scaling.csv, plot $out/scaling.svg"
exit $rc
