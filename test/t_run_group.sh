#!/usr/bin/env bash
# a4nn run with worker groups on the CPU backend: worker.group_size = 2 ranks
# train each model together (each on half of every batch, gradients averaged
# by MPI_Allreduce). In generational mode the results do not depend on the
# number of groups; SIGTERM + resume reproduces them (the leader's checkpoint
# reaches the whole group); bad group sizes are named errors.
source "$(dirname "$0")/t_run_common.inc"
data=data/default/xfel-1e16.h5
A4NN_BUILD=$(dirname "$A4NN") scripts/make-default-data.sh >"$TMP/data.log" 2>&1 \
  || { cat "$TMP/data.log"; fail "cannot generate the default data"; }
args=(configs/default.ini --data.file="$data" --search.pop_size=3 --search.n_offspring=2
      --search.n_gens=1 --train.epochs=8 --data.train_count=512 --data.val_count=256
      --search.init_channels=4 --train.batch=32)
# the seed rule with a wide convergence band: PENGUIN stops models as early as its rule allows,
# so that STOPs reach the groups
loose=(--penguin.policy=seed --penguin.tolerance=100)

# one group of 2 ranks (4 ranks: search, 2 workers, analytics)
run 4 "$A4NN" run "${args[@]}" "${loose[@]}" --worker.group_size=2 --run.dir="$TMP/g1" >"$TMP/out1" 2>&1 \
  || { cat "$TMP/out1"; fail "run with one group of 2 failed"; }
cat "$TMP/out1"
check_once "$TMP/g1/results.csv" 5
grep -q "1 worker group of 2 ranks" "$TMP/out1" || fail "the log does not name the group"
$PY - "$TMP/g1/results.csv" <<'PY' || fail "implausible group results"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    assert r["worker"] == "1", r          # the group's leader reports
    assert 0 < float(r["last_val_acc"]) <= 100, r
    # a STOP ends the group's training within an epoch of the decision
    assert int(r["epochs_trained"]) <= int(r["epochs_run"]) <= int(r["epochs_trained"]) + 1, r
    if r["stop_reason"] == "budget":
        assert int(r["epochs_trained"]) == 8, r
stopped = [r for r in rows if r["stop_reason"] == "converged"]
print(f"{len(stopped)} of {len(rows)} models stopped by PENGUIN")
assert stopped, "no model was stopped: STOPs to groups not exercised"
PY
echo "ok: one group of 2 ranks"

# two groups of 2 (6 ranks): the same results, models spread over both leaders
run 6 "$A4NN" run "${args[@]}" "${loose[@]}" --worker.group_size=2 --run.dir="$TMP/g2" --quiet >"$TMP/out2" 2>&1 \
  || { cat "$TMP/out2"; fail "run with two groups of 2 failed"; }
diff <(stable_results "$TMP/g1/results.csv") <(stable_results "$TMP/g2/results.csv") \
  || fail "two groups give other results than one group"
[[ $($PY -c '
import csv, sys
print(" ".join(sorted({r["worker"] for r in csv.DictReader(open(sys.argv[1]))})))' "$TMP/g2/results.csv") == "1 3" ]] \
  || fail "models not trained by both group leaders (ranks 1 and 3)"
echo "ok: two groups of 2 reproduce one group"

# full training (PENGUIN off) by workers of one rank and by groups of 2: the
# same genomes of the first generation and accuracies close to each other
# (in a group BatchNorm's batch statistics come from half batches, so they
# are not equal)
for g in 1 2; do
  run 4 "$A4NN" run "${args[@]}" --penguin=off --worker.group_size=$g --run.dir="$TMP/full$g" --quiet >"$TMP/out3" 2>&1 \
    || { cat "$TMP/out3"; fail "PENGUIN-off run with worker.group_size=$g failed"; }
done
$PY - "$TMP/full1/results.csv" "$TMP/full2/results.csv" <<'PY' || fail "groups train differently from single ranks"
import csv, sys
a = {r["id"]: r for r in csv.DictReader(open(sys.argv[1]))}
b = {r["id"]: r for r in csv.DictReader(open(sys.argv[2]))}
assert a.keys() == b.keys()
d = []
for k in sorted(a):
    if int(k) < 3:  # generation 0 comes from the seed alone
        assert a[k]["genome"] == b[k]["genome"], (a[k], b[k])
    assert int(a[k]["epochs_trained"]) == int(b[k]["epochs_trained"]) == 8
    assert float(a[k]["last_val_acc"]) > 60 and float(b[k]["last_val_acc"]) > 60, (a[k], b[k])
    d.append(abs(float(a[k]["last_val_acc"]) - float(b[k]["last_val_acc"])))
print("validation accuracy after 8 epochs, single rank vs group of 2: mean |difference| "
      "%.2f points, max %.2f" % (sum(d) / len(d), max(d)))
assert sum(d) / len(d) < 5, d
PY
echo "ok: groups train like single ranks"

# SIGTERM while a group trains, then --resume: identical to the uninterrupted run
interrupt_and_resume 4 5 "$TMP/term" "${args[@]}" "${loose[@]}" --worker.group_size=2
grep -q "continued from epoch" "$TMP/term/run.log" || fail "no model continued from its checkpoint"
diff <(stable_results "$TMP/g1/results.csv") <(stable_results "$TMP/term/results.csv") \
  || fail "resumed group results differ from the uninterrupted run"
echo "ok: SIGTERM + resume reproduces the group run"

# group sizes that do not fit the ranks
expect_err "3 worker ranks .* cannot form groups of worker.group_size = 2" run 5 "$A4NN" run "${args[@]}" --worker.group_size=2 --run.dir="$TMP/e1"
expect_err "too few" run 3 "$A4NN" run "${args[@]}" --worker.group_size=2 --run.dir="$TMP/e2"
expect_err "train.batch = 3 is too small" run 4 "$A4NN" run "${args[@]}" --worker.group_size=2 --train.batch=3 --run.dir="$TMP/e3"
[[ ! -e $TMP/e1/commons.h5 && ! -e $TMP/e2/commons.h5 && ! -e $TMP/e3/commons.h5 ]] || fail "a refused run wrote a commons"
echo "ok: worker groups in a4nn run"
