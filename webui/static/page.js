/* Small helpers for the farmer's pages; no inline script anywhere (the page's CSP forbids it). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // A print button: [data-print] prints the page (the stylesheet hides the navigation).
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
}());
