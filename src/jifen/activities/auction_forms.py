"""The console's auction form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from jifen.activities.models import Auction
from jifen.people.models import Department

_TEXT = {"class": "form-control"}
_SELECT = {"class": "form-select"}
_WHEN = forms.DateTimeInput(attrs={**_TEXT, "type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class AuctionForm(forms.ModelForm):
    item = forms.ModelChoiceField(queryset=None, label=_("Item"),  # type: ignore[arg-type]
                                  widget=forms.Select(attrs=_SELECT),
                                  help_text=_("One of it is set aside for the winner when the "
                                              "auction is published."))
    eligible_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.all(), required=False, label=_("Only these departments"),
        widget=forms.SelectMultiple(attrs={**_SELECT, "size": 4}),
        help_text=_("Empty means everyone; a department includes its sub-departments."))
    starts_at = forms.DateTimeField(label=_("opens at"), widget=_WHEN,
                                    input_formats=_INPUT_FORMATS)
    ends_at = forms.DateTimeField(label=_("closes at"), widget=_WHEN,
                                  input_formats=_INPUT_FORMATS)
    latest_end = forms.DateTimeField(label=_("latest end"), widget=_WHEN, required=False,
                                     input_formats=_INPUT_FORMATS,
                                     help_text=_("Anti-sniping never moves the close past "
                                                 "this; empty means no limit."))

    class Meta:
        model = Auction
        fields = ["title", "item", "description", "starting_price", "min_increment",
                  "reserve_price", "starts_at", "ends_at", "extend_minutes", "latest_end",
                  "min_balance", "eligible_grades", "min_tenure_days", "eligible_departments"]
        widgets = {
            "title": forms.TextInput(attrs=_TEXT),
            "description": forms.Textarea(attrs={**_TEXT, "rows": 3}),
            "starting_price": forms.NumberInput(attrs={**_TEXT, "min": 1}),
            "min_increment": forms.NumberInput(attrs={**_TEXT, "min": 1}),
            "reserve_price": forms.NumberInput(attrs={**_TEXT, "min": 1}),
            "extend_minutes": forms.NumberInput(attrs={**_TEXT, "min": 0}),
            "min_balance": forms.NumberInput(attrs={**_TEXT, "min": 0}),
            "eligible_grades": forms.TextInput(attrs=_TEXT),
            "min_tenure_days": forms.NumberInput(attrs={**_TEXT, "min": 0}),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        item_model = apps.get_model("mall", "Item")
        self.fields["item"].queryset = item_model.objects.exclude(status="delisted").order_by(
            "name")
        self.fields["item"].label_from_instance = lambda item: (
            f"{item.name} ({item.stock if item.stock is not None else '∞'})")

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        departments = list(data.pop("eligible_departments") or [])
        data["item_id"] = data.pop("item").pk
        data["description"] = data.get("description") or ""
        data["eligible_grades"] = data.get("eligible_grades") or ""
        for name in ("min_balance", "min_tenure_days", "extend_minutes"):
            data[name] = data.get(name) or 0
        data["departments"] = departments
        return data
