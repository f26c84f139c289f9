(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  if (table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var filter = document.getElementById("filter");
    var kinds = Array.prototype.slice.call(document.querySelectorAll("#controls input[name=kind]"));
    var shown = document.getElementById("shown");
    var apply = function () {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      var on = {};
      kinds.forEach(function (k) { on[k.value] = k.checked; });
      var n = 0;
      rows.forEach(function (row) {
        var text = row.textContent.toLowerCase();
        var show = on[row.getAttribute("data-kind")] !== false &&
          words.every(function (w) { return text.indexOf(w) >= 0; });
        row.hidden = !show;
        if (show) { n += 1; }
      });
      shown.textContent = n + " of " + rows.length + " findings shown";
    };
    filter.addEventListener("input", apply);
    kinds.forEach(function (k) { k.addEventListener("change", apply); });
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th, col) {
      th.querySelector("button").addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var key = function (row) {
          var cell = row.cells[col];
          var v = cell.getAttribute("data-sort");
          return v === null ? cell.textContent.trim() : v;
        };
        rows.sort(function (a, b) {
          var c = key(a).localeCompare(key(b), undefined, { numeric: true });
          return asc ? c : -c;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
    document.getElementById("controls").hidden = false;
    apply();
  }
  document.body.setAttribute("data-script", "ready");
})();
