// The few lines of behaviour htmx does not give us. No inline script: the CSP forbids it.
(function () {
  "use strict";

  // A full page that arrives with an error summary puts focus on it (GOV.UK pattern).
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });

  // A failed request that could not reach the server at all still says so.
  document.addEventListener("htmx:sendError", function () {
    var region = document.getElementById("alert-region");
    if (region) { region.textContent = "Could not reach ppm. Check your connection and try again."; }
  });

  // Errors other than form validation are answered into the alert region (ppm.errors).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var region = document.getElementById("alert-region");
    if (region && event.detail.target !== region && event.detail.xhr.status >= 400) {
      region.textContent = "";
    }
  });

  // Copy buttons (a webhook's one-time secret): shown only when this script runs; without it
  // the read-only fields can still be selected and copied by hand.
  function showCopyButtons(root) {
    root.querySelectorAll("button[data-copy][hidden]").forEach(function (button) { button.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", function () { showCopyButtons(document); });
  document.addEventListener("htmx:load", function (event) { showCopyButtons(event.detail.elt); });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    var field = button && document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var region = document.getElementById("live-region");
    var say = function (text) { if (region) { region.textContent = text; } };
    var manual = "Copying is not available here: the text is selected, press Ctrl+C (or Cmd+C).";
    field.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(function () {
        say(button.getAttribute("data-copied") || "Copied.");
        button.focus();
      }, function () { say(manual); });
    } else {
      say(manual);
    }
  });
})();
