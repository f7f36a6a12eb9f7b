// The schedule's few lines of behaviour (htmx does the requests). No inline script: CSP.
// Without this file the rows the server rendered are shown, a collapsed summary has a plain
// "Show N subtasks" link, a long top level ends in a plain "Show more tasks" link, rows open
// the drawer through their links, and the drawer closes through its Close link.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // --- Expand and collapse summary rows (list and Gantt). Collapsed ids survive swaps. ----
  // A big project arrives with its deeper levels not loaded: a summary whose subtasks are not
  // in the page is collapsed, and expanding it fetches them (…/tasks/<id>/children).
  var collapsed = new Set();
  var fetched = new Set();  // summaries whose subtasks were fetched here (kept by a reload)

  function rowsBody() { return document.getElementById("schedule-rows"); }

  function listRows() {
    var body = rowsBody();
    return body ? body.rows : [];
  }

  function depthOf(row) { return Number(row.dataset.depth); }

  // A top level longer than the row budget ends in a "Show more tasks" row (no depth).
  function moreRow() { return document.getElementById("more-rows"); }

  function loaded(row) {
    var next = row.nextElementSibling;
    return Boolean(next) && depthOf(next) > depthOf(row);
  }

  function applyCollapse() {
    var rows = listRows();
    var hideBelow = Infinity;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var depth = depthOf(row);
      if (depth > hideBelow) { row.hidden = true; continue; }
      hideBelow = Infinity;
      row.hidden = false;
      var toggle = row.querySelector(".toggle");
      if (toggle) {
        var closed = collapsed.has(row.id) || !loaded(row);
        toggle.setAttribute("aria-expanded", closed ? "false" : "true");
        if (closed) { hideBelow = depth; }
      }
    }
  }

  function fetchRows(url, target, swap) {
    var body = rowsBody();
    body.setAttribute("aria-busy", "true");
    return htmx.ajax("GET", url, { source: target, target: target, swap: swap }).finally(function () {
      body.removeAttribute("aria-busy");
    });
  }

  function expand(row) {
    collapsed.delete(row.id);
    if (loaded(row)) { applyCollapse(); return; }
    if (row.hasAttribute("data-loading")) { return; }
    row.setAttribute("data-loading", "");
    fetched.add(row.id);
    var url = rowsBody().dataset.children.replace("__id__", row.id.slice(5));
    fetchRows(url, row, "afterend").finally(function () { row.removeAttribute("data-loading"); });
  }

  function expandAll() {
    collapsed.clear();
    var missing = moreRow() || Array.prototype.some.call(listRows(), function (row) {
      return row.classList.contains("k-s") && !loaded(row);
    });
    if (!missing) { applyCollapse(); return; }
    fetchRows(rowsBody().dataset.children.replace("/tasks/__id__/children", "/rows"), rowsBody(), "innerHTML");
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
      var summary = toggle.closest("tr");
      if (toggle.getAttribute("aria-expanded") === "true") {
        collapsed.add(summary.id);
        applyCollapse();
      } else {
        expand(summary);
      }
      return;
    }
    if (target.closest("[data-expand-all]")) { expandAll(); return; }
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
                  : target.closest("#schedule-rows > tr");
    if (!row || target.closest("a, button, input, select, textarea, label, summary")) { return; }
    if (!bar && String(window.getSelection()).length) { return; }  // selecting text
    var link = row.querySelector(".task-link");
    if (link) { link.click(); }
  });

  // --- A reload after a write keeps what was open and where it was scrolled to. ----------
  // The Gantt and a filtered list reload themselves on `schedule-changed`; the request says
  // which rows the page holds: `all` when no summary waits for its subtasks, else the deepest
  // summaries whose subtasks are loaded (the server opens their parents too) in branches
  // fetched here (`fetched`: the levels the server opened by itself it opens again, and they
  // must not take the places of the 50 sent). Collapsed ids
  // survive the swap in `collapsed`; the chart's (or the table's) scroll offsets are put back
  // after it (the page's own scroll is kept by the browser: the swap is synchronous).
  var MAX_KEPT_OPEN = 50;  // as ppm.schedule.views.MAX_KEPT_OPEN
  var scrolled = null;

  function keptOpen() {
    var rows = listRows();
    var open = [];
    var stack = [];
    var missing = false;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      if (!row.classList.contains("k-s")) { continue; }
      if (!loaded(row)) { missing = true; continue; }
      while (stack.length && depthOf(stack[stack.length - 1].row) >= depthOf(row)) { stack.pop(); }
      var parent = stack.length ? stack[stack.length - 1] : null;
      if (parent) { parent.deepest = false; }
      var entry = { row: row, deepest: true, fetched: fetched.has(row.id) || Boolean(parent && parent.fetched) };
      stack.push(entry);
      open.push(entry);
    }
    if (!missing && !moreRow()) { return "all"; }
    return open.filter(function (entry) { return entry.deepest && entry.fetched; }).slice(0, MAX_KEPT_OPEN)
      .map(function (entry) { return entry.row.id.slice(5); }).join(",");
  }

  function scroller() { return document.querySelector("#schedule-view .gantt-scroll, #schedule-view .table-scroll"); }

  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id !== "schedule-view") { return; }  // a reload, not a switch of view
    var kept = keptOpen();
    if (kept) { event.detail.parameters.expanded = kept; }
    var body = rowsBody();
    if (moreRow() && body) { event.detail.parameters.shown = body.querySelectorAll("tr[data-depth='0']").length; }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    if (!config || config.elt.id !== "schedule-view") { return; }
    waiting.clear();  // the reload brings every row as it is now
    var box = scroller();
    scrolled = { left: box ? box.scrollLeft : 0, top: box ? box.scrollTop : 0 };
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (!scrolled) { return; }
    applyCollapse();  // the rows someone collapsed take no height before the scroll is set
    var box = scroller();
    if (box) { box.scrollLeft = scrolled.left; box.scrollTop = scrolled.top; }
    scrolled = null;
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

  // "Show more tasks": focus goes to the first of the rows that took its place.
  var moreAfter = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.classList && elt.classList.contains("drawer-close")) {
      returnTo = drawer() && drawer().getAttribute("data-task");
    }
    if (elt && elt.hasAttribute && elt.hasAttribute("data-more")) {
      moreAfter = { row: elt.closest("tr"), before: elt.closest("tr").previousElementSibling };
      rowsBody().setAttribute("aria-busy", "true");
    }
  });

  function focusFirstMore() {
    if (!moreAfter || moreAfter.row.isConnected) { return; }  // not swapped yet
    rowsBody().removeAttribute("aria-busy");
    var first = moreAfter.before.nextElementSibling;
    var link = first && first.querySelector && first.querySelector(".task-link");
    // No new rows (removed meanwhile): the last row shown keeps the place, not the page's body.
    var fallback = moreAfter.before && moreAfter.before.querySelector(".task-link");
    moreAfter = null;
    if (link || fallback) { (link || fallback).focus(); }
  }
  document.addEventListener("htmx:afterRequest", function (event) {
    if (moreAfter && moreAfter.row.contains(event.detail.elt) && !event.detail.successful) {
      rowsBody().removeAttribute("aria-busy");
      moreAfter = null;
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

  // Rows sent out of band after a write arrive at the end of the list (data-oob): each takes
  // the place of the row with its id, or a new one (data-new) goes after its predecessor or
  // its parent's last row shown; a row whose place is not loaded here is dropped (it comes
  // with its subtree when that is expanded).
  function lastShownUnder(parent, except) {
    var last = parent;
    for (var row = parent.nextElementSibling; row && depthOf(row) > depthOf(parent); row = row.nextElementSibling) {
      if (row !== except) { last = row; }
    }
    return last;
  }

  function placeArrivals() {
    var body = rowsBody();
    if (!body) { return; }
    var live = false;
    Array.prototype.forEach.call(body.querySelectorAll("tr[data-oob]"), function (row) {
      row.removeAttribute("data-oob");
      var old = document.getElementById(row.id);
      if (row.hasAttribute("data-live")) { live = true; placeLive(row, old === row ? null : old); return; }
      waiting.delete(row.id);  // the person's own write is newer than a polled copy held back
      if (old && old !== row) { old.replaceWith(row); return; }
      if (!row.hasAttribute("data-new")) { row.remove(); return; }
      var after = document.getElementById("task-" + row.dataset.after);
      var parentId = row.dataset.parent;
      var parent = parentId ? document.getElementById("task-" + parentId) : null;
      if (!after && parentId) {
        after = parent && lastShownUnder(parent, row);
        if (!after || after === parent) { row.remove(); return; }  // its subtree is not loaded
      }
      if (!after && moreRow()) { row.remove(); return; }  // past the top-level rows shown
      if (after && after !== row) { after.after(row); }
    });
    if (live) { applyCollapse(); markOpen(); }
  }

  // --- Rows from the changes poll (live.js, SPEC §23) -------------------------------------
  // Each replaces the row with its id unless it shows the same (data-v: the person's own write
  // put it there), goes (data-gone), or is new: after its previous sibling's rows, or first
  // under its parent when the parent's rows are loaded here, else it is left for the expand.
  // A row holding focus is not replaced under the person: its new copy waits until focus
  // leaves. live.js counts the changes (data-changed) for its one announcement per poll.
  var waiting = new Map();
  var becameSummary = new Set();

  function holdsFocus(row) {
    var active = document.activeElement;
    return Boolean(active && active !== document.body && row.contains(active));
  }

  function told(change) { document.dispatchEvent(new CustomEvent("schedule:live-row", { detail: change })); }

  function placeLive(row, old) {
    waiting.delete(row.id);
    row.remove();  // put back where it belongs below, or dropped
    var change = "";
    if (row.hasAttribute("data-gone")) { change = old ? "removed" : ""; }
    else if (old) { change = old.dataset.v && old.dataset.v === row.dataset.v ? "" : "updated"; }
    else { change = placeNew(row) ? "added" : ""; }
    if (change && old) {
      if (holdsFocus(old)) { waiting.set(row.id, row); } else { swapIn(old, row); }
    }
    if (change && row.hasAttribute("data-changed")) { told(change); }
  }

  function swapIn(old, row) {
    if (row.hasAttribute("data-gone")) { old.remove(); return; }
    if (!old.classList.contains("k-s") && row.classList.contains("k-s")) { becameSummary.add(row.id); }
    old.replaceWith(row);
  }

  function placeNew(row) {
    var siblingId = row.dataset.sibling;
    var parentId = row.dataset.parent;
    if (siblingId) {
      var sibling = document.getElementById("task-" + siblingId);
      if (sibling) { lastShownUnder(sibling, row).after(row); }
      return Boolean(sibling);
    }
    if (parentId) {  // its first subtask: only where the parent's subtasks are loaded here
      var parent = document.getElementById("task-" + parentId);
      var open = parent && (loaded(parent) || becameSummary.has(parent.id));
      if (open) { parent.after(row); }
      return Boolean(open);
    }
    if (moreRow()) { return false; }
    rowsBody().prepend(row);
    return true;
  }

  document.addEventListener("focusout", function () {
    if (!waiting.size) { return; }
    setTimeout(function () {  // once focus has landed elsewhere
      var swapped = false;
      waiting.forEach(function (row, id) {
        var old = document.getElementById(id);
        if (old && holdsFocus(old)) { return; }
        waiting.delete(id);
        if (old) { swapIn(old, row); swapped = true; }
      });
      if (swapped) { applyCollapse(); markOpen(); }
    }, 0);
  });

  document.addEventListener("htmx:oobAfterSwap", placeArrivals);

  document.addEventListener("htmx:afterSettle", function () {
    placeArrivals();
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
    focusFirstMore();
    var added = document.querySelector("#schedule-rows tr[data-new]");
    if (added) { added.removeAttribute("data-new"); reveal(added); }
  });
})();
