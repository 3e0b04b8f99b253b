(function () {
"use strict";
var NS = "http://www.w3.org/2000/svg";
var errBox = document.getElementById("a4nn-errors");
function fail(msg) { errBox.textContent += msg + "\n"; document.body.setAttribute("data-rendered", "error"); }
window.addEventListener("error", function (e) { fail("error: " + e.message); });
var D = JSON.parse(document.getElementById("a4nn-data").textContent);
var RUNCOL = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
var VIR = [[68,1,84],[59,82,139],[33,145,140],[94,201,98],[253,231,37]];

function el(tag, attrs, parent, text) {
  var e = document.createElementNS(NS, tag);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function h(tag, attrs, parent, text) {
  var e = document.createElement(tag);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function fin(v) { return typeof v === "number" && isFinite(v); }
function fmt(v, d) { return fin(v) ? v.toFixed(d === undefined ? 2 : d) : "\u2013"; }
function scale(d0, d1, r0, r1) {
  if (!(d1 > d0)) { d1 = d0 + 1; }
  var f = function (v) { return r0 + (v - d0) / (d1 - d0) * (r1 - r0); };
  f.d0 = d0; f.d1 = d1; return f;
}
function nice(lo, hi, n) {
  var span = hi - lo; if (!(span > 0)) span = Math.abs(hi) || 1;
  var step = Math.pow(10, Math.floor(Math.log10(span / n)));
  var err = span / n / step;
  if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
  var t = [], s = Math.ceil(lo / step - 1e-9) * step;
  for (var v = s; v <= hi + 1e-9 * step; v += step) t.push(+v.toFixed(10));
  return t;
}
function vir(t) {
  if (!fin(t)) return "#999";
  t = Math.max(0, Math.min(1, t)) * (VIR.length - 1);
  var i = Math.min(VIR.length - 2, Math.floor(t)), f = t - i, a = VIR[i], b = VIR[i + 1];
  return "rgb(" + [0, 1, 2].map(function (k) { return Math.round(a[k] + f * (b[k] - a[k])); }).join(",") + ")";
}
/* axes: frame with ticks and labels; returns {x, y, g} */
function frame(svg, W, H, xd, yd, xl, yl, m, nx, ny) {
  m = m || {l: 52, r: 12, t: 10, b: 38};
  var x = scale(xd[0], xd[1], m.l, W - m.r), y = scale(yd[0], yd[1], H - m.b, m.t);
  var grid = el("g", {"class": "grid"}, svg), ax = el("g", {"class": "axis"}, svg);
  nice(x.d0, x.d1, nx || 6).forEach(function (v) {
    el("line", {x1: x(v), x2: x(v), y1: m.t, y2: H - m.b}, grid);
    el("text", {x: x(v), y: H - m.b + 14, "text-anchor": "middle"}, ax, String(v));
  });
  nice(y.d0, y.d1, ny || 5).forEach(function (v) {
    el("line", {x1: m.l, x2: W - m.r, y1: y(v), y2: y(v)}, grid);
    el("text", {x: m.l - 5, y: y(v) + 4, "text-anchor": "end"}, ax, String(v));
  });
  el("line", {x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b}, ax);
  el("line", {x1: m.l, x2: m.l, y1: m.t, y2: H - m.b}, ax);
  if (xl) el("text", {x: (m.l + W - m.r) / 2, y: H - 6, "text-anchor": "middle"}, ax, xl);
  if (yl) el("text", {x: 12, y: (m.t + H - m.b) / 2, "text-anchor": "middle",
                      transform: "rotate(-90 12 " + (m.t + H - m.b) / 2 + ")"}, ax, yl);
  return {x: x, y: y};
}
function newSvg(parent, W, H, cls) {
  return el("svg", {width: W, height: H, viewBox: "0 0 " + W + " " + H, "class": cls || "plot",
                    role: "img"}, parent);
}
function panels(sectionId) {
  var box = h("div", {"class": "runs"}, document.getElementById(sectionId));
  return D.runs.map(function (run, r) {
    var p = h("div", {"class": "panel", "data-run": String(r)}, box);
    var t = h("h3", {}, p);
    h("span", {"class": "swatch", style: "background:" + RUNCOL[r % RUNCOL.length]}, t);
    t.appendChild(document.createTextNode(run.name));
    return p;
  });
}
function anchor(r, m) { return "r" + r + "-m" + m.id; }

/* global domains so side-by-side panels share axes */
var all = [];
D.runs.forEach(function (run) { run.models.forEach(function (m) { all.push(m); }); });
var fits = all.map(function (m) { return m.fitness; }).filter(fin);
var fmin = fits.length ? Math.min.apply(null, fits) : 0, fmax = fits.length ? Math.max.apply(null, fits) : 100;
var sortedFits = fits.slice().sort(function (a, b) { return a - b; });
/* colour by rank (percentile) so close fitness values stay distinguishable */
function frank(v) {
  if (!fin(v) || sortedFits.length < 2) return 1;
  var lo = 0, hi = sortedFits.length;
  while (lo < hi) { var mid = (lo + hi) >> 1; if (sortedFits[mid] < v) lo = mid + 1; else hi = mid; }
  var lo2 = lo; hi = sortedFits.length;
  while (lo2 < hi) { var m2 = (lo2 + hi) >> 1; if (sortedFits[m2] <= v) lo2 = m2 + 1; else hi = m2; }
  return ((lo + lo2 - 1) / 2) / (sortedFits.length - 1);
}
function fcol(v) { return vir(frank(v)); }
function quant(q) { return sortedFits.length ? sortedFits[Math.round(q * (sortedFits.length - 1))] : NaN; }
var mfs = all.map(function (m) { return m.mflops; }).filter(fin);
var mfmax = mfs.length ? Math.max.apply(null, mfs) : 1;
var budget = Math.max.apply(null, D.runs.map(function (r) { return r.budget || 1; }));
function accDomain(vals) {
  var v = vals.filter(fin); if (!v.length) return [0, 100];
  var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
  return [Math.max(0, Math.floor((lo - 2) / 5) * 5), Math.min(100, Math.ceil((hi + 1) / 5) * 5)];
}

function legendFitness(parent) {
  var lg = h("div", {"class": "legend"}, parent);
  var s = h("span", {}, lg);
  var svg = newSvg(s, 160, 14, "lg");
  var defs = el("defs", {}, svg), gr = el("linearGradient", {id: "vir" + Math.random().toString(36).slice(2)}, defs);
  for (var i = 0; i <= 4; i++) el("stop", {offset: (i * 25) + "%", "stop-color": vir(i / 4)}, gr);
  el("rect", {x: 0, y: 2, width: 160, height: 10, fill: "url(#" + gr.id + ")"}, svg);
  s.appendChild(document.createTextNode(" fitness rank, low \u2192 high (min " + fmt(fmin) + " %, quartiles " +
    fmt(quant(0.25)) + " / " + fmt(quant(0.5)) + " / " + fmt(quant(0.75)) + " %, max " + fmt(fmax) + " %)"));
}

/* ---- summary ---------------------------------------------------------- */
function summary() {
  var sec = document.getElementById("summary");
  var t = h("table", {"class": "summary", id: "summary-table"}, h("div", {"class": "tablewrap"}, sec));
  var hr = h("tr", {}, h("thead", {}, t));
  h("th", {"class": "l"}, hr, "");
  D.runs.forEach(function (r, i) {
    var th = h("th", {}, hr); h("span", {"class": "swatch", style: "background:" + RUNCOL[i % RUNCOL.length]}, th);
    th.appendChild(document.createTextNode(" " + r.name));
  });
  var rows = [["models", "models", 0], ["epochs used", "epochs_used", 0], ["epoch budget", "epochs_budget", 0],
    ["epochs saved (%)", "saved_pct", 1], ["training time (s)", "seconds_used", 1],
    ["time saved, est. (s)", "seconds_saved", 1], ["best accuracy (%)", "best_accuracy", 2],
    ["best measured val. acc. (%)", "best_val", 2], ["Pareto front size", "front_size", 0],
    ["hypervolume (%\u00b7MFLOPs)", "hypervolume", 1], ["workers", "workers", 0],
    ["makespan (s)", "makespan", 1], ["worker idle (%)", "idle_fraction", 1]];
  var tb = h("tbody", {}, t);
  rows.forEach(function (row) {
    var tr = h("tr", {"data-key": row[1]}, tb);
    h("td", {}, tr, row[0]);
    D.runs.forEach(function (run) {
      var v = run.summary[row[1]];
      if (row[1] === "idle_fraction" && fin(v)) v *= 100;
      h("td", {"data-value": fin(run.summary[row[1]]) ? String(run.summary[row[1]]) : ""}, tr, fmt(v, row[2]));
    });
  });
  h("p", {"class": "note"}, sec, "Hypervolume of (100 \u2212 fitness, MFLOPs), both minimised, reference point (100 %, " +
    fmt(D.ref_mflops, 1) + " MFLOPs), shared by all runs. Time saved: skipped epochs \u00d7 that model's mean epoch time.");
}

/* ---- Pareto front --------------------------------------------------------- */
function pareto() {
  var acc = accDomain(all.map(function (m) { return m.fitness; }));
  panels("pareto").forEach(function (p, r) {
    var run = D.runs[r], W = 520, H = 330, svg = newSvg(p, W, H);
    var f = frame(svg, W, H, [0, mfmax * 1.05], acc, "MFLOPs (one image, forward)", "fitness: accuracy (%)");
    var front = run.models.filter(function (m) { return m.on_front && fin(m.fitness) && fin(m.mflops); })
      .sort(function (a, b) { return a.mflops - b.mflops; });
    if (front.length) {
      var d = "M" + f.x(front[0].mflops) + "," + f.y(acc[0]);
      front.forEach(function (m, i) {
        d += " L" + f.x(m.mflops) + "," + f.y(m.fitness);
        var nx = i + 1 < front.length ? front[i + 1].mflops : mfmax * 1.05;
        d += " L" + f.x(nx) + "," + f.y(m.fitness);
      });
      el("path", {d: d, fill: "none", stroke: RUNCOL[r % RUNCOL.length], "stroke-width": 1.5, "stroke-dasharray": "4 3"}, svg);
    }
    run.models.forEach(function (m) {
      if (!fin(m.fitness) || !fin(m.mflops)) return;
      var a = el("a", {href: "#" + anchor(r, m)}, svg);
      var c = el("circle", {cx: f.x(m.mflops), cy: f.y(m.fitness), r: m.on_front ? 5.5 : 3.5,
        fill: m.on_front ? RUNCOL[r % RUNCOL.length] : "#b8bfcc", "fill-opacity": m.on_front ? 0.95 : 0.7,
        stroke: m.on_front ? "#111" : "none", "stroke-width": 0.8, "class": "pt" + (m.on_front ? " front" : ""),
        "data-id": String(m.id), "data-fitness": String(m.fitness), "data-mflops": String(m.mflops)}, a);
      el("title", {}, c, "model " + m.id + ": " + fmt(m.fitness) + " %, " + fmt(m.mflops, 1) + " MFLOPs, " +
        m.epochs_trained + " epochs (" + m.stop_reason + ")");
    });
    h("div", {"class": "legend"}, p, front.length + " of " + run.models.length +
      " models on the front (coloured); click a point for its model.");
  });
}

/* ---- epochs and time saved ----------------------------------------------- */
function savings() {
  panels("savings").forEach(function (p, r) {
    var run = D.runs[r], s = run.summary, W = 520, H = 230, svg = newSvg(p, W, H);
    var used = s.epochs_used, bud = s.epochs_budget || 1, x0 = 60, bw = W - x0 - 150;
    el("text", {x: 4, y: 30}, svg, "epochs");
    el("rect", {x: x0, y: 16, width: bw, height: 22, fill: "#e5e7eb"}, svg);
    el("rect", {x: x0, y: 16, width: bw * used / bud, height: 22, fill: RUNCOL[r % RUNCOL.length]}, svg);
    el("text", {x: x0 + 6, y: 31, fill: "#fff", style: "fill:#fff"}, svg, used + " used");
    el("text", {x: x0 + bw + 8, y: 31}, svg, fmt(s.saved_pct, 1) + " % saved of " + bud);
    /* histogram of epochs trained per model */
    var counts = []; for (var e = 0; e <= run.budget; e++) counts.push(0);
    run.models.forEach(function (m) { if (m.epochs_trained <= run.budget) counts[m.epochs_trained]++; });
    var cmax = Math.max.apply(null, counts.concat([1]));
    var f = frame(svg, W, H, [0, run.budget + 1], [0, cmax], "epochs trained per model", "models",
                  {l: 52, r: 12, t: 56, b: 38});
    counts.forEach(function (c, e) {
      if (!c) return;
      var rc = el("rect", {x: f.x(e) + 1, y: f.y(c), width: Math.max(1, f.x(e + 1) - f.x(e) - 2),
        height: f.y(0) - f.y(c), fill: e < run.budget ? "#f59e0b" : "#94a3b8", "class": "hist"}, svg);
      el("title", {}, rc, c + " models trained " + e + " epochs");
    });
    h("div", {"class": "legend"}, p, "Training time " + fmt(s.seconds_used, 1) + " s; about " +
      fmt(s.seconds_saved, 1) + " s saved against full training. Orange: stopped early; grey: full budget.");
  });
}

/* ---- learning curves ------------------------------------------------------ */
function miniCurve(parent, run, m, r) {
  var W = 184, H = 112, svg = newSvg(parent, W, H, "mini-plot");
  var vals = m.epochs.val_acc.concat(m.epochs.train_acc, m.predictions.prediction.filter(function (v) { return v >= 0 && v <= 100; }));
  var f = frame(svg, W, H, [0, run.budget], accDomain(vals), "", "", {l: 26, r: 8, t: 4, b: 16}, 3, 3);
  var stop = m.epochs_trained - 1;
  el("line", {x1: f.x(stop + 1), x2: f.x(stop + 1), y1: 4, y2: H - 16, stroke: "#dc2626", "stroke-width": 1,
              "stroke-dasharray": "3 2"}, svg);
  function line(xs, ys, attrs) {
    var pts = []; for (var i = 0; i < xs.length; i++) if (fin(ys[i])) pts.push(f.x(xs[i] + 1) + "," + f.y(ys[i]));
    if (pts.length) { attrs.points = pts.join(" "); attrs.fill = "none"; el("polyline", attrs, svg); }
  }
  line(m.epochs.epoch, m.epochs.train_acc, {stroke: "#9ca3af", "stroke-width": 1, "stroke-dasharray": "2 2"});
  line(m.epochs.epoch, m.epochs.val_acc, {stroke: "#2563eb", "stroke-width": 1.5});
  var P = m.predictions;
  for (var i = 0; i < P.epoch.length; i++) {
    var v = P.prediction[i]; if (!fin(v) || v < f.y.d0 || v > f.y.d1) continue;
    var c = el("circle", {cx: f.x(P.epoch[i] + 1), cy: f.y(v), r: P.converged[i] ? 3 : 1.8,
      fill: P.converged[i] ? "#dc2626" : "#f59e0b"}, svg);
    el("title", {}, c, "after epoch " + P.epoch[i] + ": predicts " + fmt(v) + " % at epoch " + run.budget);
  }
}
function curves() {
  panels("curves").forEach(function (p, r) {
    var run = D.runs[r], W = 520, H = 300, svg = newSvg(p, W, H);
    var vals = []; run.models.forEach(function (m) { vals = vals.concat(m.epochs.val_acc); });
    var f = frame(svg, W, H, [0, run.budget], accDomain(vals), "epoch", "validation accuracy (%)");
    el("line", {x1: f.x(run.budget), x2: f.x(run.budget), y1: 10, y2: H - 38, stroke: "#64748b", "stroke-dasharray": "5 3"}, svg);
    run.models.slice().sort(function (a, b) { return a.fitness - b.fitness; }).forEach(function (m) {
      var pts = [];
      for (var i = 0; i < m.epochs.epoch.length; i++)
        if (fin(m.epochs.val_acc[i])) pts.push(f.x(m.epochs.epoch[i] + 1) + "," + f.y(m.epochs.val_acc[i]));
      if (!pts.length) return;
      var a = el("a", {href: "#" + anchor(r, m)}, svg);
      var pl = el("polyline", {points: pts.join(" "), fill: "none", stroke: fcol(m.fitness), "stroke-width": 1.2,
        "stroke-opacity": 0.8, "class": "curve", "data-id": String(m.id)}, a);
      el("title", {}, pl, "model " + m.id + ": stopped after " + m.epochs_trained + " epochs, fitness " + fmt(m.fitness));
      var last = pts[pts.length - 1].split(",");
      if (m.epochs_trained < run.budget) el("circle", {cx: last[0], cy: last[1], r: 2.2, fill: "#dc2626"}, a);
    });
    legendFitness(p);
    h("div", {"class": "legend"}, p, "Each line is one model (x = epochs completed); a red dot marks an early stop; dashed: the " + run.budget + "-epoch budget.");
  });
}

/* ---- every model's curve ------------------------------------------------ */
function everyCurve() {
  panels("every").forEach(function (p, r) {
    var run = D.runs[r];
    var grid = h("div", {"class": "mini"}, p);
    run.models.forEach(function (m) {
      var d = h("div", {id: "c" + anchor(r, m)}, grid);
      var t = h("div", {style: "border:0;padding:0"}, d);
      var a = h("a", {href: "#" + anchor(r, m)}, t); h("b", {}, a, "#" + m.id);
      t.appendChild(document.createTextNode(" " + fmt(m.fitness) + " % \u00b7 " + m.epochs_trained + " ep \u00b7 " + m.stop_reason));
      miniCurve(d, run, m, r);
    });
  });
}

/* ---- worker timeline ------------------------------------------------------ */
function timeline() {
  panels("timeline").forEach(function (p, r) {
    var run = D.runs[r];
    var ms = run.models.filter(function (m) { return fin(m.start_time) && fin(m.end_time) && m.worker >= 0; });
    if (!ms.length) { h("p", {"class": "note"}, p, "No start/end times in this run's commons."); return; }
    var t0 = Math.min.apply(null, ms.map(function (m) { return m.start_time; }));
    var t1 = Math.max.apply(null, ms.map(function (m) { return m.end_time; }));
    var ws = []; ms.forEach(function (m) { if (ws.indexOf(m.worker) < 0) ws.push(m.worker); });
    ws.sort(function (a, b) { return a - b; });
    var rowH = Math.max(10, Math.min(26, 300 / ws.length)), W = 520, H = 60 + rowH * ws.length;
    var svg = newSvg(p, W, H);
    var x = scale(0, t1 - t0, 70, W - 60), top = 10;
    var ax = el("g", {"class": "axis"}, svg);
    nice(0, t1 - t0, 6).forEach(function (v) {
      el("line", {x1: x(v), x2: x(v), y1: top, y2: top + rowH * ws.length, stroke: "#eef0f4"}, svg);
      el("text", {x: x(v), y: top + rowH * ws.length + 14, "text-anchor": "middle"}, ax, String(v));
    });
    el("text", {x: (70 + W - 60) / 2, y: H - 8, "text-anchor": "middle"}, ax, "seconds since the first model started");
    ws.forEach(function (w, i) {
      var y = top + i * rowH, busy = 0;
      el("rect", {x: x(0), y: y + 1, width: x(t1 - t0) - x(0), height: rowH - 2, fill: "#fde2e2", "class": "idle"}, svg);
      el("text", {x: 64, y: y + rowH / 2 + 4, "text-anchor": "end"}, ax, "rank " + w);
      ms.forEach(function (m) {
        if (m.worker !== w) return;
        busy += m.end_time - m.start_time;
        var a = el("a", {href: "#" + anchor(r, m)}, svg);
        var rc = el("rect", {x: x(m.start_time - t0), y: y + 1, width: Math.max(1, x(m.end_time - t0) - x(m.start_time - t0)),
          height: rowH - 2, fill: fcol(m.fitness), stroke: "#fff", "stroke-width": 0.6, "class": "task", "data-id": String(m.id)}, a);
        el("title", {}, rc, "model " + m.id + " on rank " + w + ": " + fmt(m.start_time - t0, 1) + "\u2013" +
          fmt(m.end_time - t0, 1) + " s, " + m.epochs_trained + " epochs");
      });
      el("text", {x: W - 56, y: y + rowH / 2 + 4}, ax, fmt(100 * (1 - busy / (t1 - t0)), 0) + "% idle");
    });
    legendFitness(p);
    h("div", {"class": "legend"}, p, "Bars: models coloured by fitness; pink gaps: worker idle.");
  });
}

/* ---- similarity map -------------------------------------------------------- */
function similarity() {
  panels("similarity").forEach(function (p, r) {
    var run = D.runs[r], ms = run.models.filter(function (m) { return m.genome && fin(m.map[0]) && fin(m.map[1]); });
    var W = 520, H = 340, svg = newSvg(p, W, H);
    var xs = ms.map(function (m) { return m.map[0]; }), ys = ms.map(function (m) { return m.map[1]; });
    var pad = function (a) { var lo = Math.min.apply(null, a.concat([0])), hi = Math.max.apply(null, a.concat([0])), s = (hi - lo) * 0.08 || 0.1; return [lo - s, hi + s]; };
    var f = frame(svg, W, H, pad(xs), pad(ys), "MDS axis 1", "MDS axis 2");
    ms.slice().sort(function (a, b) { return a.fitness - b.fitness; }).forEach(function (m) {
      var a = el("a", {href: "#" + anchor(r, m)}, svg);
      var c = el("circle", {cx: f.x(m.map[0]), cy: f.y(m.map[1]), r: m.on_front ? 6 : 4.5, fill: fcol(m.fitness),
        stroke: m.on_front ? "#111" : "#fff", "stroke-width": m.on_front ? 1.4 : 0.6, "class": "map", "data-id": String(m.id)}, a);
      el("title", {}, c, "model " + m.id + " " + m.genome + ": fitness " + fmt(m.fitness));
    });
    legendFitness(p);
    h("div", {"class": "legend"}, p, "Classical MDS of the distance 1 \u2212 LCS similarity of the genomes' connectivity arrays; black ring: Pareto front.");
  });
}

/* ---- model table ----------------------------------------------------------- */
var COLS = [["id", "model", 0], ["genome", "genome", -1], ["mflops", "MFLOPs", 2], ["params", "params", 0],
  ["epochs_trained", "epochs", 0], ["converged_epoch", "converged at", 0], ["stop_reason", "stop", -1],
  ["fitness", "fitness (%)", 2], ["last_val", "last val. (%)", 2], ["worker", "worker", 0],
  ["train_seconds", "seconds", 1], ["nearest", "nearest (sim., fitness)", -1], ["on_front", "front", -1]];
function cell(m, k) {
  if (k === "nearest") return m.neighbours.length ? "#" + m.neighbours[0].id + " (" + fmt(m.neighbours[0].similarity) + ", " + fmt(m.neighbours[0].fitness) + ")" : "";
  if (k === "on_front") return m.on_front ? "\u2605" : "";
  if (k === "genome") { try { return JSON.parse(m.genome).map(function (q) { return q.join(""); }).join(" "); } catch (e) { return m.genome; } }
  if (k === "converged_epoch") return m.converged_epoch >= 0 ? String(m.converged_epoch) : "\u2013";
  return m[k];
}
function sortable(table) {
  var ths = table.querySelectorAll("th");
  ths.forEach(function (th, ci) {
    th.addEventListener("click", function () {
      var asc = !th.classList.contains("sorted-asc");
      ths.forEach(function (o) { o.classList.remove("sorted-asc", "sorted-desc"); });
      th.classList.add(asc ? "sorted-asc" : "sorted-desc");
      var tb = table.tBodies[0], rows = Array.prototype.slice.call(tb.rows);
      rows.sort(function (a, b) {
        var x = a.cells[ci].getAttribute("data-v"), y = b.cells[ci].getAttribute("data-v");
        var nx = parseFloat(x), ny = parseFloat(y), c;
        if (!isNaN(nx) && !isNaN(ny)) c = nx - ny; else c = String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach(function (rw) { tb.appendChild(rw); });
    });
  });
}
function models() {
  panels("models").forEach(function (p, r) {
    var run = D.runs[r];
    var t = h("table", {"class": "models", "data-run": String(r)}, h("div", {"class": "tablewrap"}, p));
    var hr = h("tr", {}, h("thead", {}, t));
    COLS.forEach(function (c) { h("th", {"class": c[2] < 0 ? "l" : ""}, hr, c[1]); });
    var tb = h("tbody", {}, t);
    run.models.forEach(function (m) {
      var tr = h("tr", {id: anchor(r, m), "class": m.on_front ? "front" : "", "data-id": String(m.id),
        "data-fitness": String(m.fitness), "data-mflops": String(m.mflops), "data-epochs": String(m.epochs_trained)}, tb);
      COLS.forEach(function (c) {
        var v = cell(m, c[0]), raw = c[0] === "nearest" ? (m.neighbours.length ? m.neighbours[0].similarity : "") :
          (c[0] === "on_front" ? (m.on_front ? 1 : 0) : m[c[0]]);
        var td = h("td", {"class": c[2] < 0 ? "l" : "", "data-v": raw === null || raw === undefined ? "" : String(raw)}, tr);
        if (c[0] === "genome") { h("code", {title: m.genome}, td, v); } else td.textContent = typeof v === "number" ? fmt(v, c[2]) : v;
      });
      tr.cells[0].innerHTML = "";
      h("a", {href: "#c" + anchor(r, m)}, tr.cells[0], "#" + m.id);
    });
    sortable(t);
    h("div", {"class": "legend"}, p, "Click a column to sort; the model number links to its learning curve.");
  });
}

try {
  summary(); pareto(); savings(); curves(); timeline(); similarity(); models(); everyCurve();
  if (document.body.getAttribute("data-rendered") !== "error") document.body.setAttribute("data-rendered", "ok");
} catch (e) { fail("error: " + e.message + " " + (e.stack || "")); }
})();
