#!/usr/bin/env bash
# jobs/scaling-study.sh on a real single-node Slurm (test/slurm/up.sh): the
# same tiny replay search at 1, 2 and 4 workers; checks the collected table
# (same models at every count, utilisation and efficiency in range) and plot.
set -uo pipefail
source "$(dirname "$0")/slurm/common.sh"
A4NN=$A4NN_BUILD/a4nn
[[ -x $A4NN ]] || fail "$A4NN not built"
"$A4NN" run --help >/dev/null 2>&1 || skip "this a4nn has no 'run' command"
curves=$(reference_curves) || exit 77
slurm_up
TEST_TMP=$(mktemp -d /tmp/a4nn-t-slurm-scaling.XXXXXX)
cd "$A4NN_ROOT_DIR" || fail cd
export A4NN A4NN_POLL=1

jobs/scaling-study.sh --site ci --max-workers 4 --timeout 240 configs/replay.ini "$TEST_TMP/study" \
  --search.pop_size=8 --search.n_offspring=8 --search.n_gens=1 --worker.replay_curves="$curves" \
  --worker.replay_epoch_seconds=0.05 || fail "scaling study failed"

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
print("scaling table and plot ok")
PY
# bad input
if jobs/scaling-study.sh --max-workers x configs/replay.ini "$TEST_TMP/bad" 2>"$TEST_TMP/err"; then fail "bad --max-workers accepted"; fi
grep -q '^a4nn: scaling-study:' "$TEST_TMP/err" || fail "no a4nn: message: $(cat "$TEST_TMP/err")"
echo PASS
