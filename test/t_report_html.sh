#!/usr/bin/env bash
# a4nn report / export on run directories written in the commons format: the
# numbers in the HTML (embedded JSON), the exports and the terminal summary
# equal those in the commons; bad input gives a clear error.
# With A4NN_REPORT_FIXTURE_ONLY=DIR it only writes two fixture runs under DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
A4NN=${A4NN_BUILD:-$PWD/build}/a4nn
PY=/usr/bin/python3
$PY -c 'import h5py, numpy' 2>/dev/null || { echo "SKIPPED: /usr/bin/python3 lacks h5py/numpy"; exit 77; }

fixture() { # fixture OUT_DIR N_MODELS WORKERS SEED
  $PY - "${A4NN_SHARED:-../shared}/data/curves/nsganet-xfel-1e16-full.csv" "$@" <<'PYEOF'
import sys, os, csv, math, numpy as np, h5py
src, out, nmodels, workers, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = np.random.default_rng(seed)
curves = []  # (genome, mflops, [(train, val, pred, conv)])
if os.path.exists(src):
    by = {}
    with open(src) as f:
        for r in csv.DictReader(f):
            by.setdefault(r["genome"], (float(r["flops"]), []))[1].append(
                (float(r["train_accs"]), float(r["val_accs"]), float(r["predictions"]), r["converged"] == "True"))
    keys = list(by)
    rng.shuffle(keys)
    curves = [(k, by[k][0], by[k][1]) for k in keys[:nmodels]]
else:  # synthetic curves a - b^(c - x) with a noisy tail
    for i in range(nmodels):
        bits = rng.integers(0, 2, 21)
        g = "[" + ", ".join("[" + ", ".join(str(b) for b in bits[p*7:(p+1)*7]) + "]" for p in range(3)) + "]"
        a, c = rng.uniform(80, 99), rng.uniform(2, 6)
        rows = []
        for x in range(25):
            v = a - 1.3 ** (c - x) + rng.normal(0, 0.3)
            rows.append((v + 2, v, a + rng.normal(0, 0.2) if x >= 3 else float("inf"), x >= 8))
        curves.append((g, float(rng.uniform(100, 900)), rows))
os.makedirs(out, exist_ok=True)
et = np.dtype([("epoch", "<i4"), ("train_acc", "<f8"), ("val_acc", "<f8"), ("loss", "<f8"), ("seconds", "<f8")])
pt = np.dtype([("epoch", "<i4"), ("prediction", "<f8"), ("uncertainty", "<f8"), ("converged", "<i4")])
with h5py.File(os.path.join(out, "commons.h5"), "w") as h:
    h.attrs["config"] = "[search]\nseed = %d\n[train]\nepochs = 25\n" % seed
    h.attrs["seed"] = np.uint64(seed)
    h.attrs["version"] = "0.1.0"
    h.attrs["start_time"] = "2026-01-01T00:00:00Z"
    g = h.create_group("models")
    free = [1.0e9] * workers
    for i, (key, mf, rs) in enumerate(curves):
        stop = next((k + 1 for k, r in enumerate(rs) if r[3]), len(rs))
        w = int(np.argmin(free))
        secs = [float(rng.uniform(0.5, 1.5)) * mf / 300 for _ in range(stop)]
        t0 = free[w] + float(rng.uniform(0, 4)); t1 = t0 + sum(secs); free[w] = t1
        E = np.array([(k, rs[k][0], rs[k][1], 1.0 / (k + 1), secs[k]) for k in range(stop)], et)
        P = np.array([(k, rs[k][2], 0.05 * (stop - k), int(rs[k][3])) for k in range(stop)
                      if math.isfinite(rs[k][2])], pt)
        conv = [p for p in P if p["converged"]]
        m = g.create_group("%06d" % i)
        m.attrs["id"] = np.int64(i); m.attrs["genome"] = key; m.attrs["mflops"] = mf
        m.attrs["params"] = np.int64(rng.integers(10000, 200000)); m.attrs["epochs_trained"] = np.int64(stop)
        m.attrs["stop_reason"] = "converged" if conv else "budget"
        m.attrs["fitness"] = float(conv[0]["prediction"]) if conv else float(E[-1]["val_acc"])
        m.attrs["predicted"] = float(P[-1]["prediction"]) if len(P) else float("nan")
        m.attrs["last_val_acc"] = float(E[-1]["val_acc"]); m.attrs["worker"] = np.int64(w + 1)
        m.attrs["start_time"] = t0; m.attrs["end_time"] = t1; m.attrs["seconds"] = sum(secs)
        m.create_dataset("epochs", data=E); m.create_dataset("predictions", data=P)
PYEOF
}

