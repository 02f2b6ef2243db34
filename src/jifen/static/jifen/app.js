// jifen's few lines of page behaviour. The pages carry no inline script, no on…="" handler
// and no Alpine expression beyond a name: the Content-Security-Policy refuses inline code and
// eval (decision 0014). Behaviour is asked for with data- attributes handled here, and
// Alpine components are registered here by name (Alpine's CSP build).
(function () {
  "use strict";

  // <form data-confirm="Question?"> and <button data-confirm="…">: ask before submitting.
  // In the capture phase, so a "no" also stops htmx's own submit handling.
  function confirmed(element, event) {
    var question = element && element.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return false;
    }
    return true;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm], input[type=submit][data-confirm]");
    if (button) confirmed(button, event);
  }, true);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!confirmed(form, event)) return;
    // <form data-submit-once>: a second click while the first submission loads posts nothing.
    if (form.hasAttribute("data-submit-once")) {
      if (form.dataset.submitting) {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      form.dataset.submitting = "1";
      // After this event: a submitter disabled now would drop out of the form's data.
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
          b.disabled = true;
        });
      }, 0);
    }
  }, true);

  // <select data-autosubmit>: a filter that applies as soon as it changes.
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches("[data-autosubmit]") && field.form) {
      if (field.form.requestSubmit) field.form.requestSubmit();
      else field.form.submit();
    }
    // <input type=checkbox data-select-all="orders">: ticks every box named "orders" in its form.
    var name = field.getAttribute("data-select-all");
    if (name && field.form) {
      field.form.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        if (box.name === name) box.checked = field.checked;
      });
    }
  });

  // <a data-back href="/">: back to the previous page, or to the link's page without one.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-back]");
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });

  // Alpine components, by name (x-data="countdown"). app.js runs before Alpine starts.
  document.addEventListener("alpine:init", function () {
    var Alpine = window.Alpine;

    // x-data="countdown" data-ends-at="<ISO time>" data-days="d": "2 d 03:04:05" left.
    Alpine.data("countdown", function () {
      return {
        left: "",
        timer: null,
        init: function () {
          var end = new Date(this.$el.dataset.endsAt), days = this.$el.dataset.days || "d";
          var self = this;
          function pad(n) { return String(n).padStart(2, "0"); }
          function tick() {
            var s = Math.max(0, Math.floor((end - new Date()) / 1000));
            if (isNaN(s)) return;
            var d = Math.floor(s / 86400);
            s %= 86400;
            self.left = (d ? d + " " + days + " " : "") +
              [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map(pad).join(":");
          }
          tick();
          this.timer = window.setInterval(tick, 1000);
        },
        destroy: function () { window.clearInterval(this.timer); },
      };
    });

    // x-data="copyKey" data-copy-label data-copied-label, around x-ref="key" and a button
    // @click="copy": copies the key, selects it (to copy by hand where the clipboard is
    // refused) and says so on the button.
    Alpine.data("copyKey", function () {
      return {
        copied: false,
        copy: function () {
          var field = this.$refs.key;
          if (navigator.clipboard) navigator.clipboard.writeText(field.value).catch(function () {});
          field.select();
          this.copied = true;
        },
        get icon() { return this.copied ? "ti-check" : "ti-copy"; },
        get label() {
          return this.copied ? this.$root.dataset.copiedLabel : this.$root.dataset.copyLabel;
        },
      };
    });
  });

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
  // Tables that still scroll sideways (.table-responsive wider than the screen): a "scroll
  // for more →" line above them (its words come from app.css, in the page's language) and
  // the same fade at the right edge.
  function markScroller(box) {
    var scrolls = box.scrollWidth - box.clientWidth > 4;
    box.classList.toggle("jf-scrolls", scrolls);
    var hint = box.previousElementSibling;
    if (!hint || !hint.classList.contains("jf-scroll-hint")) {
      if (!scrolls) return;
      hint = document.createElement("div");
      hint.className = "jf-scroll-hint";
      hint.setAttribute("aria-hidden", "true");
      box.parentNode.insertBefore(hint, box);
    }
    hint.hidden = !scrolls;
    hintMore(box);
    if (!box.dataset.hinted) {
      box.dataset.hinted = "1";
      box.addEventListener("scroll", function () { hintMore(box); }, { passive: true });
    }
  }
  function setUpTables(root) {
    if (root.matches && root.matches(".table-responsive")) markScroller(root);
    root.querySelectorAll(".table-responsive").forEach(markScroller);
  }
  function setUpRows(root) {
    setUpTables(root);
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
    setUpTables(document);
  });
})();
