// The activity centre's countdowns: <time data-countdown="ISO time" data-days="d"
// data-done="now">fallback text</time> counts down every second. The server's text (the
// date and time) stays when scripts do not run.
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function render(element, now) {
    var target = Date.parse(element.getAttribute("data-countdown"));
    if (isNaN(target)) return;
    var left = Math.floor((target - now) / 1000);
    if (left <= 0) {
      element.textContent = element.getAttribute("data-done") || "0";
      return;
    }
    var days = Math.floor(left / 86400);
    var rest = left % 86400;
    var text = pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor((rest % 3600) / 60)) + ":" +
      pad(rest % 60);
    element.textContent = days ? days + (element.getAttribute("data-days") || "d") + " " + text
      : text;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (element) {
      render(element, now);
    });
  }

  function start() {
    if (!document.querySelector("[data-countdown]")) return;
    tick();
    window.setInterval(tick, 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
