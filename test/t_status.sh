#!/usr/bin/env bash
# a4nn status on a running search (replay backend, slowed down) and after it:
# models done/in flight/pending add up, the numbers equal results.csv, the
# finished run says so, and a missing directory is a clear error; the run's
# config.ini keeps the values as written.
source "$(dirname "$0")/t_run_common.inc"
C=$(curves) || { echo "SKIPPED: reference curves (shared/data/curves) not found"; exit 77; }
run 5 "$A4NN" run configs/replay.ini --worker.replay_curves="$C" --worker.replay_epoch_seconds=0.04 \
  --search.pop_size=6 --search.n_offspring=6 --search.n_gens=1 --run.dir="$TMP/r" --quiet \
  >"$TMP/run.out" 2>&1 & pid=$!
seen=0
for _ in $(seq 1 600); do  # poll until a status shows a run part done
  if "$A4NN" status "$TMP/r" >"$TMP/live" 2>/dev/null && grep -q "not finished" "$TMP/live" &&
     ! grep -q "models      0 done" "$TMP/live"; then seen=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
wait $pid || { cat "$TMP/run.out"; fail "run failed"; }
[[ $seen = 1 ]] || fail "never saw the running search part done"
cat "$TMP/live"
grep -q "ETA         about" "$TMP/live" || fail "no ETA while running"
$PY - "$TMP/live" <<'PY' || fail "live counts do not add up"
import re, sys
t = open(sys.argv[1]).read()
d, f, p, tot = map(int, re.search(r"(\d+) done, (\d+) in flight, (\d+) pending \(of (\d+)\)", t).groups())
assert 0 < d < tot and d + f + p == tot, (d, f, p, tot)
PY
"$A4NN" status "$TMP/r" | tee "$TMP/after"
grep -q ": finished" "$TMP/after" || fail "finished run not reported as finished"
$PY - "$TMP/after" "$TMP/r/results.csv" <<'PY' || fail "status numbers differ from results.csv"
import re, sys, csv
t = open(sys.argv[1]).read()
rows = list(csv.DictReader(open(sys.argv[2])))
assert "models      %d done, 0 in flight, 0 pending (of %d)" % (len(rows), len(rows)) in t, t
key = "epochs_trained" if "epochs_trained" in rows[0] else "epochs"
used = sum(int(r[key]) for r in rows)
assert re.search(r"epochs      %d trained" % used, t), (used, t)
best = max(float(r["fitness"]) for r in rows)
assert "fitness %.2f %%" % best in t, (best, t)
PY
# config.ini keeps the values as the config file wrote them
grep -qx "lr = 0.025" "$TMP/r/config.ini" && grep -qx "weight_decay = 0.0003" "$TMP/r/config.ini" \
  || { grep -E "^(lr|weight_decay)" "$TMP/r/config.ini"; fail "config.ini does not keep the values as written"; }
expect_err "no such run directory" "$A4NN" status "$TMP/missing"
echo "ok: status while running and after"
