// claimscan review: keyboard shortcuts, box highlighting, catalog search and the points preview.
(function () {
  "use strict";
  var page = document.body.dataset.page;
  function typing(e) {
    var t = e.target.tagName;
    return t === "INPUT" || t === "SELECT" || t === "TEXTAREA";
  }

  if (page === "queue") {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr.task-row"));
    var sel = 0;
    function mark() { rows.forEach(function (r, i) { r.classList.toggle("sel", i === sel); }); }
    rows.forEach(function (r) { r.addEventListener("click", function () { location.href = r.dataset.href; }); });
    mark();
    document.addEventListener("keydown", function (e) {
      if (typing(e) || !rows.length) return;
      if (e.key === "j") { sel = Math.min(sel + 1, rows.length - 1); mark(); }
      else if (e.key === "k") { sel = Math.max(sel - 1, 0); mark(); }
      else if (e.key === "Enter") { location.href = rows[sel].dataset.href; }
    });
  }

  if (page === "task") {
    var form = document.getElementById("decide");
    var task = document.getElementById("task");
    // highlight a line's box on the page when its row is hovered (and the other way round)
    document.querySelectorAll("[data-box]").forEach(function (row) {
      var box = document.getElementById(row.dataset.box);
      if (!box) return;
      function on() { box.classList.add("hl"); row.classList.add("hl"); }
      function off() { box.classList.remove("hl"); row.classList.remove("hl"); }
      row.addEventListener("mouseenter", on); row.addEventListener("mouseleave", off);
      box.addEventListener("mouseenter", on); box.addEventListener("mouseleave", off);
    });
    // points preview: quantity x points per unit x the line's campaign multiplier
    function preview() {
      var total = 0;
      document.querySelectorAll("tr.line").forEach(function (tr) {
        var qty = parseFloat((tr.querySelector("input.qty").value || "").replace(",", "."));
        var sku = tr.querySelector("input.sku");
        var ppu = parseFloat(sku.dataset.ppu);
        var mult = parseFloat(sku.dataset.mult) || 1;
        var pts = (sku.value && qty > 0 && ppu > 0) ? Math.round(qty * ppu * mult) : 0;
        tr.querySelector("td.points").textContent = pts;
        total += pts;
      });
      document.getElementById("total-points").textContent = total;
    }
    function ppuOf(line, value) {
      var o = document.querySelector("#cands-" + line + " option[value=\"" + CSS.escape(value) + "\"]");
      return o ? o.dataset.ppu : "";
    }
    document.querySelectorAll("input.sku").forEach(function (inp) {
      inp.addEventListener("input", function () {
        var tr = inp.closest("tr"); inp.dataset.ppu = ppuOf(tr.dataset.line, inp.value); preview();
      });
    });
    document.querySelectorAll("input.qty").forEach(function (inp) { inp.addEventListener("input", preview); });
    document.querySelectorAll("button.pick").forEach(function (b) {
      b.addEventListener("click", function () {
        var inp = document.querySelector("input[name=sku_" + b.dataset.line + "]");
        inp.value = b.dataset.sku; inp.dataset.ppu = b.dataset.ppu; preview();
      });
    });
    // catalog search: results can be put on the line last focused
    var lastLine = null;
    document.querySelectorAll("input.sku").forEach(function (inp) {
      inp.addEventListener("focus", function () { lastLine = inp; });
    });
    var q = document.getElementById("catalog-q"), results = document.getElementById("catalog-results");
    var timer = null;
    if (q) q.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch("/catalog?q=" + encodeURIComponent(q.value), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (list) {
            results.innerHTML = "";
            list.forEach(function (c) {
              var li = document.createElement("li");
              var b = document.createElement("button");
              b.type = "button"; b.className = "use"; b.textContent = c.sku;
              b.addEventListener("click", function () {
                var inp = lastLine || document.querySelector("input.sku");
                if (!inp) return;
                inp.value = c.sku; inp.dataset.ppu = c.points_per_unit == null ? "" : c.points_per_unit; preview();
              });
              li.appendChild(b);
              li.appendChild(document.createTextNode(" " + c.name + (c.points_per_unit == null ? " (no points)" : " · " + c.points_per_unit + " pts/unit")));
              results.appendChild(li);
            });
          });
      }, 150);
    });
    document.addEventListener("keydown", function (e) {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      var btn = null;
      if (e.key === "a") btn = document.getElementById("approve");
      else if (e.key === "c") btn = document.getElementById("correct");
      else if (e.key === "r") {
        var reason = document.getElementById("reject-reason");
        if (reason && reason.value) btn = document.getElementById("reject");
        else if (reason) { reason.focus(); e.preventDefault(); }
      } else if (e.key === "n" && task.dataset.next) location.href = "/tasks/" + task.dataset.next;
      else if (e.key === "/" && q) { q.focus(); e.preventDefault(); }
      if (btn && form) { e.preventDefault(); form.requestSubmit(btn); }
    });
  }
})();
