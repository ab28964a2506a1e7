// The publish form says it is publishing: the button is disabled once the form is sent (so a second
// click cannot send it again) and a live status reads "Publishing…". Without JavaScript the form
// posts as it is.
(function () {
  "use strict";
  function start() {
    document.querySelectorAll("form[data-publish-form]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var button = form.querySelector("[data-publish-button]");
        var status = form.querySelector("[data-publish-status]");
        if (form.dataset.publishing === "1") {
          event.preventDefault();
          return;
        }
        form.dataset.publishing = "1";
        if (status) {
          status.textContent = "Publishing… running the publish gate and retiring the previous version.";
        }
        if (button) {
          button.setAttribute("aria-disabled", "true");
          if (button.tagName === "INPUT") {
            button.value = "Publishing…";
          } else {
            button.textContent = "Publishing…";
          }
          // The submit event has fired: the form is sent with or without its (unnamed) button.
          button.disabled = true;
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
