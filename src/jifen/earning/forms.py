"""Web forms of earning. They only parse input into the plain data the services take."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jifen.earning import display
from jifen.earning.engine import builder
from jifen.earning.models import ApproverRole, CompanyValue, EventType, FeedbackStatus, Rule
from jifen.ledger.models import Category, ExpiryMode

_TEXT = {"class": "form-control"}
_SELECT = {"class": "form-select"}
_CHECK = {"class": "form-check-input"}


def _text(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={**_TEXT, **attrs})


def _number(**attrs: Any) -> forms.NumberInput:
    return forms.NumberInput(attrs={**_TEXT, **attrs})


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, widget=_text())
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={**_TEXT, "rows": 2}))
    event_type = forms.ModelChoiceField(label=_("Event type"), queryset=EventType.objects.none(),
                                        to_field_name="code",
                                        widget=forms.Select(attrs={**_SELECT,
                                                                   "data-testid": "event-type"}))
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices,
                                 widget=forms.Select(attrs=_SELECT))
    condition_rows = forms.CharField(required=False, widget=forms.HiddenInput(
        attrs={"data-builder-rows": ""}))
    advanced = forms.BooleanField(
        label=_("Write the condition in CEL (advanced)"), required=False,
        widget=forms.CheckboxInput(attrs={**_CHECK, "data-builder-advanced": ""}))
    condition = forms.CharField(
        label=_("Condition (CEL)"), required=False,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 3, "class": "form-control font-monospace",
                                     "placeholder": 'payload.minutes > 10 && '
                                                    'employee.department == "RD"'}),
        help_text=_("Over payload.<field> and employee.department, employee.department_path, "
                    "employee.position, employee.grade, employee.tenure_years. Empty: always."))
    formula_kind = forms.ChoiceField(
        label=_("Points"), widget=forms.Select(attrs=_SELECT),
        choices=[("fixed", _("Fixed points")), ("per_unit", _("Points per unit")),
                 ("table", _("Points by value")), ("range", _("Range settled by an approver"))])
    points = forms.IntegerField(label=_("Points (negative: penalty)"), required=False,
                                widget=_number())
    field = forms.CharField(label=_("Payload field"), required=False, max_length=60,
                            widget=_text(placeholder="days", list="rule-payload-fields"))
    table = forms.CharField(label=_("Points by value"), required=False,
                            widget=forms.Textarea(attrs={**_TEXT, "rows": 3,
                                                         "placeholder": "S=20\nA=10\nB=5"}),
                            help_text=_("One value=points per line."))
    min_points = forms.IntegerField(label=_("Minimum"), required=False, widget=_number())
    max_points = forms.IntegerField(label=_("Maximum"), required=False, widget=_number())
    cap_day = forms.IntegerField(label=_("Cap per day"), required=False, min_value=1,
                                 widget=_number())
    cap_week = forms.IntegerField(label=_("Cap per week"), required=False, min_value=1,
                                  widget=_number())
    cap_month = forms.IntegerField(label=_("Cap per month"), required=False, min_value=1,
                                   widget=_number())
    cap_year = forms.IntegerField(label=_("Cap per year"), required=False, min_value=1,
                                  widget=_number())
    requires_approval = forms.BooleanField(label=_("Requires approval"), required=False,
                                           widget=forms.CheckboxInput(attrs=_CHECK))
    # Only asked when approval is on (the services default to the manager).
    approver_role = forms.ChoiceField(label=_("Approver"), choices=ApproverRole.choices,
                                      required=False, widget=forms.Select(attrs=_SELECT))
    valid_from = forms.DateTimeField(label=_("Valid from"), required=False,
                                     widget=forms.DateTimeInput(
                                         attrs={**_TEXT, "type": "datetime-local"},
                                         format="%Y-%m-%dT%H:%M"))
    valid_until = forms.DateTimeField(label=_("Valid until"), required=False,
                                      widget=forms.DateTimeInput(
                                          attrs={**_TEXT, "type": "datetime-local"},
                                          format="%Y-%m-%dT%H:%M"))
    expiry_mode = forms.ChoiceField(
        label=_("Expiry"), required=False, widget=forms.Select(attrs=_SELECT),
        choices=[("", _("Site default")), *ExpiryMode.choices])
    expiry_months = forms.IntegerField(label=_("Months"), required=False, min_value=1,
                                       max_value=120, widget=_number())
    expiry_years_after = forms.IntegerField(label=_("Years after"), required=False,
                                            min_value=0, max_value=10, widget=_number())
    active = forms.BooleanField(label=pgettext_lazy("rule", "Active"), required=False,
                                initial=True,
                                widget=forms.CheckboxInput(attrs=_CHECK))
    reason = forms.CharField(label=_("Why this change"), required=False, max_length=500,
                             widget=_text())

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["event_type"].queryset = EventType.objects.filter(active=True)

    @classmethod
    def initial_for(cls, rule: Rule) -> dict[str, Any]:
        """The form's values for a rule: its draft when it has one, else the rule."""
        if rule.draft:
            values = dict(rule.draft["fields"])
        else:
            values = {
                "name": rule.name, "description": rule.description,
                "event_type": rule.event_type.code, "category": rule.category,
                "condition": rule.condition, "condition_rows": rule.condition_rows,
                "formula": rule.formula, "caps": rule.caps,
                "requires_approval": rule.requires_approval,
                "approver_role": rule.approver_role, "valid_from": rule.valid_from,
                "valid_until": rule.valid_until, "expiry": rule.expiry, "active": rule.active,
            }
        return cls.initial_from(values)

    @classmethod
    def initial_from(cls, values: dict[str, Any]) -> dict[str, Any]:
        formula = values["formula"]
        initial: dict[str, Any] = {
            "name": values["name"], "description": values.get("description", ""),
            "event_type": values["event_type"], "category": values["category"],
            "condition": values.get("condition", ""),
            "condition_rows": json.dumps(values["condition_rows"], ensure_ascii=False)
            if values.get("condition_rows") is not None else "",
            "advanced": bool(values.get("condition")) and values.get("condition_rows") is None,
            "formula_kind": formula["kind"],
            "points": formula.get("points") if formula["kind"] != "table" else None,
            "field": formula.get("field", ""),
            "table": "\n".join(f"{k}={v}" for k, v in formula["points"].items())
            if formula["kind"] == "table" else "",
            "min_points": formula.get("min"), "max_points": formula.get("max"),
            "requires_approval": values.get("requires_approval", False),
            "approver_role": values.get("approver_role"),
            "active": values.get("active", True),
        }
        for name in ("valid_from", "valid_until"):
            moment = values.get(name)
            if isinstance(moment, str):
                moment = parse_datetime(moment)
            initial[name] = timezone.localtime(moment) if moment else None
        for period, cap in (values.get("caps") or {}).items():
            initial[f"cap_{period}"] = cap
        if values.get("expiry"):
            initial["expiry_mode"] = values["expiry"]["mode"]
            initial["expiry_months"] = values["expiry"].get("months")
            initial["expiry_years_after"] = values["expiry"].get("years_after")
        return initial

    def clean_condition_rows(self) -> Any:
        text = (self.cleaned_data.get("condition_rows") or "").strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(_("The condition rows could not be read.")) from exc

    def rule_data(self) -> dict[str, Any]:
        """The cleaned form as the rule services take it (they check the rest)."""
        data = self.cleaned_data
        kind = data["formula_kind"]
        formula: dict[str, Any] = {"kind": kind}
        if kind in ("fixed", "per_unit"):
            formula["points"] = data.get("points")
        if kind in ("per_unit", "table"):
            formula["field"] = data.get("field") or ""
        if kind == "table":
            table: dict[str, Any] = {}
            for line in (data.get("table") or "").splitlines():
                if "=" in line:
                    key, _sep, value = line.partition("=")
                    try:
                        table[key.strip()] = int(value.strip())
                    except ValueError:
                        table[key.strip()] = value.strip()
            formula["points"] = table
        if kind == "range":
            formula["min"], formula["max"] = data.get("min_points"), data.get("max_points")
        caps = {p: data[f"cap_{p}"] for p in ("day", "week", "month", "year")
                if data.get(f"cap_{p}")}
        expiry = None
        if data.get("expiry_mode"):
            expiry = {"mode": data["expiry_mode"]}
            if data["expiry_mode"] == ExpiryMode.MONTHS:
                expiry["months"] = data.get("expiry_months") or 12
            if data["expiry_mode"] == ExpiryMode.YEAR_END:
                expiry["years_after"] = data.get("expiry_years_after") or 0
        return {
            "name": data["name"], "description": data.get("description") or "",
            "event_type": data["event_type"], "category": data["category"],
            **self.condition_data(), "formula": formula, "caps": caps,
            "requires_approval": data.get("requires_approval", False),
            "approver_role": data.get("approver_role") or ApproverRole.MANAGER,
            "valid_from": data.get("valid_from"),
            "valid_until": data.get("valid_until"), "expiry": expiry,
            "active": data.get("active", False),
        }


    def condition_data(self) -> dict[str, Any]:
        """Hand-written CEL in advanced mode; else the builder's rows (the services compile
        them)."""
        data = self.cleaned_data
        # A post without rows but with CEL (no script ran) is hand-written CEL too.
        if data.get("advanced") or (data.get("condition")
                                    and data.get("condition_rows") is None):
            return {"condition": data.get("condition") or "", "condition_rows": None}
        rows = data.get("condition_rows")
        return {"condition": "", "condition_rows": rows if rows is not None else {
            "join": "all", "rows": []}}