if [[ -n ${A4NN_REPORT_FIXTURE_ONLY:-} ]]; then
  fixture "$A4NN_REPORT_FIXTURE_ONLY/beamA" 40 3 11
  fixture "$A4NN_REPORT_FIXTURE_ONLY/beamB" 30 2 12
  exit 0
fi

[[ -x $A4NN ]] || { echo "no $A4NN (build first)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fixture "$tmp/beamA" 40 3 11
fixture "$tmp/beamB" 30 2 12

"$A4NN" report "$tmp/beamA" "$tmp/beamB" -o "$tmp/r.html" >"$tmp/summary.txt"
cat "$tmp/summary.txt"
grep -q "wrote $tmp/r.html" "$tmp/summary.txt"
"$A4NN" report "$tmp/beamA" -q; [[ -s $tmp/beamA/report.html ]]   # default output beside the run
"$A4NN" export "$tmp/beamA" --format json -o "$tmp/a.json"
"$A4NN" export "$tmp/beamA" --format csv >"$tmp/a.csv"

$PY - "$tmp" <<'PYEOF'
import sys, json, csv, re, math, h5py
tmp = sys.argv[1]
html = open(tmp + "/r.html").read()
m = re.search(r'<script type="application/json" id="a4nn-data">(.*?)</script>', html, re.S)
assert m, "no embedded data"
D = json.loads(m.group(1))
assert [r["name"] for r in D["runs"]] == ["beamA", "beamB"], [r["name"] for r in D["runs"]]
summary = open(tmp + "/summary.txt").read()
def same(a, b, what):
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        assert (a is None) and (b is None or math.isnan(b)), (what, a, b)
    else:
        assert a == b, (what, a, b)
for run in D["runs"]:
    with h5py.File("%s/%s/commons.h5" % (tmp, run["name"]), "r") as h:
        assert run["seed"] == int(h.attrs["seed"])
        groups = sorted(h["models"], key=lambda k: int(h["models"][k].attrs["id"]))
        assert len(groups) == len(run["models"])
        used = 0
        for gname, mod in zip(groups, run["models"]):
            g = h["models"][gname]
            same(mod["id"], int(g.attrs["id"]), "id")
            for k in ("mflops", "fitness", "start_time", "end_time"):
                same(mod[k], float(g.attrs[k]), k)
            same(mod["worker"], int(g.attrs["worker"]), "worker")
            same(mod["params"], int(g.attrs["params"]), "params")
            same(mod["genome"], g.attrs["genome"] if isinstance(g.attrs["genome"], str) else g.attrs["genome"].decode(), "genome")
            same(mod["stop_reason"], g.attrs["stop_reason"], "stop")
            E, P = g["epochs"][()], g["predictions"][()]
            for f in ("epoch", "train_acc", "val_acc", "loss", "seconds"):
                assert mod["epochs"][f] == [x.item() for x in E[f]], (mod["id"], f)
            for f in ("epoch", "prediction", "uncertainty", "converged"):
                assert mod["predictions"][f] == [x.item() for x in P[f]], (mod["id"], f)
            same(mod["epochs_trained"], int(g.attrs["epochs_trained"]), "epochs_trained")
            same(mod["last_val_acc"], float(g.attrs["last_val_acc"]), "last_val_acc")
            used += len(E)
        s = run["summary"]
        assert s["epochs_used"] == used and s["epochs_budget"] == 25 * len(groups), s
        line = "epochs used %d of %d (saved %.1f %%)" % (used, 25 * len(groups), 100 * (1 - used / (25 * len(groups))))
        assert line in summary, (line, summary)
        best = max(float(h["models"][k].attrs["fitness"]) for k in groups)
        assert s["best_accuracy"] == best and ("best accuracy %.2f %%" % best) in summary
        # the Pareto flags: nobody dominates a front model; every other model is dominated
        pts = [(100 - x["fitness"], x["mflops"]) for x in run["models"]]
        for x, p in zip(run["models"], pts):
            dom = any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in pts)
            assert x["on_front"] == (not dom), (x["id"], x["on_front"])
        assert s["front_size"] == sum(x["on_front"] for x in run["models"])
