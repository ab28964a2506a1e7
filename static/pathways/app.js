// PNET Pathways behaviour. No inline scripts, no eval: everything lives here so a strict CSP holds.
// User-facing messages come from data-msg-* attributes rendered by the (translated) templates.
(function () {
  "use strict";

  function walk() { return document.getElementById("walk"); }
  function announcer() { return document.getElementById("announcer"); }

  function message(name, fallback) {
    var element = announcer();
    return (element && element.getAttribute("data-msg-" + name)) || fallback;
  }

  // Say something through the page's persistent live region (it lives outside #walk, so it
  // survives the swaps). Clearing first makes a repeated message be read again.
  function announce(text) {
    var element = announcer();
    if (!element || !text) { return; }
    element.textContent = "";
    window.setTimeout(function () { element.textContent = text; }, 60);
  }

  function focusHeading() {
    var heading = document.getElementById("step-title");
    // At once, not smoothly (Bootstrap sets smooth scrolling): the new step or the plan is on
    // screen the moment it is announced, not after an animation from where the last step was.
    if (heading) { heading.focus({ preventScroll: true }); heading.scrollIntoView({ block: "nearest", behavior: "instant" }); }
  }

  function fieldErrors(container) {
    var texts = [];
    container.querySelectorAll(".invalid-feedback, .errorlist, form .alert-danger").forEach(function (el) {
      var text = (el.textContent || "").replace(/\s+/g, " ").trim();
      if (text && texts.indexOf(text) < 0) { texts.push(text); }
    });
    return texts;
  }

  function markStale(text) {
    var container = walk();
    if (!container) { return; }
    container.classList.add("is-stale");
    container.setAttribute("data-stale", "");
    var status = container.querySelector(".walk-status");
    if (status) {
      status.textContent = "";
      var alert = document.createElement("div");
      alert.className = "alert alert-danger walk-error";
      alert.setAttribute("role", "alert");
      alert.textContent = text;
      status.appendChild(alert);
      status.scrollIntoView({ block: "nearest" });
    }
    var label = message("not-current", "Not current");
    container.querySelectorAll("[data-code], [data-outcome]").forEach(function (element) {
      if (element.querySelector(".stale-badge")) { return; }
      var badge = document.createElement("span");
      badge.className = "stale-badge";
      badge.textContent = label;
      if (element.matches("[data-outcome]")) {
        element.appendChild(document.createTextNode(" "));
        element.appendChild(badge);
      } else {
        element.insertBefore(badge, element.firstChild);
      }
    });
    // .walk-status is a live region already in the page, so the alert put into it is announced.
  }

  // The flowchart: scrolled so the current step is in view, and kept open across steps once
  // the clinician has opened it.
  var FLOWCHART_KEY = "pathways.flowchart-open";

  function centreCurrentNode(root) {
    (root || document).querySelectorAll(".flowchart-scroll").forEach(function (scroller) {
      var node = scroller.querySelector(".fc-node.current rect") || scroller.querySelector(".fc-node.on-path rect");
      if (!node) { return; }
      var box = node.getBoundingClientRect();
      var frame = scroller.getBoundingClientRect();
      if (scroller.scrollWidth > scroller.clientWidth) {
        scroller.scrollLeft += box.left - frame.left - (frame.width - box.width) / 2;
      }
      if (scroller.scrollHeight > scroller.clientHeight) {
        scroller.scrollTop += box.top - frame.top - (frame.height - box.height) / 2;
      }
    });
  }

  function rememberedOpen() {
    try { return window.sessionStorage.getItem(FLOWCHART_KEY) === "1"; } catch (error) { return false; }
  }

  // Buttons that only work with this script (print, copy) stay hidden without it.
  function revealScriptedControls() {
    document.querySelectorAll("[data-needs-js][hidden]").forEach(function (element) { element.hidden = false; });
  }

  // Times are rendered in the server's time zone; the browser shows them in its own (the ward's).
  var LOCAL_TIME = { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" };

  function localTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return ""; }
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, LOCAL_TIME).format(date);
    } catch (error) { return ""; }
  }

  function localiseTimes() {
    document.querySelectorAll("time[data-local-time]").forEach(function (element) {
      var text = localTime(element.getAttribute("datetime"));
      if (text) { element.textContent = text; }
    });
    document.querySelectorAll("textarea[data-local-time-text]").forEach(function (area) {
      var server = area.getAttribute("data-local-time-text");
      var text = localTime(area.getAttribute("data-local-time-at"));
      if (server && text && area.value.indexOf(server) >= 0) {
        area.value = area.value.replace(server, text);
        area.removeAttribute("data-local-time-text");
      }
    });
  }

  function restoreFlowchart() {
    revealScriptedControls();
    localiseTimes();
    var details = document.querySelector("details.flowchart-details");
    if (details && rememberedOpen()) { details.open = true; }
    centreCurrentNode(document);
  }

  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches || !details.matches("details.flowchart-details")) { return; }
    try { window.sessionStorage.setItem(FLOWCHART_KEY, details.open ? "1" : "0"); } catch (error) { /* private mode */ }
    if (details.open) { centreCurrentNode(details); }
  }, true);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restoreFlowchart);
  } else {
    restoreFlowchart();
  }

  // The step's flowchart arrives when its panel is first opened; centre it once it is in.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.classList && target.classList.contains("flowchart-slot")) { centreCurrentNode(target); }
  });
  // Re-open the panel only once htmx has processed the new step, so its loader hears the toggle.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "walk") { restoreFlowchart(); }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "walk") { return; }
    revealScriptedControls();
    var container = walk();
    // After a refused answer, put the user on the field to correct; otherwise on the new step.
    var invalid = container && container.querySelector("form[data-step] [aria-invalid=true], form[data-step] .is-invalid");
    if (invalid) { invalid.focus(); } else { focusHeading(); }
    if (container) {
      var errors = fieldErrors(container);
      if (errors.length) {
        announce(message("errors", "The answer was not saved. Please correct:") + " " + errors.join(" "));
      } else {
        var warning = container.querySelector(".walk-status .alert");
        if (warning) { announce(warning.textContent.replace(/\s+/g, " ").trim()); }
      }
    }
  });
  // A failed step or change leaves the walk as it was: say so, and mark what is shown as not
  // current. A flowchart that fails to load only says so in its panel.
  function failed(event, name, fallback) {
    var target = event.detail && event.detail.target;
    var slot = target && target.closest && target.closest(".flowchart-slot");
    if (slot) {
      var note = document.createElement("p");
      note.className = "alert alert-warning small mb-0";
      note.setAttribute("role", "alert");
      note.textContent = message("flowchart-failed", "The flowchart could not be loaded.");
      slot.insertBefore(note, slot.firstChild);
      return;
    }
    markStale(message(name, fallback));
  }
  document.addEventListener("htmx:responseError", function (event) {
    failed(event, "server-error", "The server could not process this step. The recommendations shown are not current: reload the page.");
  });
  document.addEventListener("htmx:sendError", function (event) {
    failed(event, "offline", "The connection to the server was lost. The recommendations shown are not current: reload the page.");
  });
  document.addEventListener("htmx:timeout", function (event) {
    failed(event, "offline", "The connection to the server was lost. The recommendations shown are not current: reload the page.");
  });

  // Copy the plain-text report: the Clipboard API where allowed, else select the text and
  // use the legacy copy command, else leave it selected for the user to copy.
  function selectText(area) {
    var details = area.closest("details");
    if (details) { details.open = true; }
    area.focus();
    area.select();
    area.setSelectionRange(0, area.value.length);
  }

  function legacyCopy(area) {
    selectText(area);
    try { return document.execCommand("copy"); } catch (error) { return false; }
  }

  function copyText(button) {
    var area = document.getElementById(button.getAttribute("data-copy-target"));
    if (!area) { return; }
    var status = button.parentElement.querySelector(".copy-status");
    function done(ok) {
      var text = button.getAttribute(ok ? "data-msg-copied" : "data-msg-failed");
      if (!ok) { selectText(area); }
      if (status) { status.textContent = text; }
      button.setAttribute("data-copied", ok ? "true" : "false");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(
        function () { done(true); },
        function () { done(legacyCopy(area)); }
      );
    } else {
      done(legacyCopy(area));
    }
  }

  // The report prints without the flowchart; this prints it too, on a page of its own.
  function printWithFlowchart() {
    var root = document.documentElement;
    root.classList.add("print-flowchart");
    window.addEventListener("afterprint", function () { root.classList.remove("print-flowchart"); }, { once: true });
    window.print();
  }

  window.addEventListener("beforeprint", function () {
    var now = new Date().toISOString();
    document.querySelectorAll("time[data-print-time]").forEach(function (element) {
      element.setAttribute("datetime", now);
      var text = localTime(now);
      if (text) { element.textContent = text; }
    });
  });

  // A citation link inside a closed <details> (the references list) opens it first.
  function openReference(link) {
    var id = (link.getAttribute("href") || "").slice(1);
    var target = id && document.getElementById(id);
    if (!target) { return; }
    var details = target.closest("details");
    if (details) { details.open = true; }
  }

  document.addEventListener("click", function (event) {
    var element = event.target.closest("[data-action], a.cite");
    if (!element) { return; }
    if (element.matches("a.cite")) { openReference(element); return; }
    var action = element.getAttribute("data-action");
    if (action === "print") { window.print(); }
    if (action === "print-flowchart") { printWithFlowchart(); }
    if (action === "copy-text") { copyText(element); }
  });
})();
