"""The console's lottery form: plain fields and rows of prize tiers, so HR writes no code."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jifen.activities.models import DrawMode, Lottery, PrizeKind
from jifen.people.models import Department

TIER_ROWS = 6
_TEXT = {"class": "form-control"}
_SELECT = {"class": "form-select"}
_WHEN = forms.DateTimeInput(attrs={**_TEXT, "type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class LotteryForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120,
                            widget=forms.TextInput(attrs=_TEXT))
    description = forms.CharField(label=_("Description"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={**_TEXT, "rows": 3}))
    mode = forms.ChoiceField(label=_("Draw mode"), choices=DrawMode.choices,
                             widget=forms.Select(attrs=_SELECT))
    starts_at = forms.DateTimeField(label=_("Opens at"), widget=_WHEN,
                                    input_formats=["%Y-%m-%dT%H:%M"])
    ends_at = forms.DateTimeField(label=_("Closes at"), widget=_WHEN,
                                  input_formats=["%Y-%m-%dT%H:%M"])
    draw_at = forms.DateTimeField(label=_("Draw at"), required=False, widget=_WHEN,
                                  input_formats=["%Y-%m-%dT%H:%M"],
                                  help_text=_("Empty: when entries close."))
    entry_cost = forms.IntegerField(label=_("Points per entry"), min_value=0, initial=0,
                                    widget=forms.NumberInput(attrs=_TEXT),
                                    help_text=_("0 means free to enter."))
    entry_limit = forms.IntegerField(label=_("Entries per employee"), min_value=1, initial=1,
                                     max_value=1000, widget=forms.NumberInput(attrs=_TEXT))
    entry_slots = forms.IntegerField(label=_("Entries in total"), min_value=1, required=False,
                                     widget=forms.NumberInput(attrs=_TEXT),
                                     help_text=_("Empty means no limit; an instant-win "
                                                 "lottery needs one."))
    min_balance = forms.IntegerField(label=_("Minimum balance"), min_value=0, initial=0,
                                     widget=forms.NumberInput(attrs=_TEXT))
    eligible_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.all(), required=False, label=_("Only these departments"),
        widget=forms.SelectMultiple(attrs={**_SELECT, "size": 4}),
        help_text=_("Empty means everyone; a department includes its sub-departments."))
    eligible_grades = forms.CharField(label=_("Only these grades"), required=False,
                                      max_length=200, widget=forms.TextInput(attrs=_TEXT))
    min_tenure_days = forms.IntegerField(label=_("Minimum tenure (days)"), min_value=0,
                                         initial=0, widget=forms.NumberInput(attrs=_TEXT))

    def __init__(self, *args: Any, lottery: Lottery | None = None, **kwargs: Any):
        if lottery is not None and "initial" not in kwargs:
            initial = {f: getattr(lottery, f) for f in (
                "title", "description", "mode", "entry_cost", "entry_limit", "entry_slots",
                "min_balance", "eligible_grades", "min_tenure_days")}
            for f in ("starts_at", "ends_at", "draw_at"):
                value = getattr(lottery, f)
                initial[f] = timezone.localtime(value) if value else None
            initial["eligible_departments"] = list(lottery.eligible_departments.all())
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)


class TierRow:
    """One row of the prize table as the template shows it."""

    def __init__(self, number: int, values: dict[str, Any]):
        self.number = number
        self.name = values.get("name", "")
        self.kind = values.get("kind", PrizeKind.POINTS)
        self.points = values.get("points") or ""
        self.item_id = values.get("item_id") or ""
        self.quantity = values.get("quantity") or ""


def tier_rows(values: list[dict[str, Any]]) -> list[TierRow]:
    rows = [TierRow(n, v) for n, v in enumerate(values, start=1)]
    rows += [TierRow(n, {}) for n in range(len(rows) + 1, max(TIER_ROWS, len(rows) + 2) + 1)]
    return rows


def tiers_from_post(data: Any) -> list[dict[str, Any]]:
    """The filled rows of the prize table, in order (empty rows left out)."""
    rows = []
    for n in range(1, 51):
        name = (data.get(f"tier_{n}_name") or "").strip()
        if not name:
            continue
        rows.append({"name": name, "kind": data.get(f"tier_{n}_kind") or PrizeKind.CUSTOM,
                     "points": (data.get(f"tier_{n}_points") or "").strip() or None,
                     "item_id": (data.get(f"tier_{n}_item") or "").strip() or None,
                     "quantity": (data.get(f"tier_{n}_quantity") or "").strip() or 1})
    return rows


def tiers_of(lottery: Lottery) -> list[dict[str, Any]]:
    return [{"name": t.name, "kind": t.kind, "points": t.points, "item_id": t.item_id,
             "quantity": t.quantity} for t in lottery.tiers.all()]
