#!/usr/bin/env bash
# Every bad input to a4nn run is found before work starts: ONE "a4nn: ..."
# line, a non-zero exit, no Open MPI abort block and no run directory
# created. Config values (derived counts, genome length, curve names, data
# counts), INI files, datasets (made here with h5py) and replay curves. Then
# the lifecycle: --resume of a finished run, two runs on one directory,
# SIGINT to the ranks and SIGUSR1 to mpirun.
source "$(dirname "$0")/t_run_common.inc"
C=$(curves) || { echo "SKIPPED: reference curves (shared/data/curves) not found"; exit 77; }
$PY -c 'import h5py, numpy' 2>/dev/null || { echo "SKIPPED: /usr/bin/python3 lacks h5py/numpy (apt-get install python3-h5py)"; exit 77; }
tried=0 clean=0
# bad PATTERN ARGS...: `a4nn run ARGS` on 3 ranks fails with one a4nn: line
# holding PATTERN, and $TMP/never is not created
bad() {
  local pat=$1 rc=0; shift
  tried=$((tried + 1))
  run 3 "$A4NN" run "$@" >"$TMP/out" 2>&1 || rc=$?
  [[ $rc -ne 0 && $rc -lt 128 ]] || { cat "$TMP/out"; fail "exit $rc for: $*"; }
  [[ $(grep -c '^a4nn: ' "$TMP/out") -eq 1 ]] || { cat "$TMP/out"; fail "not one a4nn: line for: $*"; }
  grep -q "^a4nn: .*$pat" "$TMP/out" || { cat "$TMP/out"; fail "no 'a4nn: ...$pat' for: $*"; }
  grep -q 'MPI_ABORT\|MPI_Abort' "$TMP/out" && { cat "$TMP/out"; fail "an MPI abort for: $*"; }
  [[ ! -e $TMP/never ]] || fail "a run directory was created for: $*"
  clean=$((clean + 1))
  echo "ok: $(grep '^a4nn: ' "$TMP/out" | cut -c1-150)"
}
rp=(configs/replay.ini --worker.replay_curves="$C" --worker.replay_epoch_seconds=0 --run.dir="$TMP/never")
# ---- configuration ----
bad "at most 10000000 are supported" "${rp[@]}" --search.n_offspring=65536 --search.n_gens=32768
bad "n_phases = 6 with search.n_nodes = 8 makes genomes longer" "${rp[@]}" --search.n_phases=6 --search.n_nodes=8
bad "unknown curve 'nosuch'" "${rp[@]}" --penguin.curve=nosuch
bad "is a directory, not an INI file" "$TMP"
printf '[train]\nepochs = 3\n[search]\npop_size = 4\n[train]\nepochs = 5\n' >"$TMP/dup.ini"
bad "train.epochs is set twice" "$TMP/dup.ini"
printf 'epochs = 3\n' >"$TMP/nosec.ini"
bad "'epochs' is outside any \[section\]" "$TMP/nosec.ini"
bad "'root' is outside any \[section\]" /etc/passwd
# ---- replay curves ----
printf 'epoch,val_accs\n0,50\n1,60\n2,61\n' >"$TMP/short.csv"
bad "curve 0 of .* has 3 epochs, fewer than train.epochs = 25" "${rp[@]}" --worker.replay_curves="$TMP/short.csv"
printf 'epoch,val_accs\n0,50\n1,nan\n' >"$TMP/nan.csv"
bad "bad epoch '1' or val_accs 'nan'" "${rp[@]}" --worker.replay_curves="$TMP/nan.csv"
printf 'epoch,val_accs,train_accs\n0,50,40\n1,60,abc\n' >"$TMP/text.csv"
bad "a value in train_accs, predictions or flops is not a number" "${rp[@]}" --worker.replay_curves="$TMP/text.csv"
# ---- datasets ----
# mk NAME KIND: a small dataset in the a4nn format, broken as KIND says
mk() {
  $PY - "$TMP/$1.h5" "$2" <<'PY'
import sys, h5py, numpy as np
path, kind = sys.argv[1], sys.argv[2]
n, side = (1 if kind == "single" else 32), (2 if kind == "tiny" else 8)
rng = np.random.default_rng(1)
with h5py.File(path, "w") as f:
    for split in ("train", "test"):
        x = rng.poisson(3.0, (n, 1, side, side)).astype(np.float32)
        y = (np.arange(n) % 2).astype(np.uint8)
        if kind == "label" and split == "train": y[5] = 2
        if kind == "nan" and split == "test": x[3, 0, 1, 1] = np.nan
        if kind == "inf": x[2, 0, 0, 0] = np.inf
        if kind == "negative": x[4, 0, 2, 2] = -1
        if kind == "oneclass": y[:] = 1
        if kind == "zero": x[:] = 0
        if kind == "double": x = x.astype(np.float64)
        f[split + "/images"] = x
        f[split + "/labels"] = y
        f[split + "/orientations"] = np.tile([1.0, 0, 0, 0], (n, 1))
    f.attrs["norm_mean"] = 1.0
    f.attrs["norm_std"] = 0.5
PY
}
cpu=(configs/default.ini --search.pop_size=2 --search.n_offspring=1 --search.n_gens=1 --train.epochs=2 --train.batch=8
     --data.train_count=-1 --data.val_count=-1 --run.dir="$TMP/never")
