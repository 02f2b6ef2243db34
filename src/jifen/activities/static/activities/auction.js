// The auction page: when the live part is refreshed (htmx), keep the bid form's minimum in
// step with the new leading price, without touching what the bidder is typing.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.target || event.target.id !== "auction-live") return;
    var state = document.getElementById("auction-state");
    var input = document.getElementById("bid-amount");
    if (!state || !input) return;
    var minimum = parseInt(state.getAttribute("data-minimum"), 10);
    if (isNaN(minimum)) return;
    input.min = String(minimum);
    if (document.activeElement !== input && (parseInt(input.value, 10) || 0) < minimum) {
      input.value = String(minimum);
    }
  });
})();
