#!/usr/bin/env bash
# Stops the private Slurm that test/slurm/up.sh started in DIR (by the process
# ids it recorded) and removes DIR.   test/slurm/down.sh "$A4NN_SLURM_DIR"
set -uo pipefail
dir=${1:-${A4NN_SLURM_DIR:-}}
[[ -n $dir && -d $dir && $dir == /tmp/a4nn-slurm.* ]] || { echo "a4nn: slurm teardown: no such test directory '$dir'" >&2; exit 1; }
if [[ -f $dir/slurm.conf ]]; then
  SLURM_CONF=$dir/slurm.conf scancel --quiet --full --user="$(id -un)" >/dev/null 2>&1 || true
fi
stop() { # pidfile: TERM, wait up to 10 s, then KILL
  local f=$1 pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}
stop "$dir/slurmd.pid"
stop "$dir/slurmctld.pid"
stop "$dir/munged.pid"
rm -rf "$dir"
