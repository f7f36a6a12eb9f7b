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
})();
