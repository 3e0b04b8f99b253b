(function () {
"use strict";
/* The report is complete without this script: it only sorts the model tables
 * on a click and, on hover, highlights one model in every plot and shows its
 * details (the plots' own <title> tooltips) in a box that follows the mouse. */
var errBox = document.getElementById("a4nn-errors");
function fail(msg) { errBox.textContent += msg + "\n"; document.body.setAttribute("data-rendered", "error"); }
window.addEventListener("error", function (e) { fail("error: " + e.message); });

function sortable(table) {
  var ths = table.querySelectorAll("thead th");
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

var tip = document.createElement("div");
tip.className = "tip";
document.body.appendChild(tip);
function hover(e) {
  var t = e.target.closest ? e.target.closest("[data-id]") : null;
  document.querySelectorAll(".hl").forEach(function (x) { x.classList.remove("hl"); });
  if (!t || !t.getAttribute("data-run")) { tip.style.display = "none"; return; }
  var sel = '[data-run="' + t.getAttribute("data-run") + '"][data-id="' + t.getAttribute("data-id") + '"]';
  document.querySelectorAll(sel).forEach(function (x) { x.classList.add("hl"); });
  var title = t.querySelector("title");
  if (!title) { tip.style.display = "none"; return; }
  tip.textContent = title.textContent;
  tip.style.display = "block";
  tip.style.left = (e.pageX + 12) + "px";
  tip.style.top = (e.pageY + 12) + "px";
}

try {
  document.querySelectorAll("table.models").forEach(sortable);
  document.body.classList.add("js");
  document.addEventListener("mouseover", hover);
  if (document.body.getAttribute("data-rendered") !== "error") document.body.setAttribute("data-rendered", "ok");
} catch (e) { fail("error: " + e.message + " " + (e.stack || "")); }
})();
