#!/usr/bin/env bash
# Submits a batch script with a site's sbatch flags (partition, account, ...)
# and Slurm's output file inside the run directory (for the beam-intensity
# array: RUNS_DIR/slurm-<arrayjob>_<task>.out, naming the file each task
# writes in its own run directory).
#
#   jobs/submit.sh SITE SCRIPT ARGS...      e.g.
#   jobs/submit.sh darwin jobs/a4nn.sbatch configs/xfel-1e16.ini runs/1e16
#
# Extra sbatch flags go in A4NN_SBATCH_ARGS; A4NN_GPUS=W asks for W GPUs (one
# per worker rank; a site's --gpus=0 wins). Prints the job id.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "a4nn: submit: usage: jobs/submit.sh SITE SCRIPT ARGS..." >&2; exit 2; }
site=$1 script=$2; shift 2
jobs=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sitefile=$site; [[ $sitefile == */* ]] || sitefile=$jobs/sites/$site.sh
[[ -f $sitefile ]] || { echo "a4nn: submit: site file '$sitefile' not found" >&2; exit 1; }
[[ -f $script ]] || { echo "a4nn: submit: batch script '$script' not found" >&2; exit 1; }
# shellcheck source=/dev/null
source "$sitefile"
flags=(--parsable --export=ALL,A4NN_SITE="$sitefile",A4NN_JOBS_DIR="$jobs")
# shellcheck disable=SC2206
flags+=(${A4NN_GPUS:+--gpus=$A4NN_GPUS} ${A4NN_SITE_SBATCH_ARGS:-} ${A4NN_SBATCH_ARGS:-})
case $(basename "$script") in
  beam-intensities.sbatch) [[ $# -ge 1 ]] && { mkdir -p "$1"; flags+=(--output="$(cd "$1" && pwd)/slurm-%A_%a.out"); } ;;
  *) [[ $# -ge 2 ]] && { mkdir -p "$2"; flags+=(--output="$(cd "$2" && pwd)/slurm-%j.out"); } ;;
esac
exec sbatch "${flags[@]}" "$script" "$@"
