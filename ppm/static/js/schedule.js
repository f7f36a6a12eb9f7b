// The schedule's few lines of behaviour (htmx does the requests). No inline script: CSP.
// Without this file every row is shown, rows open the drawer through their links, and the
// drawer closes through its Close link.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // --- Expand and collapse summary rows (list view). Collapsed ids survive swaps. ---------
  var collapsed = new Set();

  function listRows() {
    var body = document.getElementById("schedule-rows");
    return body ? body.rows : [];
  }

  function applyCollapse() {
    var rows = listRows();
    var hideBelow = Infinity;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var depth = Number(row.dataset.depth);
      if (depth > hideBelow) { row.hidden = true; continue; }
      hideBelow = Infinity;
      row.hidden = false;
      var toggle = row.querySelector(".toggle");
      if (toggle) {
        var closed = collapsed.has(row.id);
        toggle.setAttribute("aria-expanded", closed ? "false" : "true");
        if (closed) { hideBelow = depth; }
      }
    }
  }

  // Opens every collapsed parent above `row`, so it can be seen and focused.
  function reveal(row) {
    var depth = Number(row.dataset.depth);
    for (var r = row.previousElementSibling; r && depth > 0; r = r.previousElementSibling) {
      var d = Number(r.dataset.depth);
      if (d < depth) { collapsed.delete(r.id); depth = d; }
    }
    applyCollapse();
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var toggle = target.closest(".toggle");
    if (toggle) {
      var id = toggle.closest("tr").id;
      if (collapsed.has(id)) { collapsed.delete(id); } else { collapsed.add(id); }
      applyCollapse();
      return;
    }
    if (target.closest("[data-expand-all]")) { collapsed.clear(); applyCollapse(); return; }
    if (target.closest("[data-collapse-all]")) {
      Array.prototype.forEach.call(listRows(), function (row) {
        if (row.classList.contains("k-s")) { collapsed.add(row.id); }
      });
      applyCollapse();
      return;
    }
    // A click anywhere on a row, or on a Gantt bar, opens the drawer through the row's link.
    var bar = target.closest("[data-t]");
    var row = bar ? document.getElementById("task-" + bar.getAttribute("data-t"))
                  : target.closest(".schedule-table tbody tr, .gantt-names tbody tr");
    if (!row || target.closest("a, button, input, select, textarea, label, summary")) { return; }
    if (!bar && String(window.getSelection()).length) { return; }  // selecting text
    var link = row.querySelector(".task-link");
    if (link) { link.click(); }
  });

  // --- The drawer: Escape closes it; focus goes back to the task's row. -------------------
  var returnTo = null;

  function drawer() { return document.getElementById("drawer"); }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) { return; }
    var open = drawer();
    if (!open || open.hidden) { return; }
    var active = document.activeElement;
    if (active && active !== document.body && !open.contains(active)) { return; }
    // Escape in a field someone has typed into does not throw their words away.
    if (active && "defaultValue" in active && active.value !== active.defaultValue) { return; }
    // Inside a link being edited or confirmed, Escape cancels that, not the whole drawer.
    var row = active && active.closest ? active.closest(".link-row") : null;
    var cancel = row && Array.prototype.find.call(row.querySelectorAll("a.button"), function (a) {
      return a.textContent.trim() === "Cancel";
    });
    if (cancel) { event.preventDefault(); cancel.click(); return; }
    var close = open.querySelector(".drawer-close");
    if (close) { event.preventDefault(); close.click(); }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.classList && elt.classList.contains("drawer-close")) {
      returnTo = drawer() && drawer().getAttribute("data-task");
    }
  });

  // The open task's row is highlighted (the drawer's heading names it for assistive tech).
  function markOpen() {
    var open = drawer();
    var id = open && !open.hidden ? open.getAttribute("data-task") : null;
    Array.prototype.forEach.call(document.querySelectorAll("tr.is-open"), function (row) {
      row.classList.remove("is-open");
    });
    var row = id && document.getElementById("task-" + id);
    if (row) { row.classList.add("is-open"); }
  }
  document.addEventListener("DOMContentLoaded", markOpen);

  document.addEventListener("htmx:afterSettle", function () {
    applyCollapse();
    markOpen();
    var open = drawer();
    if (returnTo && open && open.hidden) {
      var row = document.getElementById("task-" + returnTo);
      var link = row && row.querySelector(".task-link");
      if (link) {
        if (row.hidden) { reveal(row); }
        link.focus();
      }
    }
    returnTo = null;
    var added = document.querySelector("#schedule-rows tr[data-new]");
    if (added) { added.removeAttribute("data-new"); reveal(added); }
  });
})();
