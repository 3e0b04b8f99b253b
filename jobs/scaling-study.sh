#!/usr/bin/env bash
# GPU-count scaling study: submits the same search (same config, same seed)
# with 1, 2, 4, ... N workers (jobs/a4nn.sbatch: one GPU per task unless the
# site file overrides it: one GPU per worker rank, --gpus=W), and a summary
# job that depends on them all (--dependency=afterany) and collects
# time-to-solution, epochs, worker utilisation and efficiency into
# OUTDIR/scaling.csv and OUTDIR/scaling.svg (its output: OUTDIR/summary-<job>.out).
# Nothing waits on the login node: the script prints the job ids and exits.
#
#   jobs/scaling-study.sh [options] CONFIG OUTDIR [--section.key=value ...]
#     --site SITE         site file in jobs/sites (default generic)
#     --max-workers N     largest worker count (default 8); counts are 1,2,4,...,N
#     --workers LIST      explicit comma list instead
#     --analytics N       analytics ranks (default 1)
#     --group-size G      worker ranks (GPUs) per worker group (default 1): a
#                         worker count W then takes W x G GPUs
#     --collect           do not submit: only collect OUTDIR/w*/ into the table
#                         (what the summary job runs)
# A4NN_SUMMARY_SBATCH_ARGS: extra sbatch flags for the summary job.
#
# Ranks per job = workers x group size + 1 (search) + analytics, on ceil(ranks /
# A4NN_TASKS_PER_NODE) nodes (default: one node). Time-to-solution is the
# sum of the job legs' wall times (job-legs.tsv, requeued legs included);
# utilisation = worker-seconds in results.csv / (workers x time-to-solution);
# efficiency = T(smallest) x W(smallest) / (T(W) x W) (strong scaling: the
# generational search evaluates the same models at every worker count).
set -euo pipefail
die() { echo "a4nn: scaling-study: $*" >&2; exit 1; }
jobs=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
site=generic max=8 list= analytics=1 group=1 collect=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --site) site=${2:?}; shift 2 ;;
    --max-workers) max=${2:?}; shift 2 ;;
    --workers) list=${2:?}; shift 2 ;;
    --analytics) analytics=${2:?}; shift 2 ;;
    --group-size) group=${2:?}; shift 2 ;;
    --collect) collect=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    --*) die "unknown option '$1'" ;;
    *) break ;;
  esac
