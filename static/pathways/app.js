// PNET Pathways behaviour. No inline scripts, no eval: everything lives here so a strict CSP holds.
(function () {
  "use strict";

  function walk() { return document.getElementById("walk"); }

  function focusHeading() {
    var heading = document.getElementById("step-title");
    if (heading) { heading.focus({ preventScroll: false }); }
  }

  function markStale(message) {
    var container = walk();
    if (!container) { return; }
    container.classList.add("is-stale");
    var status = container.querySelector(".walk-status");
    if (status) {
      status.innerHTML = "";
      var alert = document.createElement("div");
      alert.className = "alert alert-danger walk-error";
      alert.setAttribute("role", "alert");
      alert.textContent = message;
      status.appendChild(alert);
    }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "walk") { focusHeading(); }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var container = walk();
    if (container) { container.classList.remove("is-stale"); }
  });
  document.addEventListener("htmx:responseError", function () {
    markStale("The server could not process this step. Nothing shown here is current: reload the page before acting on it.");
  });
  document.addEventListener("htmx:sendError", function () {
    markStale("The connection to the server was lost. Nothing shown here is current: check the connection and reload the page.");
  });
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-action=print]");
    if (target) { window.print(); }
  });
})();
