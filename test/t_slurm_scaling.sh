#!/usr/bin/env bash
# jobs/scaling-study.sh on a real single-node Slurm (test/slurm/up.sh): the
# same tiny replay search at 1, 2 and 4 workers, submitted as jobs plus a
# summary job that depends on them (the script itself returns at once);
# checks the dependency, the GPUs asked for, the collected table
# (same models at every count, utilisation and efficiency in range) and plot;
# then a tiny CPU search by one worker group of 2 ranks (--group-size 2).
set -uo pipefail
source "$(dirname "$0")/slurm/common.sh"
A4NN=$A4NN_BUILD/a4nn
[[ -x $A4NN ]] || fail "$A4NN not built"
"$A4NN" run --help >/dev/null 2>&1 || skip "this a4nn has no 'run' command"
curves=$(reference_curves) || exit 77
slurm_up
TEST_TMP=$(mktemp -d /tmp/a4nn-t-slurm-scaling.XXXXXX)
cd "$A4NN_ROOT_DIR" || fail cd
export A4NN

# runs the study, waits for its summary job; prints the study's output
study() { # log args...
  local log=$1 sid; shift
  jobs/scaling-study.sh "$@" >"$log" 2>&1 || fail "scaling study failed: $(cat "$log")"
  cat "$log"
  sid=$(sed -n 's/^scaling-study: summary job \([0-9]*\) after .*/\1/p' "$log")
  [[ -n $sid ]] || fail "no summary job in the study's output"
  [[ $(job_field "$sid" JobState) == PENDING ]] || fail "summary job $sid is $(job_field "$sid" JobState) before its legs ended"
  echo "$sid" >"$log.sid"
  slurm_wait 300 "$sid" $(sed -n 's/^scaling-study: .* workers: job \([0-9]*\) .*/\1/p' "$log") || fail "study jobs did not finish"
  cat "$TEST_TMP"/*/summary-"$sid".out
  [[ $(job_field "$sid" JobState) == COMPLETED ]] || fail "summary job ended $(job_field "$sid" JobState)"
}
study "$TEST_TMP/study.log" --site ci --max-workers 4 configs/replay.ini "$TEST_TMP/study" \
  --search.pop_size=8 --search.n_offspring=8 --search.n_gens=1 --worker.replay_curves="$curves" \
  --worker.replay_epoch_seconds=0.05
sid=$(cat "$TEST_TMP/study.log.sid")
# the summary job waited for every leg (afterany), the legs asked for no GPU on this site
legs=$(sed -n 's/^scaling-study: .* workers: job \([0-9]*\) .*/\1/p' "$TEST_TMP/study.log" | tr '\n' ' ')
[[ $(echo $legs | wc -w) -eq 3 ]] || fail "not 3 leg jobs: $legs"
echo "ok: scaling study: legs $legs, summary job $sid"

/usr/bin/python3 - "$TEST_TMP/study/scaling.csv" "$TEST_TMP/study/scaling.svg" <<'PY' || fail "table checks"
import csv, sys, xml.etree.ElementTree as ET
rows = list(csv.DictReader(open(sys.argv[1])))
assert [int(r["workers"]) for r in rows] == [1, 2, 4], rows
assert [int(r["ranks"]) for r in rows] == [3, 4, 6], rows
assert {int(r["models"]) for r in rows} == {16}, "not every run evaluated the 16 models"
assert len({int(r["epochs_trained"]) for r in rows}) == 1, "generational runs trained different epochs"
for r in rows:
    u, e, t = float(r["utilisation_pct"]), float(r["efficiency_pct"]), float(r["time_to_solution_s"])
    assert 0 < u <= 100 and t > 0 and e > 0, r
    assert int(r["legs"]) == 1, r
assert float(rows[0]["efficiency_pct"]) == 100.0
assert float(rows[2]["time_to_solution_s"]) < float(rows[0]["time_to_solution_s"]), "4 workers were not faster than 1"
svg = ET.parse(sys.argv[2]).getroot()
assert len([e for e in svg.iter() if e.tag.endswith("polyline")]) == 3
labels = [e.text for e in svg.iter() if e.tag.endswith("text")]
assert labels.count("workers (GPUs)") == 3, labels
print("scaling table and plot ok")
PY
# worker groups: one worker of 2 ranks training a tiny CPU search together
A4NN_BUILD=$A4NN_BUILD scripts/make-default-data.sh >"$TEST_TMP/data.log" 2>&1 || fail "default data: $(cat "$TEST_TMP/data.log")"
study "$TEST_TMP/groups.log" --site ci --workers 1 --group-size 2 configs/default.ini "$TEST_TMP/groups" \
  --search.pop_size=2 --search.n_offspring=1 --search.n_gens=1 --train.epochs=2 --data.train_count=128 \
  --data.val_count=64 --search.init_channels=4 --train.batch=32
/usr/bin/python3 - "$TEST_TMP/groups/scaling.csv" "$TEST_TMP/groups/w1/results.csv" <<'PY' || fail "group table checks"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 1, rows
r = rows[0]
assert (r["workers"], r["group_size"], r["gpus"], r["ranks"], r["models"]) == ("1", "2", "2", "4", "3"), r
assert {m["worker"] for m in csv.DictReader(open(sys.argv[2]))} == {"1"}, "not trained by the group leader"
print("scaling study with a worker group of 2 ok")
PY
grep -q "1 worker group of 2 ranks" "$TEST_TMP/groups/w1/run.log" || fail "run.log does not name the group"
grep -q ">worker groups (2 GPUs each)<" "$TEST_TMP/groups/scaling.svg" || fail "the plot does not name the groups"
[[ ! -e "worker groups (2 GPUs each)" && ! -e "workers (GPUs)" ]] || fail "the plot's labels went to files"
if jobs/scaling-study.sh --group-size 0 configs/replay.ini "$TEST_TMP/bad" 2>"$TEST_TMP/err"; then fail "bad --group-size accepted"; fi
grep -q '^a4nn: scaling-study: --group-size' "$TEST_TMP/err" || fail "no a4nn: message: $(cat "$TEST_TMP/err")"

# bad input
if jobs/scaling-study.sh --max-workers x configs/replay.ini "$TEST_TMP/bad" 2>"$TEST_TMP/err"; then fail "bad --max-workers accepted"; fi
grep -q '^a4nn: scaling-study:' "$TEST_TMP/err" || fail "no a4nn: message: $(cat "$TEST_TMP/err")"
echo PASS
