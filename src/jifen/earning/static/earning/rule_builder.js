// The rule editor's builder (Alpine, CSP build): the condition as rows of field → operator →
// value, joined by all/any, kept as JSON in the hidden condition_rows input (the server
// compiles it to CEL and shows it read-only); only the fields the chosen formula needs;
// the sample event as fields generated from the event type's schema.
//
// This file loads after Alpine has started, so the form carries no x-data in the page: it
// is made a ruleBuilder component here, once the component is registered.
(function () {
  "use strict";

  var nextId = 1;

  function text(value) {
    if (value === null || value === undefined) return "";
    if (Array.isArray(value)) return value.map(text).join(", ");
    return String(value);
  }

  function factory() {
    return {
      data: { types: {} },
      rows: [],
      join: "all",
      type: "",
      kind: "",
      approval: false,
      advanced: false,
      expiryMode: "",

      init: function () {
        var form = this.$root;
        var source = document.getElementById("rule-builder-data");
        this.data = source ? JSON.parse(source.textContent) : { types: {} };
        this.type = form.elements.event_type.value;
        this.kind = form.elements.formula_kind.value;
        this.approval = form.elements.requires_approval.checked;
        this.advanced = form.elements.advanced.checked;
        this.expiryMode = form.elements.expiry_mode.value;
        var stored = null;
        try {
          stored = JSON.parse(form.elements.condition_rows.value || "null");
        } catch (error) {
          stored = null;
        }
        if (stored && typeof stored === "object") {
          this.join = stored.join === "any" ? "any" : "all";
          var self = this;
          this.rows = (stored.rows || []).map(function (row) {
            return self.makeRow(row.field, row.op, text(row.value));
          });
        }
        this.save(false);
      },

      // --- what the page shows -------------------------------------------------------
      get fields() {
        var found = this.data.types[this.type];
        return found ? found.fields : [];
      },
      get builderOn() { return !this.advanced; },
      get advancedOn() { return this.advanced; },
      get joinAll() { return this.join === "all"; },
      get joinAny() { return this.join === "any"; },
      get noRows() { return this.rows.length === 0; },
      get showPoints() { return this.kind === "fixed" || this.kind === "per_unit"; },
      get showField() { return this.kind === "per_unit" || this.kind === "table"; },
      get showTable() { return this.kind === "table"; },
      get showRange() { return this.kind === "range"; },
      get showApprover() { return this.approval || this.kind === "range"; },
      get showExpiryMonths() { return this.expiryMode === "months"; },
      get showExpiryYears() { return this.expiryMode === "year_end"; },
      get sampleFields() {
        return this.fields.filter(function (f) { return f.payload; }).map(function (f) {
          var options = f.choices.map(function (c) {
            return { value: String(c.value), label: c.label };
          });
          return {
            name: f.name, label: f.label, id: "id_sample__" + f.name,
            inputName: "sample__" + f.name, options: options,
            usesSelect: options.length > 0, usesInput: options.length === 0,
            inputMode: f.type === "number" || f.type === "integer" ? "decimal" : "text"
          };
        });
      },

      field: function (key) {
        var found = this.fields.filter(function (f) { return f.key === key; });
        return found.length ? found[0] : null;
      },

      // A row with everything its selects and input need, worked out once per change
      // (the CSP build evaluates no comparisons in the page).
      makeRow: function (key, op, value) {
        var field = this.field(key) || this.fields[0] || null;
        var ops = field ? field.operators : [];
        if (!ops.some(function (o) { return o.value === op; })) op = ops.length ? ops[0].value : "";
        var id = nextId++;
        var choices = field && op !== "in" && op !== "set" ? field.choices : [];
        if (choices.length && !choices.some(function (c) { return String(c.value) === value; })) {
          value = String(choices[0].value);
        }
        var numeric = field && (field.type === "number" || field.type === "integer");
        return {
          id: id, field: field ? field.key : "", op: op, value: value || "",
          fieldId: "row-field-" + id, opId: "row-op-" + id, valueId: "row-value-" + id,
          fieldOptions: this.fields.map(function (f) {
            return { value: f.key, label: f.label, selected: field !== null && f.key === field.key };
          }),
          opOptions: ops.map(function (o) {
            return { value: o.value, label: o.label, selected: o.value === op };
          }),
          choiceOptions: choices.map(function (c) {
            return { value: String(c.value), label: c.label, selected: String(c.value) === value };
          }),
          usesSelect: op !== "set" && choices.length > 0,
          usesInput: op !== "set" && choices.length === 0,
          noValue: op === "set",
          inputMode: numeric && op !== "in" ? "decimal" : "text",
          placeholder: op === "in" ? "A, B, C" : ""
        };
      },

      rowIndex: function (event) {
        var id = Number(event.currentTarget.getAttribute("data-row"));
        for (var i = 0; i < this.rows.length; i++) if (this.rows[i].id === id) return i;
        return -1;
      },

      // The rows as the server takes them, in the hidden input; then the compiled CEL is
      // asked for again (htmx listens for builder-change).
      save: function (announce) {
        var form = this.$root;
        form.elements.condition_rows.value = JSON.stringify({
          join: this.join,
          rows: this.rows.filter(function (r) { return r.field; }).map(function (r) {
            var row = { field: r.field, op: r.op };
            if (r.op !== "set") row.value = r.value;
            return row;
          })
        });
        if (announce !== false) form.dispatchEvent(new CustomEvent("builder-change", { bubbles: true }));
      },

      // --- what the page does ----------------------------------------------------------
      onChange: function (event) {
        var target = event.target;
        if (target.name === "event_type") {
          this.type = target.value;
          var self = this;
          this.rows = this.rows.filter(function (r) { return self.field(r.field); })
            .map(function (r) { return self.makeRow(r.field, r.op, r.value); });
          this.save();
        } else if (target.name === "formula_kind") {
          this.kind = target.value;
        } else if (target.name === "requires_approval") {
          this.approval = target.checked;
        } else if (target.name === "advanced") {
          this.advanced = target.checked;
        } else if (target.name === "expiry_mode") {
          this.expiryMode = target.value;
        }
      },
      setJoin: function (event) {
        this.join = event.target.value === "any" ? "any" : "all";
        this.save();
      },
      setField: function (event) {
        var i = this.rowIndex(event);
        if (i < 0) return;
        this.rows.splice(i, 1, this.makeRow(event.currentTarget.value, this.rows[i].op, ""));
        this.save();
      },
      setOp: function (event) {
        var i = this.rowIndex(event);
        if (i < 0) return;
        var row = this.rows[i];
        this.rows.splice(i, 1, this.makeRow(row.field, event.currentTarget.value, row.value));
        this.save();
      },
      setValue: function (event) {
        var i = this.rowIndex(event);
        if (i < 0) return;
        this.rows[i].value = event.currentTarget.value;
        this.save();
      },
      addRow: function () {
        if (!this.fields.length) return;
        var first = this.fields[0];
        this.rows.push(this.makeRow(first.key, first.operators[0].value, ""));
        this.save();
      },
      removeRow: function (event) {
        var i = this.rowIndex(event);
        if (i < 0) return;
        this.rows.splice(i, 1);
        this.save();
      }
    };
  }

  function start() {
    var Alpine = window.Alpine;
    Alpine.data("ruleBuilder", factory);
    document.querySelectorAll("form[data-rule-builder]").forEach(function (form) {
      if (form._x_dataStack) return;
      // Unobserved, so Alpine's mutation observer does not start it a second time.
      Alpine.mutateDom(function () {
        form.setAttribute("x-data", "ruleBuilder");
        form.setAttribute("x-on:change", "onChange");
      });
      Alpine.initTree(form);
    });
  }

  if (window.Alpine) start();
  else document.addEventListener("alpine:initialized", start);
})();