class SampleForm(forms.Form):
    """The editor's "try it on a sample event"."""

    sample_employee_no = forms.CharField(label=_("Employee number"), required=False,
                                         max_length=40, widget=_text())
    sample_payload = forms.CharField(
        label=_("More payload (JSON)"), required=False,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 3, "class": "form-control font-monospace",
                                     "placeholder": '{"minutes": 12}'}))

    def clean_sample_payload(self) -> dict[str, Any]:
        text = (self.cleaned_data.get("sample_payload") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(_("This is not valid JSON.")) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The payload must be a JSON object."))
        return value


SAMPLE_PREFIX = "sample__"


def sample_fields(event_type: EventType | None, data: Any, base: dict[str, Any]
                  ) -> tuple[dict[str, Any], list[str]]:
    """The sample event's payload from the fields generated from the event type's schema
    (``sample__<property>``, over ``base``, the JSON typed in advanced mode), and a problem
    per bad field, named by its title ("Hours: enter a number")."""
    payload = dict(base)
    problems: list[str] = []
    if event_type is None:
        return payload, problems
    labels = display.payload_labels(event_type)
    for field in builder.fields(event_type.schema):
        if not field.on_payload:
            continue
        raw = data.get(SAMPLE_PREFIX + field.name)
        if raw is None or str(raw).strip() == "":
            continue
        text = str(raw).strip()
        if field.type in ("number", "integer"):
            try:
                number = float(text)
            except ValueError:
                number = None
            if number is None or number != number or number in (float("inf"), float("-inf")):
                problems.append(_("%(field)s: enter a number") % {
                    "field": labels.field(field.name)})
                continue
            if number.is_integer():
                payload[field.name] = int(number)
            elif field.type == "integer":
                problems.append(_("%(field)s: enter a whole number") % {
                    "field": labels.field(field.name)})
            else:
                payload[field.name] = number
        elif field.type == "boolean":
            payload[field.name] = text in ("true", "1", "yes")
        elif field.type == "enum":
            match = [c for c in field.choices if str(c) == text]
            if not match:
                problems.append(_("%(field)s: choose one of the listed values") % {
                    "field": labels.field(field.name)})
                continue
            payload[field.name] = match[0]
        else:
            payload[field.name] = text
    return payload, problems


class EventTypeForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=60, widget=_text(placeholder="hackathon"))
    name = forms.CharField(label=_("Name"), max_length=100, widget=_text())
    description = forms.CharField(label=_("Description"), required=False, widget=_text())
    schema = forms.CharField(
        label=_("Payload schema (JSON Schema)"), required=False,
        initial='{"type": "object", "properties": {}, "required": []}',
        widget=forms.Textarea(attrs={**_TEXT, "rows": 5, "class": "form-control font-monospace"}))

    def clean_schema(self) -> dict[str, Any]:
        text = (self.cleaned_data.get("schema") or "").strip() or '{"type": "object"}'
        try:
            return json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(_("This is not valid JSON.")) from exc


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    points = forms.IntegerField(required=False)
    reason = forms.CharField(required=False, max_length=500)


