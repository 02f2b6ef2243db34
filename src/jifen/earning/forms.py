"""Web forms of earning. They only parse input into the plain data the services take."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
                                        widget=forms.Select(attrs=_SELECT))
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices,
                                 widget=forms.Select(attrs=_SELECT))
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
                            widget=_text(placeholder="days"))
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
    approver_role = forms.ChoiceField(label=_("Approver"), choices=ApproverRole.choices,
                                      widget=forms.Select(attrs=_SELECT))
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
    active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                widget=forms.CheckboxInput(attrs=_CHECK))
    reason = forms.CharField(label=_("Why this change"), required=False, max_length=500,
                             widget=_text())

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["event_type"].queryset = EventType.objects.filter(active=True)

    @classmethod
    def initial_for(cls, rule: Rule) -> dict[str, Any]:
        formula = rule.formula
        initial: dict[str, Any] = {
            "name": rule.name, "description": rule.description,
            "event_type": rule.event_type.code, "category": rule.category,
            "condition": rule.condition, "formula_kind": formula["kind"],
            "points": formula.get("points") if formula["kind"] != "table" else None,
            "field": formula.get("field", ""),
            "table": "\n".join(f"{k}={v}" for k, v in formula["points"].items())
            if formula["kind"] == "table" else "",
            "min_points": formula.get("min"), "max_points": formula.get("max"),
            "requires_approval": rule.requires_approval, "approver_role": rule.approver_role,
            "valid_from": timezone.localtime(rule.valid_from) if rule.valid_from else None,
            "valid_until": timezone.localtime(rule.valid_until) if rule.valid_until else None,
            "active": rule.active,
        }
        for period, cap in (rule.caps or {}).items():
            initial[f"cap_{period}"] = cap
        if rule.expiry:
            initial["expiry_mode"] = rule.expiry["mode"]
            initial["expiry_months"] = rule.expiry.get("months")
            initial["expiry_years_after"] = rule.expiry.get("years_after")
        return initial

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
            "condition": data.get("condition") or "", "formula": formula, "caps": caps,
            "requires_approval": data.get("requires_approval", False),
            "approver_role": data["approver_role"], "valid_from": data.get("valid_from"),
            "valid_until": data.get("valid_until"), "expiry": expiry,
            "active": data.get("active", False),
        }


class SampleForm(forms.Form):
    """The editor's "try it on a sample event"."""

    sample_employee_no = forms.CharField(label=_("Employee number"), required=False,
                                         max_length=40, widget=_text())
    sample_payload = forms.CharField(
        label=_("Payload (JSON)"), required=False,
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
