#!/usr/bin/env bash
# Reliability: kill -9 of the whole job mid-run, then --resume, ends with the
# same results as an uninterrupted run; SIGTERM stops every rank with exit
# status 75 and a resume hint, and --resume finishes the search identically.
source "$(dirname "$0")/t_run_common.inc"
C=$(curves) || { echo "SKIPPED: reference curves (shared/data/curves) not found"; exit 77; }
common=(configs/replay.ini --worker.backend=replay --worker.replay_curves="$C"
        --worker.replay_epoch_seconds=0.02 --search.pop_size=8 --search.n_offspring=8
        --search.n_gens=2 --train.epochs=25 --run.seed=11 --quiet)

run 5 "$A4NN" run "${common[@]}" --run.dir="$TMP/ref" || fail "reference run failed"

rows() { [[ -f $1/results.csv ]] && echo $(( $(wc -l <"$1/results.csv") - 1 )) || echo 0; }
wait_rows() {  # dir n pid
  for _ in $(seq 1 600); do
    [[ $(rows "$1") -ge $2 ]] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# ---- kill -9 mid-run ----
mpirun --oversubscribe -np 5 "$A4NN" run "${common[@]}" --run.dir="$TMP/k9" & pid=$!
wait_rows "$TMP/k9" 10 $pid || fail "run did not reach 10 models"
kids=$(pgrep -P $pid)
kill -9 $kids $pid 2>/dev/null; wait $pid 2>/dev/null
for k in $kids; do while kill -0 "$k" 2>/dev/null; do sleep 0.05; done; done
done_before=$(rows "$TMP/k9")
echo "killed after $done_before models"
[[ $done_before -lt 24 ]] || fail "run finished before the kill"
run 4 "$A4NN" run --resume "$TMP/k9" --quiet || fail "resume after kill -9 failed"
check_once "$TMP/k9/results.csv" 24
diff <(stable_results "$TMP/ref/results.csv") <(stable_results "$TMP/k9/results.csv") \
  || fail "resumed results differ from the uninterrupted run"
grep -q "from the commons" "$TMP/k9/run.log" || fail "finished models were not reused"

# ---- SIGTERM to every rank (as Slurm does) ----
mpirun --oversubscribe -np 5 "$A4NN" run "${common[@]}" --run.dir="$TMP/term" 2>"$TMP/term.err" & pid=$!
wait_rows "$TMP/term" 6 $pid || fail "run did not reach 6 models"
pkill -TERM -P $pid
wait $pid; rc=$?
cat "$TMP/term.err"
[[ $rc -eq 75 ]] || fail "an interrupted run exited $rc, want 75"
grep -q -- "--resume $TMP/term" "$TMP/term.err" || fail "no resume hint"
n=$(rows "$TMP/term"); [[ $n -lt 24 ]] || fail "run finished before SIGTERM"
ls "$TMP/term/checkpoints" | grep -q ckpt || fail "no checkpoints written"
run 5 "$A4NN" run --resume "$TMP/term" --quiet || fail "resume after SIGTERM failed"
diff <(stable_results "$TMP/ref/results.csv") <(stable_results "$TMP/term/results.csv") \
  || fail "results after SIGTERM + resume differ"
echo "ok: kill -9 and SIGTERM runs resume to the uninterrupted results"
