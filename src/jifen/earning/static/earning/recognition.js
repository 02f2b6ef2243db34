// The recognition page: a people picker for the colleague to thank and "@" suggestions in
// the message. Both ask the page's search URL (JSON: {items: [{employee_no, name,
// department, avatar: {initials, colour}}]}) and show a WAI-ARIA listbox; every text from the
// server goes in with textContent, never as HTML. Without this script the form still works:
// the server resolves a typed name, pinyin or number.
(function () {
  "use strict";

  var DELAY = 150;

  // One listbox of people under a field: search(q), keyboard moves, pick(person).
  function Suggestions(root, field, list, onPick) {
    var self = this, timer = null, asked = 0, active = -1, people = [];
    var status = root.querySelector("[data-picker-status]");
    var url = root.getAttribute("data-search-url");

    function setActive(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && options[index]) {
        field.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        field.removeAttribute("aria-activedescendant");
      }
    }

    function render(items) {
      people = items;
      list.textContent = "";
      items.forEach(function (person, i) {
        var option = document.createElement("li");
        option.id = list.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.className = "list-group-item list-group-item-action d-flex align-items-center gap-2";
        option.dataset.employeeNo = person.employee_no;
        var avatar = document.createElement("span");
        avatar.className = "avatar avatar-sm jf-av-" + person.avatar.colour;
        avatar.setAttribute("aria-hidden", "true");
        avatar.textContent = person.avatar.initials;
        var text = document.createElement("span");
        text.className = "min-w-0";
        var name = document.createElement("strong");
        name.textContent = person.name;
        var dept = document.createElement("span");
        dept.className = "small text-secondary ms-1";
        dept.textContent = person.department + " · " + person.employee_no;
        text.appendChild(name);
        text.appendChild(dept);
        option.appendChild(avatar);
        option.appendChild(text);
        // mousedown keeps the focus in the field; click picks.
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { self.pick(i); });
        list.appendChild(option);
      });
      var open = items.length > 0;
      list.classList.toggle("d-none", !open);
      if (field.getAttribute("role") === "combobox") field.setAttribute("aria-expanded", open ? "true" : "false");
      setActive(open ? 0 : -1);
      if (status) {
        status.textContent = items.length ? items.length + " " + (root.getAttribute("data-found-label") || "")
          : (root.getAttribute("data-none-label") || "");
      }
    }

    this.isOpen = function () { return !list.classList.contains("d-none"); };
    this.close = function () { window.clearTimeout(timer); asked += 1; render([]); if (status) status.textContent = ""; };
    this.search = function (query) {
      window.clearTimeout(timer);
      if (!query) { self.close(); return; }
      timer = window.setTimeout(function () {
        var mine = ++asked;
        fetch(url + "?q=" + encodeURIComponent(query), {
          credentials: "same-origin", headers: { Accept: "application/json" },
        }).then(function (response) { return response.ok ? response.json() : { items: [] }; })
          .then(function (data) { if (mine === asked) render(data.items || []); })
          .catch(function () { if (mine === asked) render([]); });
      }, DELAY);
    };
    this.pick = function (index) {
      var person = people[index];
      if (!person) return;
      self.close();
      onPick(person);
    };
    // Arrow keys move, Enter picks, Escape closes; true when the key was ours.
    this.key = function (event) {
      if (!self.isOpen()) return false;
      var count = people.length;
      if (event.key === "ArrowDown") setActive((active + 1) % count);
      else if (event.key === "ArrowUp") setActive((active - 1 + count) % count);
      else if (event.key === "Enter" || event.key === "Tab") {
        if (active < 0 || event.key === "Tab" && event.shiftKey) return false;
        self.pick(active);
      } else if (event.key === "Escape") self.close();
      else return false;
      event.preventDefault();
      return true;
    };
    field.addEventListener("blur", function () { window.setTimeout(self.close, 150); });
  }

  function setUpPeoplePicker(root) {
    var input = root.querySelector("input[name=recipient]");
    var hidden = root.querySelector("input[name=recipient_no]");
    var list = root.querySelector("[role=listbox]");
    var picked = root.querySelector("[data-picked]");
    if (!input || !hidden || !list) return;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    var suggestions = new Suggestions(root, input, list, function (person) {
      hidden.value = person.employee_no;
      input.value = person.name;
      var avatar = picked.querySelector("[data-picked-avatar]");
      avatar.className = "avatar avatar-sm jf-av-" + person.avatar.colour;
      avatar.textContent = person.avatar.initials;
      picked.querySelector("[data-picked-name]").textContent = person.name;
      picked.querySelector("[data-picked-dept]").textContent = person.department + " · " + person.employee_no;
      picked.classList.remove("d-none");
      input.classList.add("d-none");
      picked.querySelector("[data-picked-clear]").focus();
    });
    input.addEventListener("input", function () {
      hidden.value = "";
      suggestions.search(input.value.trim());
    });
    input.addEventListener("keydown", function (event) { suggestions.key(event); });
    picked.querySelector("[data-picked-clear]").addEventListener("click", function () {
      hidden.value = "";
      picked.classList.add("d-none");
      input.classList.remove("d-none");
      input.focus();
      input.select();
    });
  }

  function setUpMentions(root) {
    var area = root.querySelector("textarea[name=message]");
    var hidden = root.querySelector("input[name=mentions]");
    var list = root.querySelector("[role=listbox]");
    if (!area || !hidden || !list) return;
    area.setAttribute("aria-controls", list.id);
    var chosen = (hidden.value || "").split(/\s+/).filter(Boolean);
    var typed = null;  // {start, end} of the "@query" being typed

    function current() {
      var before = area.value.slice(0, area.selectionStart);
      var match = /@([^\s@]{1,20})$/.exec(before);
      if (!match) return null;
      return { start: before.length - match[0].length, end: before.length, query: match[1] };
    }
    var suggestions = new Suggestions(root, area, list, function (person) {
      if (!typed) return;
      var insert = "@" + person.name + " ";
      area.value = area.value.slice(0, typed.start) + insert + area.value.slice(typed.end);
      var caret = typed.start + insert.length;
      area.setSelectionRange(caret, caret);
      if (chosen.indexOf(person.employee_no) < 0) chosen.push(person.employee_no);
      hidden.value = chosen.join(" ");
      typed = null;
      area.focus();
    });
    function look() {
      typed = current();
      if (typed) suggestions.search(typed.query);
      else suggestions.close();
    }
    area.addEventListener("input", look);
    area.addEventListener("click", look);
    area.addEventListener("keydown", function (event) { suggestions.key(event); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-people-picker]").forEach(setUpPeoplePicker);
    document.querySelectorAll("[data-mention-picker]").forEach(setUpMentions);
  });
})();