mk good good
for spec in "label:labels\[5\] is 2, outside 0..1" "nan:holds nan, not a photon count" "inf:holds inf, not a photon count" \
            "negative:holds -1, not a photon count" "oneclass:all of class 1; both classes are needed" \
            "zero:every image used is blank" "tiny:images are 2x2 pixels" "single:1 training image(s) used" \
            "double:must be float32"; do
  mk "${spec%%:*}" "${spec%%:*}"
  bad "${spec#*:}" "${cpu[@]}" --data.file="$TMP/${spec%%:*}.h5"
done
bad "data.train_count = 5000, but .* has 32 training images" "${cpu[@]}" --data.file="$TMP/good.h5" --data.train_count=5000
bad "data.val_count = 40, but .* has 32 test images" "${cpu[@]}" --data.file="$TMP/good.h5" --data.val_count=40
bad "0 training image(s) used" "${cpu[@]}" --data.file="$TMP/good.h5" --data.train_count=0
bad "no validation images used" "${cpu[@]}" --data.file="$TMP/good.h5" --data.val_count=0
echo "ok: $tried bad inputs, $clean clean one-line errors"

# ---- lifecycle ----
small=(configs/replay.ini --worker.replay_curves="$C" --search.pop_size=4 --search.n_offspring=4 --search.n_gens=1 --run.seed=3 --quiet)
run 3 "$A4NN" run "${small[@]}" --worker.replay_epoch_seconds=0 --run.dir="$TMP/done" || fail "small run failed"
out=$(run 3 "$A4NN" run --resume "$TMP/done" 2>&1) || fail "--resume of a finished run exited $?"
[[ $out == *"has finished"* ]] || fail "--resume of a finished run said: $out"
echo "ok: --resume of a finished run: $out"
# a second run on a directory in use waits, then names the holder
mpirun -np 3 "$A4NN" run "${small[@]}" --worker.replay_epoch_seconds=0.3 --run.dir="$TMP/busy" >/dev/null 2>&1 & pid=$!
for _ in $(seq 1 300); do [[ -f $TMP/busy/commons.h5 ]] && break; sleep 0.05; done
out=$(run 3 "$A4NN" run --resume "$TMP/busy" 2>&1) && fail "a second run on a busy directory started"
[[ $out == *"is in use by a4nn run, pid"* ]] || { echo "$out"; fail "no lock message"; }
echo "ok: $(grep '^a4nn: ' <<<"$out")"
# SIGUSR1 to mpirun (forwarded to every rank): exit 75 and the resume command
kill -USR1 $pid; wait $pid; rc=$?
[[ $rc -eq 75 ]] || fail "SIGUSR1 to mpirun: exit $rc, want 75"
echo "ok: SIGUSR1 to mpirun: exit 75"
# SIGINT to the ranks: exit 75 and the exact resume command
mpirun -np 3 "$A4NN" run --resume "$TMP/busy" 2>"$TMP/int.err" & pid=$!
for _ in $(seq 1 300); do grep -q "(resumed)" "$TMP/busy/run.log" && break; sleep 0.05; done
pkill -INT -P $pid; wait $pid; rc=$?
[[ $rc -eq 75 ]] || { cat "$TMP/int.err"; fail "SIGINT: exit $rc, want 75"; }
grep -q -- "run --resume $TMP/busy" "$TMP/int.err" || { cat "$TMP/int.err"; fail "no resume command after SIGINT"; }
echo "ok: SIGINT to the ranks: exit 75 with the resume command"
# SIGTERM to the analytics rank alone stops the whole job the same way
before=$(grep -c "(resumed)" "$TMP/busy/run.log")
mpirun -np 3 "$A4NN" run --resume "$TMP/busy" 2>"$TMP/term.err" & pid=$!
for _ in $(seq 1 300); do [[ $(grep -c "(resumed)" "$TMP/busy/run.log") -ge $((before + 2)) ]] && break; sleep 0.05; done
for k in $(pgrep -P $pid); do
  [[ $(tr '\0' '\n' </proc/$k/environ | sed -n 's/^OMPI_COMM_WORLD_RANK=//p') == 2 ]] && kill -TERM "$k"
done
wait $pid; rc=$?
[[ $rc -eq 75 ]] || { cat "$TMP/term.err"; fail "SIGTERM to the analytics rank: exit $rc, want 75"; }
grep -q -- "--resume $TMP/busy" "$TMP/term.err" || fail "no resume command after SIGTERM to the analytics rank"
echo "ok: SIGTERM to the analytics rank: exit 75 with the resume command"
run 3 "$A4NN" run --resume "$TMP/busy" --quiet || fail "final resume failed"
