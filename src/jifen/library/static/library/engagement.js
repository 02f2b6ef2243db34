// Engagement widgets: the share link's "Copy link" button. Event delegation on the
// document, so buttons that htmx swaps in later work too (no inline handlers: CSP).
(function () {
  "use strict";

  function copy(input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value);
    }
    input.select();
    try { document.execCommand("copy"); } catch (e) { /* the text stays selected */ }
    return Promise.resolve();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var input = document.querySelector(button.getAttribute("data-copy-target"));
    if (!input) return;
    copy(input).then(function () {
      var label = button.getAttribute("data-copied");
      if (label) {
        button.setAttribute("aria-live", "polite");
        button.textContent = label;
      }
    }, function () { input.select(); });
  });
})();
