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

  // Rows of tabs or filters that scroll sideways on a phone: fade the right edge while more
  // lies beyond it, and bring the current one into view.
  function hintMore(row) {
    row.classList.toggle("jf-more-right", row.scrollWidth - row.clientWidth - row.scrollLeft > 4);
  }
  function setUpRows(root) {
    root.querySelectorAll(".jf-scroll-row").forEach(function (row) {
      var current = row.querySelector(".active");
      if (current) {
        var rowBox = row.getBoundingClientRect(), box = current.getBoundingClientRect();
        if (box.right > rowBox.right) row.scrollLeft += box.left - rowBox.left - rowBox.width / 3;
      }
      hintMore(row);
      if (!row.dataset.hinted) {
        row.dataset.hinted = "1";
        row.addEventListener("scroll", function () { hintMore(row); }, { passive: true });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setUpRows(document); });
  // Again once fonts and icons have their final widths.
  window.addEventListener("load", function () { setUpRows(document); });
  document.addEventListener("htmx:load", function (event) { setUpRows(event.target); });
  window.addEventListener("resize", function () {
    document.querySelectorAll(".jf-scroll-row").forEach(hintMore);
  });
})();