# exports: the JSON export holds the same models; the CSV one row per epoch
A = json.load(open(tmp + "/a.json"))
assert A["runs"][0]["models"] == D["runs"][0]["models"]
rows = list(csv.DictReader(open(tmp + "/a.csv")))
assert len(rows) == D["runs"][0]["summary"]["epochs_used"], len(rows)
r0 = D["runs"][0]["models"][0]
got = [float(r["val_acc"]) for r in rows if int(r["id"]) == r0["id"]]
assert got == r0["epochs"]["val_acc"], (got, r0["epochs"]["val_acc"])
# the tracker's neighbours, as the JSON has them, in the CSV's last field
for mod in D["runs"][0]["models"]:
    field = {r["neighbours"] for r in rows if int(r["id"]) == mod["id"]}
    want = ";".join("%d:%r:%d:%d:%r" % (b["id"], b["similarity"], b["hamming"], b["graph_edit"], b["fitness"])
                    for b in mod["neighbours"])
    got_ids = [int(x.split(":")[0]) for x in field.pop().split(";") if x] if field else []
    assert got_ids == [b["id"] for b in mod["neighbours"]], (mod["id"], got_ids, want)
assert any(m["neighbours"] for m in D["runs"][0]["models"]), "no neighbours to compare"
# one naming scheme: "never" is empty (CSV) or null (JSON), times ISO-8601 UTC,
# epochs counted one way (converged_after <= epochs_trained)
import datetime
for r in rows:
    if r["converged_after"]:
        assert 1 <= int(r["converged_after"]) <= int(r["epochs_trained"]), r
    mod = next(x for x in D["runs"][0]["models"] if x["id"] == int(r["id"]))
    assert (r["converged_after"] == "") == (mod["converged_after"] is None), (r, mod["converged_after"])
    t = datetime.datetime.strptime(r["start_time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    assert abs(t.timestamp() - mod["start_time"]) < 0.002, (r["start_time"], mod["start_time"])
    assert "e-" not in r["val_acc"] and len(r["val_acc"]) <= 18, r["val_acc"]
assert any(r["converged_after"] == "" for r in rows) and any(r["converged_after"] for r in rows)
print("numbers match: %d runs, %d models" % (len(D["runs"]), sum(len(r["models"]) for r in D["runs"])))
PYEOF

# bad input: clear message, non-zero exit
expect_fail() { # expect_fail PATTERN CMD...
  local pat=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then echo "expected failure: $*"; exit 1; fi
  grep -q "^a4nn: .*$pat" "$tmp/err" || { echo "unclear error for $*:"; cat "$tmp/err"; exit 1; }
}
expect_fail "no such run directory" "$A4NN" report "$tmp/missing"
expect_fail "no run directory given" "$A4NN" report
expect_fail "unknown format 'xml'" "$A4NN" export "$tmp/beamA" --format xml
expect_fail "format csv|json|pytorch is required" "$A4NN" export "$tmp/beamA"
echo "not hdf5" >"$tmp/bogus.h5"
expect_fail "not an HDF5 file" "$A4NN" export "$tmp/bogus.h5" --format csv
# a commons no run could have written is refused, naming the model and the value
broken() { # broken NAME PYTHON_STATEMENT_ON_h: a copy of beamA with one defect
  mkdir -p "$tmp/$1" && cp "$tmp/beamA/commons.h5" "$tmp/$1/"
  $PY - "$tmp/$1/commons.h5" "$2" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as h:
    exec(sys.argv[2])
PYEOF
}
broken nanfit 'h["models/000003"].attrs["fitness"] = float("nan")'
expect_fail "model 3: fitness = nan is not an accuracy" "$A4NN" report "$tmp/nanfit" -q
expect_fail "model 3: fitness = nan is not an accuracy" "$A4NN" export "$tmp/nanfit" --format csv
broken mflops 'h["models/000004"].attrs["mflops"] = -5.0'
expect_fail "model 4: mflops = -5 is not a cost" "$A4NN" report "$tmp/mflops" -q
broken valacc 'e = h["models/000002/epochs"][()]; e["val_acc"][1] = 250; del h["models/000002/epochs"]; h["models/000002"].create_dataset("epochs", data=e)'
expect_fail "model 2: epoch 1: val_acc = 250 is not an accuracy" "$A4NN" export "$tmp/valacc" --format json
broken noepochs 'del h["models/000005/epochs"]'
expect_fail "model 5 has no epochs table" "$A4NN" report "$tmp/noepochs" -q
broken nomodels 'del h["models"]'
expect_fail "no /models group" "$A4NN" report "$tmp/nomodels" -q
broken twice 'h.copy(h["models/000001"], "models/copy-of-1")'
expect_fail "model 1 is stored twice" "$A4NN" report "$tmp/twice" -q
[[ ! -e $tmp/nanfit/report.html ]] || { echo "a report was written for a refused commons"; exit 1; }
"$A4NN" report --help | grep -q "usage: a4nn report"
echo "report and export OK"
