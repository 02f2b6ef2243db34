"""Forms of the ledger pages: history filters (portal and console) and manual adjustments."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jifen.ledger.amounts import MAX_POINTS, to_units
from jifen.ledger.models import AccountKind, Category, TransactionKind

_SELECT = {"class": "form-select"}
_INPUT = {"class": "form-control"}
_DATE = {"class": "form-control", "type": "date"}


def day_start(day) -> datetime:
    """The first moment of ``day`` in the site's zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


class _TransactionFilters(forms.Form):
    """What both transaction lists filter by: the kind and a range of days (both
    inclusive)."""

    kind = forms.ChoiceField(label=gettext_lazy("Type"), required=False,
                             choices=[("", gettext_lazy("All types")), *TransactionKind.choices],
                             widget=forms.Select(attrs=_SELECT))
    since = forms.DateField(label=gettext_lazy("From"), required=False,
                            widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"))
    until = forms.DateField(label=gettext_lazy("To"), required=False,
                            widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"))

    def date_range(self) -> dict[str, datetime | None]:
        data: dict[str, Any] = self.cleaned_data
        return {
            "since": day_start(data["since"]) if data.get("since") else None,
            "until": day_start(data["until"] + timedelta(days=1)) if data.get("until") else None,
        }


class HistoryFilterForm(_TransactionFilters):
    """An employee's own history: kind, category and dates."""

    field_order = ["kind", "category", "since", "until"]
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False,
                                 choices=[("", gettext_lazy("All categories")),
                                          *Category.choices],
                                 widget=forms.Select(attrs=_SELECT))

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.history`` (empty when the form is invalid)."""
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"kind": data["kind"] or None, "category": data["category"] or None,
                **self.date_range()}


class TransactionFilterForm(_TransactionFilters):
    """The console's transaction list: kind, an employee (number or name) and dates."""

    field_order = ["kind", "employee", "since", "until"]
    employee = forms.CharField(label=gettext_lazy("Employee"), required=False, max_length=80,
                               widget=forms.TextInput(attrs={
                                   **_INPUT, "placeholder": gettext_lazy("Number or name")}))

    def filters(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"kind": data["kind"] or None, "employee": data["employee"].strip() or None,
                **self.date_range()}


class AccountFilterForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False,
                             choices=[("", gettext_lazy("All kinds")), *AccountKind.choices],
                             widget=forms.Select(attrs=_SELECT))
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=80,
                        widget=forms.TextInput(attrs={
                            **_INPUT, "type": "search",
                            "placeholder": gettext_lazy("Code, employee number or name")}))


class AdjustForm(forms.Form):
    """A manual adjustment: signed amount in points (the site's decimals), a reason, and
    the idempotency key made when the form was first shown. It only parses: what the
    ledger refuses (a zero amount, a missing reason, one's own points) is decided by
    ``services.check_adjustment``, whose refusal the page shows on the field concerned."""

    employee = forms.CharField(widget=forms.HiddenInput, max_length=40)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"),
        help_text=gettext_lazy("Positive adds points, negative takes them away."),
        widget=forms.NumberInput(attrs={**_INPUT, "step": "any", "inputmode": "decimal",
                                        "placeholder": "+100 / -50"}))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500,
                             widget=forms.Textarea(attrs={**_INPUT, "rows": 3}))
    key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def clean_amount(self) -> int:
        value = self.cleaned_data["amount"]
        if abs(value) > MAX_POINTS:
            raise forms.ValidationError(_("The amount is too large."))
        try:
            return to_units(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
