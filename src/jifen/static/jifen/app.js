// jifen's few lines of page behaviour; everything else is htmx and Alpine attributes.
(function () {
  "use strict";

  // Export links carry the list's current filters, even after htmx changed them in place.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-keep-query]");
    if (!link) return;
    var url = new URL(link.getAttribute("href"), window.location.href);
    var params = new URLSearchParams(window.location.search);
    params.delete("page");
    url.searchParams.forEach(function (value, key) { params.set(key, value); });
    url.search = params.toString();
    link.setAttribute("href", url.pathname + "?" + url.search.replace(/^\?/, ""));
  });
})();
