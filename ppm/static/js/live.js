// The live schedule (SPEC §23): every LIVE_INTERVAL seconds the page asks what changed since
// the sync number it was built at (#schedule-live); htmx swaps the answer in out of band and
// schedule.js places the rows. A region that holds focus or a form with unsaved input is not
// replaced under the person: its new copy waits until focus leaves and the input is saved or
// undone (or a newer copy of the region replaces it). One polite announcement per poll.
// Paused while the tab is hidden, at once when it is shown again. Without JavaScript nothing
// polls: a reload shows the changes.
(function () {
  "use strict";
  var timer = null;
  var polling = false;  // a request is out
  var ours = false;     // the swaps under way are the poll's answer
  var stopped = false;  // refused for good (logged out, no longer a member)
  var reload = false;   // the answer asks for the whole view (Gantt scale moved, many changes)
  var counts = null;
  var asked = null;     // the drawer's task the poll asked about
  var held = new Map(); // region id -> its newer copy, waiting for the person

  function state() { return document.getElementById("schedule-live"); }

  function later() {
    var live = state();
    var seconds = live ? Number(live.dataset.interval) : 0;
    clearTimeout(timer);
    timer = seconds > 0 && !stopped ? setTimeout(poll, seconds * 1000) : null;
  }

  function poll() {
    var live = state();
    if (!live || polling || stopped || document.visibilityState === "hidden") { return; }
    var url = live.dataset.changes;
    url += (url.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(live.dataset.since);
    var drawer = document.getElementById("drawer");
    var task = drawer && !drawer.hidden && drawer.getAttribute("data-task");
    if (task) { url += "&task=" + encodeURIComponent(task); }
    asked = task || null;
    polling = true;
    counts = { updated: 0, added: 0, removed: 0 };
    htmx.ajax("GET", url, { source: live, target: live, swap: "none" }).catch(function () {}).then(function () {
      polling = false;
      announce(counts);
      counts = null;
      if (reload) { reload = false; held.set("schedule-view", "reload"); }
      release();
      later();
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { poll(); }
  });

  // A person who logged out, or left the project, stops polling; no redirect under them.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    if (event.detail.elt.id !== "schedule-live") { return; }
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500) { stopped = true; }
    if (status === 401) { event.preventDefault(); }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.elt && event.detail.elt.id === "schedule-live") {
      ours = true;
      setTimeout(function () { ours = false; }, 0);  // htmx swaps the answer in this same task
    } else {
      forget(event.detail.target, event.detail.requestConfig && event.detail.requestConfig.verb);
    }
  });

  // --- Out-of-band parts: held back while the person is in them ---------------------------
  function busy(region) {
    var active = document.activeElement;
    if (active && active !== document.body && region.contains(active)) { return true; }
    return Array.prototype.some.call(region.querySelectorAll("input, textarea, select"), function (field) {
      if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
      if (field.tagName === "SELECT") {
        return Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      return field.type !== "hidden" && field.value !== field.defaultValue;
    });
  }

  // A swap of the person's own that replaces a held region, or writes inside it, makes the held
  // copy the older one: it is dropped. A read inside it (the link form's hint) keeps it.
  function forget(target, verb) {
    if (!target) { return; }
    held.forEach(function (copy, id) {
      var region = document.getElementById(id);
      if (!region || target.contains(region) || (verb !== "get" && region.contains(target))) { held.delete(id); }
    });
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (!ours) { forget(target, "oob"); return; }
    if (target.id === "schedule-live") {
      var next = event.detail.fragment.firstElementChild;
      if (next.hasAttribute("data-reload") || next.dataset.scale !== target.dataset.scale) { reload = true; }
      return;
    }
    if (target.id === "schedule-rows") { return; }  // schedule.js places each row
    var drawer = document.getElementById("drawer");
    if (target.id === "task-links" && (!drawer || drawer.getAttribute("data-task") !== asked)) {
      event.detail.shouldSwap = false;  // another task's drawer was opened meanwhile
      return;
    }
    if (busy(target)) {
      held.set(target.id, event.detail.fragment.firstElementChild);
      event.detail.shouldSwap = false;
    } else {
      held.delete(target.id);
    }
  });

  // Rows for a view that has none yet (the first task): the view reloads itself.
  document.addEventListener("htmx:oobErrorNoTarget", function () { if (ours) { reload = true; } });

  function release() {
    held.forEach(function (copy, id) {
      var region = document.getElementById(id);
      if (!region) { held.delete(id); return; }
      if (busy(region)) { return; }
      held.delete(id);
      if (copy === "reload") {
        htmx.trigger(document.body, "schedule-changed");
      } else {
        region.replaceWith(copy);
        htmx.process(copy);
      }
    });
  }

  document.addEventListener("focusout", function () {
    if (held.size) { setTimeout(release, 0); }
  });

  // --- One announcement per poll: "2 tasks updated, 1 task added." -------------------------
  document.addEventListener("schedule:live-row", function (event) {
    if (counts && event.detail in counts) { counts[event.detail] += 1; }
  });

  function announce(seen) {
    var region = document.getElementById("live-region");
    var parts = [];
    ["updated", "added", "removed"].forEach(function (what) {
      var n = seen[what];
      if (n) { parts.push(n + (n === 1 ? " task " : " tasks ") + what); }
    });
    if (region && parts.length) { region.textContent = parts.join(", ") + "."; }
  }

  later();
})();
