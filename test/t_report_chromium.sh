#!/usr/bin/env bash
# The HTML report renders in headless Chromium, once as written and once with
# scripts blocked by the page's Content-Security-Policy (script-src 'none'):
# no script or console errors, every model drawn both times (Pareto points of
# all runs on one plot, curves with predictions, timeline bars, map points,
# table rows carrying the commons' numbers), and the screenshot is not blank.
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

chrome() { # chrome PAGE EXTRA_ARGS... ; one fresh profile per call, no network
  local page=$1 prof; shift; prof=$(mktemp -d -p "$tmp")
  timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$prof" --window-size=1400,2000 "$@" "file://$tmp/$page"
}
# the same page with every script refused by the browser
sed "s/script-src 'unsafe-inline'/script-src 'none'/" "$tmp/r.html" >"$tmp/nojs.html"
grep -q "script-src 'none'" "$tmp/nojs.html"
for page in r nojs; do
  chrome $page.html --enable-logging=stderr --v=0 --dump-dom >"$tmp/$page.dom" 2>"$tmp/$page.console"
done
# what a reader without scripts sees (the plots are the same static SVG either way)
chrome nojs.html --screenshot="$tmp/nojs.png" >/dev/null 2>&1
[[ -s $tmp/nojs.png ]] || { echo "no screenshot of nojs.html"; exit 1; }
# console: page errors show up as CONSOLE lines or "Uncaught"
if grep -E 'Uncaught|CONSOLE|SyntaxError|TypeError|ReferenceError' "$tmp/r.console"; then
  echo "console errors in the report"; exit 1
fi
$PY - "$tmp" <<'PYEOF'
import sys, re, json, math
from PIL import Image
tmp = sys.argv[1]
for page in ("r", "nojs"):
    dom = open("%s/%s.dom" % (tmp, page)).read()
    if page == "r":
        assert re.search(r'<body[^>]*data-rendered="ok"', dom), "page did not finish rendering"
    else:  # the script really did not run
        assert not re.search(r'<body[^>]*(data-rendered|class="js")', dom), "script ran in nojs.html"
    err = re.search(r'<div id="a4nn-errors">(.*?)</div>', dom, re.S)
    assert err and err.group(1).strip() == "", "errors: %r" % (err.group(1) if err else None)
    D = json.loads(re.search(r'id="a4nn-data">(.*?)</script>', dom, re.S).group(1))
    nmod = sum(len(r["models"]) for r in D["runs"])
    count = lambda pat: len(re.findall(pat, dom))
    npred = sum(1 for r in D["runs"] for m in r["models"]
                if any(p is not None for p in m["predictions"]["prediction"]))
    checks = {
        "Pareto plots": (count(r'<svg class="plot pareto"'), 1),
        "pareto points": (count(r'<circle class="pt'), nmod),
        "front points": (count(r'class="pt front"'), sum(r["summary"]["front_size"] for r in D["runs"])),
        "front labels": (count(r'class="front-label"'), sum(r["summary"]["front_size"] for r in D["runs"])),
        "curves": (count(r'class="curve"'), nmod),
        "timeline bars": (count(r'class="task"'), nmod),
        "map points": (count(r'class="map"'), nmod),
        "mini curves": (count(r'class="mini-plot"'), nmod),
        "summary columns": (count(r'<th><span class="swatch"'), len(D["runs"])),
        "config differences": (count(r'<code>search.seed</code>'), 1),
    }
    for k, (got, want) in checks.items():
        assert got == want, "%s: %s: %d drawn, %d expected" % (page, k, got, want)
    # predictions in the main curve panel: one marker per model with a prediction in range
    assert 0 < count(r'class="pred"') <= npred, (page, count(r'class="pred"'), npred)
    # table rows carry the commons' numbers
    rows = re.findall(r'<tr id="r(\d+)-m(\d+)"[^>]*data-fitness="([^"]*)" data-mflops="([^"]*)"', dom)
    assert len(rows) == nmod, (len(rows), nmod)
    for r, m, fit, mf in rows:
        mod = next(x for x in D["runs"][int(r)]["models"] if x["id"] == int(m))
        assert float(fit) == mod["fitness"] and float(mf) == mod["mflops"], (r, m)
    # the Pareto x axis is scaled to the data: the cheapest model sits near the left edge
    xs = [float(x) for x in re.findall(r'<circle class="pt[^"]*" cx="([0-9.]+)"', dom)]
    assert min(xs) < 56 + 0.1 * (780 - 72), "Pareto axis not scaled to the data: %g" % min(xs)
    if page != "nojs":
        continue
    # the screenshot is not blank: many colours, a good share of non-background pixels
    im = Image.open("%s/%s.png" % (tmp, page)).convert("RGB")
    px = list(im.resize((350, 500)).getdata())
    colours = len(set(px))
    bg = max(set(px), key=px.count)
    ink = sum(1 for p in px if sum(abs(a - b) for a, b in zip(p, bg)) > 30) / len(px)
    print("%s: screenshot %dx%d: %d colours, %.0f %% non-background" % (page, im.size[0], im.size[1], colours, 100 * ink))
    assert colours > 50 and ink > 0.10, "screenshot looks blank"
    print("%s: %d models in %d runs drawn, no errors" % (page, nmod, len(D["runs"])))
PYEOF
