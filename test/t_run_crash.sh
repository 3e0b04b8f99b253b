#!/usr/bin/env bash
# Durability of the commons: the job killed (SIGKILL) at chosen durable steps
# (inside journal records, inside and between snapshot writes) and at random
# moments, and a full disk (injected ENOSPC; a real small tmpfs where one can
# be mounted). After each, commons.h5 is readable by h5dump and --resume ends
# with the results of the uninterrupted run.
source "$(dirname "$0")/t_run_common.inc"
C=$(curves) || { echo "SKIPPED: reference curves (shared/data/curves) not found"; exit 77; }
command -v h5dump >/dev/null || { echo "SKIPPED: h5dump not installed (apt-get install hdf5-tools)"; exit 77; }
common=(configs/replay.ini --worker.backend=replay --worker.replay_curves="$C"
        --worker.replay_epoch_seconds=0 --search.pop_size=6 --search.n_offspring=6
        --search.n_gens=2 --train.epochs=25 --run.seed=11 --quiet)
NP=3
run $NP "$A4NN" run "${common[@]}" --run.dir="$TMP/ref" 2>"$TMP/ref.err" || { cat "$TMP/ref.err"; fail "reference run failed"; }
stable_results "$TMP/ref/results.csv" >"$TMP/ref.txt"
[[ ! -e $TMP/ref/commons.journal ]] || fail "a finished run left its journal"
# durable steps of one run without snapshots between (and with one per record)
steps() { A4NN_TEST_CRASH_AT=1000000 run $NP "$A4NN" run "${common[@]}" --run.dir="$TMP/steps$1" 2>&1 |
          sed -n 's/^commons: \([0-9]*\) durable steps/\1/p'; }
n_lazy=$(steps 0)  # the uninterrupted run with the hook counting
n_eager=$(A4NN_COMMONS_SNAPSHOT_SECONDS=0 steps 1)
[[ $n_lazy -gt 20 && $n_eager -gt $n_lazy ]] || fail "unexpected step counts $n_lazy / $n_eager"
echo "durable steps per run: $n_lazy (snapshot at the end), $n_eager (snapshot after every record)"

# resume DIR: the commons is readable, --resume ends identical to the reference
resume_same() {
  h5dump -H "$1/commons.h5" >/dev/null || fail "h5dump cannot read $1/commons.h5"
  run $NP "$A4NN" run --resume "$1" --quiet 2>"$TMP/resume.err" || { cat "$TMP/resume.err"; fail "resume of $1 failed"; }
  diff "$TMP/ref.txt" <(stable_results "$1/results.csv") >/dev/null || fail "$1: resumed results differ"
  h5dump -H "$1/commons.h5" >/dev/null || fail "h5dump cannot read $1/commons.h5 after resume"
}

RANDOM=$(( $$ % 1000 )); echo "RANDOM seeded with $(( $$ % 1000 ))"
kills=0
# ---- kills at chosen durable steps (rank 0 dies; mpirun takes the job down) ----
for i in $(seq 1 12); do
  if (( i % 2 )); then snap=60 n=$(( 2 + RANDOM % (n_lazy - 1) )); else snap=0 n=$(( 2 + RANDOM % (n_eager - 1) )); fi
  d=$TMP/kill$i
  A4NN_COMMONS_SNAPSHOT_SECONDS=$snap A4NN_TEST_CRASH_AT=$n run $NP "$A4NN" run "${common[@]}" --run.dir="$d" >/dev/null 2>&1 \
    && fail "run killed at step $n finished"
  kills=$((kills + 1))
  echo "kill $kills: at durable step $n (snapshot every ${snap}s), $(( $(wc -l <"$d/results.csv") - 1 )) models in results.csv"
  resume_same "$d"
done
# ---- SIGKILL of every process of the job at random moments ----
slow=("${common[@]}" --worker.replay_epoch_seconds=0.01)
for i in $(seq 1 8); do
  d=$TMP/rand$i
  A4NN_COMMONS_SNAPSHOT_SECONDS=$(( i % 2 ? 60 : 0 )) mpirun -np $NP "$A4NN" run "${slow[@]}" --run.dir="$d" >/dev/null 2>&1 & pid=$!
  for _ in $(seq 1 500); do [[ -f $d/results.csv && $(wc -l <"$d/results.csv") -ge 2 ]] && break; sleep 0.02; done
  sleep "0.$(( RANDOM % 10 ))"
  kids=$(pgrep -P $pid)
  kill -9 $kids $pid 2>/dev/null; wait $pid 2>/dev/null
  for k in $kids; do while kill -0 "$k" 2>/dev/null; do sleep 0.02; done; done
  [[ -f $d/commons.h5 ]] || { echo "random kill $i: before the commons existed"; continue; }
  if [[ -e $d/commons.journal ]]; then
    kills=$((kills + 1)); echo "kill $kills: at a random moment, $(( $(wc -l <"$d/results.csv") - 1 )) models in results.csv"
  else echo "random kill $i: the run had finished"; fi
  resume_same "$d"
done
[[ $kills -ge 20 ]] || fail "only $kills kills landed mid-run"
echo "ok: $kills kills, every commons readable, every resume identical"

# ---- a full disk: injected ENOSPC at a journal record and inside snapshots ----
full=0
for spec in "60 $(( n_lazy / 2 ))" "60 $(( n_lazy / 2 + 1 ))" "0 $(( n_eager / 2 ))" "0 $(( n_eager - 3 ))"; do
  read -r snap n <<<"$spec"
  d=$TMP/full$n-$snap
  A4NN_COMMONS_SNAPSHOT_SECONDS=$snap A4NN_TEST_ENOSPC_AT=$n run $NP "$A4NN" run "${common[@]}" --run.dir="$d" >"$TMP/full.out" 2>&1 \
    && fail "run with a full disk at step $n succeeded"
  grep -q '^a4nn: .*No space left on device' "$TMP/full.out" || { cat "$TMP/full.out"; fail "no a4nn: error naming the full disk"; }
  full=$((full + 1))
  echo "disk full $full: at durable step $n: $(grep -m1 '^a4nn: ' "$TMP/full.out" | cut -c1-120)"
  resume_same "$d"
done

# ---- a real full disk: a small tmpfs filled while the run writes ----
mnt=$TMP/tmpfs; mkdir -p "$mnt"
if mount -t tmpfs -o size=2m tmpfs "$mnt" 2>/dev/null; then
  trap 'umount "$mnt" 2>/dev/null; rm -rf "$TMP"' EXIT
  d=$mnt/run
  mpirun -np $NP "$A4NN" run "${slow[@]}" --run.dir="$d" >"$TMP/tmpfs.out" 2>&1 & pid=$!
  for _ in $(seq 1 300); do [[ -s $d/results.csv && $(wc -l <"$d/results.csv") -gt 3 ]] && break; sleep 0.02; done
  dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null
  wait $pid; rc=$?
  if [[ $rc -ne 0 ]]; then
    grep -q '^a4nn: .*No space left on device' "$TMP/tmpfs.out" || { cat "$TMP/tmpfs.out"; fail "no a4nn: error naming the full tmpfs"; }
    full=$((full + 1))
    echo "disk full $full: real tmpfs: $(grep -m1 '^a4nn: ' "$TMP/tmpfs.out" | cut -c1-120)"
  else
    echo "the tmpfs run finished before the disk filled"
  fi
  rm -f "$mnt/filler"
  resume_same "$d"
  umount "$mnt"
else
  echo "(no tmpfs: mount needs root; the injected ENOSPC cases above still ran)"
fi
echo "ok: $full full-disk runs, every resume identical"