class FeedbackForm(forms.Form):
    message = forms.CharField(label=_("Your feedback"), max_length=4000,
                              widget=forms.Textarea(attrs={**_TEXT, "rows": 2}))


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer"), max_length=4000,
                             widget=forms.Textarea(attrs={**_TEXT, "rows": 2}))
    status = forms.ChoiceField(label=_("Status"), widget=forms.Select(attrs=_SELECT),
                               choices=[c for c in FeedbackStatus.choices if c[0] != "open"])


class CompanyValueChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.label


class RecognitionForm(forms.Form):
    """Thank a colleague. ``recipient`` is what the person typed (a name, pinyin, initials
    or a number); the people picker fills ``recipient_no`` with the number of the one
    picked. ``mentions`` holds the numbers of colleagues picked after an "@"."""

    recipient = forms.CharField(
        label=_("Colleague"), max_length=100,
        help_text=_("Type a name, pinyin, initials (e.g. zw), department or employee number."),
        widget=_text(autocomplete="off"))
    recipient_no = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    points = forms.IntegerField(label=_("Points"), min_value=1, widget=_number())
    values = CompanyValueChoice(label=_("Company values"), required=False,
                                queryset=CompanyValue.objects.none(),
                                widget=forms.CheckboxSelectMultiple(attrs={"class": "btn-check"}))
    message = forms.CharField(
        label=_("Message"), max_length=500,
        help_text=_("Type @ and a few letters of a name to mention a colleague."),
        widget=forms.Textarea(attrs={**_TEXT, "rows": 3}))
    mentions = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["values"].queryset = CompanyValue.objects.filter(active=True)

    def mention_numbers(self) -> list[str]:
        return list(dict.fromkeys(self.cleaned_data.get("mentions", "").split()))[:10]


class CompanyValueForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, widget=_text())
    name_en = forms.CharField(label=_("Name in English"), max_length=60, required=False,
                              widget=_text())
    active = forms.BooleanField(label=_("In use"), required=False, initial=True,
                                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))


class ManagerAwardForm(forms.Form):
    recipient = forms.ChoiceField(label=_("Team member"), widget=forms.Select(attrs=_SELECT))
    points = forms.IntegerField(label=_("Points"), min_value=1, widget=_number())
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices,
                                 widget=forms.Select(attrs=_SELECT))
    message = forms.CharField(label=_("What it is for"), max_length=500, widget=_text())

    def __init__(self, *args: Any, members: Any = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].choices = [
            (m.employee_no, f"{m.name} ({m.employee_no}) · {m.department.name}")
            for m in members]


class BudgetForm(forms.Form):
    department = forms.CharField(label=_("Department code"), max_length=40, widget=_text())
    points = forms.IntegerField(label=_("Points"), min_value=1, widget=_number())
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices,
                                 widget=forms.Select(attrs=_SELECT))
    period = forms.RegexField(label=_("Period"), regex=r"^\d{4}-\d{2}$", required=False,
                              widget=_text(placeholder="2026-11"))


class SettingsForm(forms.Form):
    monthly_allowance = forms.IntegerField(label=_("Monthly giving allowance"), min_value=0,
                                           widget=_number())
