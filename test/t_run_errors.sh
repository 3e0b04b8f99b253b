#!/usr/bin/env bash
# Bad input to a4nn run gives a clear "a4nn: ..." error and a non-zero exit:
# unknown key, bad value, missing dataset, unusable run directories, too few ranks.
source "$(dirname "$0")/t_run_common.inc"
expect_err "unknown key search.popsize" run 3 "$A4NN" run configs/default.ini --search.popsize=4 --run.dir="$TMP/a"
expect_err "bad value 'many' for search.pop_size" run 3 "$A4NN" run configs/default.ini --search.pop_size=many --run.dir="$TMP/a"
expect_err "bad value 'gpu9' for worker.backend" run 3 "$A4NN" run configs/default.ini --worker.backend=gpu9 --run.dir="$TMP/a"
printf '[train]\nepochz = 3\n' >"$TMP/bad.ini"
expect_err "unknown key train.epochz" run 3 "$A4NN" run "$TMP/bad.ini"
printf '[train]\nepochs = -3\n' >"$TMP/bad2.ini"
expect_err "bad value '-3' for train.epochs" run 3 "$A4NN" run "$TMP/bad2.ini"
expect_err "penguin.policy" run 3 "$A4NN" run configs/default.ini --penguin.policy=guess --run.dir="$TMP/a"
expect_err "no-such-data.h5" run 3 "$A4NN" run configs/default.ini --data.file="$TMP/no-such-data.h5" --run.dir="$TMP/a"
expect_err "cannot open $TMP/none.ini" run 3 "$A4NN" run "$TMP/none.ini"
expect_err "cannot resume $TMP/empty" bash -c "mkdir -p '$TMP/empty' && mpirun --oversubscribe -np 3 '$A4NN' run --resume '$TMP/empty'"
expect_err "cannot resume /etc/hostname" run 3 "$A4NN" run --resume /etc/hostname
expect_err "/dev/null/run" run 3 "$A4NN" run configs/default.ini --data.synthetic=on --run.dir=/dev/null/run
if ! nvidia-smi -L >/dev/null 2>&1; then
  expect_err "gpu select: no GPU is visible" run 3 "$A4NN" run configs/default.ini --data.synthetic=on --worker.backend=cuda --run.dir="$TMP/nogpu"
fi
expect_err "worker.tf32 = on needs worker.backend = cuda or auto" run 3 "$A4NN" run configs/default.ini --data.synthetic=on --worker.tf32=on --run.dir="$TMP/tf"
expect_err "too few" run 2 "$A4NN" run configs/default.ini --data.synthetic=on --run.dir="$TMP/b"
# a directory that already holds a run
C=$(curves) && {
  run 3 "$A4NN" run configs/replay.ini --worker.replay_curves="$C" --search.pop_size=2 --search.n_offspring=1 --search.n_gens=1 --train.epochs=3 --worker.replay_epoch_seconds=0 --run.dir="$TMP/done" --quiet || fail "small replay run"
  expect_err "already holds a run" run 3 "$A4NN" run configs/replay.ini --worker.replay_curves="$C" --run.dir="$TMP/done"
}
echo "ok: every bad input named"