done
[[ $# -ge 2 ]] || die "usage: jobs/scaling-study.sh [options] CONFIG OUTDIR [--section.key=value ...]"
config=$1 out=$2; shift 2
[[ $max =~ ^[1-9][0-9]*$ ]] || die "--max-workers '$max' is not a positive integer"
[[ $analytics =~ ^[1-9][0-9]*$ ]] || die "--analytics '$analytics' is not a positive integer"
[[ $group =~ ^[1-9][0-9]*$ ]] || die "--group-size '$group' is not a positive integer"
if [[ -n $list ]]; then IFS=, read -r -a counts <<<"$list"
else counts=(); for ((w = 1; w <= max; w *= 2)); do counts+=("$w"); done; fi
for w in "${counts[@]}"; do [[ $w =~ ^[1-9][0-9]*$ ]] || die "worker count '$w' is not a positive integer"; done
mkdir -p "$out"; out=$(cd "$out" && pwd)

if [[ $collect -eq 0 ]]; then
  [[ -f $config ]] || die "config '$config' not found"
  ids=()
  for w in "${counts[@]}"; do
    np=$((w * group + 1 + analytics))
    [[ -e $out/w$w/commons.h5 ]] && die "$out/w$w already holds a run"
    tpn=${A4NN_TASKS_PER_NODE:-$np}; nodes=$(( (np + tpn - 1) / tpn ))
    id=$(A4NN_SBATCH_ARGS="--nodes=$nodes --ntasks=$np --ntasks-per-node=$tpn --job-name=a4nn-scale-$w ${A4NN_SBATCH_ARGS:-}" A4NN_NP=$np A4NN_GPUS=$((w * group)) \
         "$jobs/submit.sh" "$site" "$jobs/a4nn.sbatch" "$config" "$out/w$w" \
         --analytics.ranks="$analytics" --worker.group_size="$group" "$@") || die "sbatch failed for $w workers"
    echo "scaling-study: $w workers: job $id ($np ranks)"
    ids+=("$id")
  done
  # the summary job: runs once every leg has ended, whatever its state
  collect_cmd=$(printf '%q ' "$jobs/scaling-study.sh" --collect --workers "$(IFS=,; echo "${counts[*]}")" \
                --group-size "$group" --analytics "$analytics" "$config" "$out")
  # shellcheck disable=SC2086
  sid=$(sbatch --parsable --job-name=a4nn-scale-summary --dependency="afterany:$(IFS=:; echo "${ids[*]}")" \
        --ntasks=1 --time=00:15:00 --output="$out/summary-%j.out" ${A4NN_SUMMARY_SBATCH_ARGS:-} \
        --wrap="$collect_cmd") || die "sbatch failed for the summary job"
  echo "scaling-study: summary job $sid after ${ids[*]}: writes $out/scaling.csv"
  exit 0
fi

# ---- collect ------------------------------------------------------------------
csv=$out/scaling.csv
echo "workers,group_size,gpus,ranks,models,epochs_trained,worker_seconds,time_to_solution_s,utilisation_pct,speedup,efficiency_pct,legs" >"$csv"
base_t= base_w=
for w in "${counts[@]}"; do
  d=$out/w$w
  [[ -f $d/results.csv && -f $d/job-legs.tsv ]] || { echo "scaling-study: $w workers: no finished run in $d" >&2; continue; }
  read -r models epochs busy < <(/usr/bin/env python3 - "$d/results.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(len(rows), sum(int(r["epochs_trained"]) for r in rows), sum(float(r["seconds"]) for r in rows))
PY
)
  read -r tts legs ranks < <(awk -F'\t' 'NR > 1 { t += $5 - $4; n++; r = $3 } END { printf "%.3f %d %d\n", t, n, r }' "$d/job-legs.tsv")
  [[ -z $base_t ]] && { base_t=$tts; base_w=$w; }
  awk -v w="$w" -v g="$group" -v r="$ranks" -v m="$models" -v e="$epochs" -v b="$busy" -v t="$tts" -v bt="$base_t" -v bw="$base_w" -v l="$legs" \
    'BEGIN { printf "%d,%d,%d,%d,%d,%d,%.3f,%.3f,%.2f,%.3f,%.2f,%d\n", w, g, w * g, r, m, e, b, t, 100 * b / (w * t), bt / t, 100 * bt * bw / (t * w), l }' >>"$csv"
done
[[ $(wc -l <"$csv") -gt 1 ]] || die "no finished runs under $out"

# ---- plot: utilisation and time-to-solution against workers (log2) ----------------
awk -F, -v g="$group" 'NR > 1 { n++; W[n] = $1; T[n] = $8; U[n] = $9; E[n] = $11; if ($8 > tmax) tmax = $8 }
  function px(w) { return x0 + (nw > 1 ? log(w) / log(2) - lx0 : 0) / (lx1 > lx0 ? lx1 - lx0 : 1) * 360 }
  function panel(title, ylabel, ymax, which,   i, k, v, pts) {
    printf "<text x=\"%.1f\" y=\"38\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n", x0 + 180, title
    printf "<rect x=\"%.1f\" y=\"50\" width=\"360\" height=\"290\" fill=\"none\" stroke=\"#444\"/>\n", x0
    for (k = 0; k <= 4; k++) { v = ymax * k / 4
      printf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x0, 340 - v / ymax * 290, x0 + 360, 340 - v / ymax * 290
      printf "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.3g</text>\n", x0 - 4, 344 - v / ymax * 290, v }
    printf "<text transform=\"translate(%.1f,195) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">%s</text>\n", x0 - 42, ylabel
    printf "<text x=\"%.1f\" y=\"374\" text-anchor=\"middle\" font-size=\"12\">%s</text>\n", x0 + 180, (g > 1 ? "worker groups (" g " GPUs each)" : "workers (GPUs)")
    pts = ""
    for (i = 1; i <= n; i++) {
      v = which == 1 ? U[i] : (which == 2 ? E[i] : T[i])
      pts = pts sprintf("%.1f,%.1f ", px(W[i]), 340 - v / ymax * 290)
      if (which != 2) printf "<text x=\"%.1f\" y=\"356\" text-anchor=\"middle\" font-size=\"11\">%d</text>\n", px(W[i]), W[i]
    }
    printf "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>\n", which == 2 ? "#2ca02c" : "#1f77b4", pts
  }
  END {
    nw = n; lx0 = log(W[1]) / log(2); lx1 = log(W[n]) / log(2)
    print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"400\" font-family=\"sans-serif\">"
    print "<rect width=\"960\" height=\"400\" fill=\"white\"/>"
    x0 = 70;  panel("worker utilisation (blue), efficiency (green)", "percent", 100, 1); panel("", "", 100, 2)
    x0 = 560; panel("time to solution", "seconds", tmax * 1.1, 3)
    print "</svg>"
  }' "$csv" >"$out/scaling.svg"
column -s, -t "$csv" 2>/dev/null || cat "$csv"
echo "scaling-study: table $csv, plot $out/scaling.svg"
