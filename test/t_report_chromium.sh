#!/usr/bin/env bash
# The HTML report renders in headless Chromium: no script or console errors,
# every model drawn (Pareto points, curves, timeline bars, map points, table
# rows carrying the commons' numbers), and the screenshot is not blank.
set -euo pipefail
cd "$(dirname "$0")/.."
A4NN=${A4NN_BUILD:-$PWD/build}/a4nn
PY=/usr/bin/python3
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $CHROME ]]; then
  echo "SKIPPED: chromium is not installed (apt-get install chromium)"; exit 77
fi
$PY -c 'import h5py, numpy, PIL' 2>/dev/null || { echo "SKIPPED: /usr/bin/python3 lacks h5py/numpy/PIL"; exit 77; }
[[ -x $A4NN ]] || { echo "no $A4NN (build first)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
A4NN_REPORT_FIXTURE_ONLY=$tmp bash test/t_report_html.sh
"$A4NN" report "$tmp/beamA" "$tmp/beamB" -o "$tmp/r.html" -q

chrome() { # chrome EXTRA_ARGS... ; one fresh profile per call, no network
  local prof; prof=$(mktemp -d -p "$tmp")
  timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$prof" --window-size=1400,2000 "$@" "file://$tmp/r.html"
}
chrome --enable-logging=stderr --v=0 --dump-dom >"$tmp/dom.html" 2>"$tmp/console.log"
chrome --screenshot="$tmp/shot.png" >/dev/null 2>&1
[[ -s $tmp/shot.png ]] || { echo "no screenshot"; exit 1; }
# console: page errors show up as CONSOLE lines or "Uncaught"
if grep -E 'Uncaught|CONSOLE|SyntaxError|TypeError|ReferenceError' "$tmp/console.log"; then
  echo "console errors in the report"; exit 1
fi
$PY - "$tmp" <<'PYEOF'
import sys, re, json, math
from PIL import Image
tmp = sys.argv[1]
dom = open(tmp + "/dom.html").read()
assert 'data-rendered="ok"' in dom, "page did not finish rendering"
err = re.search(r'<div id="a4nn-errors">(.*?)</div>', dom, re.S)
assert err and err.group(1).strip() == "", "errors: %r" % (err.group(1) if err else None)
D = json.loads(re.search(r'id="a4nn-data">(.*?)</script>', dom, re.S).group(1))
nmod = sum(len(r["models"]) for r in D["runs"])
count = lambda pat: len(re.findall(pat, dom))
checks = {
    "pareto points": (count(r'<circle[^>]*class="pt'), nmod),
    "front points": (count(r'class="pt front"'), sum(r["summary"]["front_size"] for r in D["runs"])),
    "curves": (count(r'class="curve"'), nmod),
    "timeline bars": (count(r'class="task"'), nmod),
    "map points": (count(r'class="map"'), nmod),
    "mini curves": (count(r'class="mini-plot"'), nmod),
    "summary columns": (count(r'<th><span class="swatch"'), len(D["runs"])),
}
for k, (got, want) in checks.items():
    assert got == want, "%s: %d drawn, %d expected" % (k, got, want)
# table rows carry the commons' numbers
rows = re.findall(r'<tr id="r(\d+)-m(\d+)"[^>]*data-fitness="([^"]*)" data-mflops="([^"]*)"', dom)
assert len(rows) == nmod, (len(rows), nmod)
for r, m, fit, mf in rows:
    mod = next(x for x in D["runs"][int(r)]["models"] if x["id"] == int(m))
    assert float(fit) == mod["fitness"] and float(mf) == mod["mflops"], (r, m)
# the screenshot is not blank: many colours, a good share of non-background pixels
im = Image.open(tmp + "/shot.png").convert("RGB")
small = im.resize((350, 500))
px = list(small.getdata())
colours = len(set(px))
bg = max(set(px), key=px.count)
ink = sum(1 for p in px if sum(abs(a - b) for a, b in zip(p, bg)) > 30) / len(px)
print("screenshot %dx%d: %d colours, %.0f %% non-background" % (im.size[0], im.size[1], colours, 100 * ink))
assert colours > 50 and ink > 0.10, "screenshot looks blank"
print("rendered: %d models in %d runs, no errors" % (nmod, len(D["runs"])))
PYEOF
