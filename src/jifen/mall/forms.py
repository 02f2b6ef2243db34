"""Forms of the mall pages. They only parse input; services decide."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jifen.core.images import PictureField
from jifen.mall.models import (
    Campaign,
    Category,
    Fulfilment,
    Item,
    OrderStatus,
    RedemptionWindow,
    ShippingAddress,
)
from jifen.mall.selectors import category_tree
from jifen.people.models import Department

SORT_CHOICES = [
    ("popular", _("Most popular")),
    ("new", _("Newest")),
    ("points_asc", _("Points: low to high")),
    ("points_desc", _("Points: high to low")),
]


def _tree_choices(empty: Any = None) -> list[tuple[Any, str]]:
    choices = [("", empty)] if empty is not None else []
    return choices + [(c.pk, "— " * c.depth + c.name) for c in category_tree()]


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search gifts"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={
        "class": "form-control", "placeholder": _("Search gifts, e.g. headphones"),
        "type": "search", "data-testid": "mall-search"}))
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int,
                                      empty_value=None,
                                      widget=forms.Select(attrs={"class": "form-select"}))
    min_points = forms.IntegerField(label=_("Minimum points"), required=False, min_value=0,
                                    widget=forms.NumberInput(
        attrs={"class": "form-control", "placeholder": _("Min")}))
    max_points = forms.IntegerField(label=_("Maximum points"), required=False, min_value=0,
                                    widget=forms.NumberInput(
        attrs={"class": "form-control", "placeholder": _("Max")}))
    affordable = forms.BooleanField(required=False, label=_("I can afford it"),
                                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    in_stock = forms.BooleanField(required=False, label=_("In stock"),
                                  widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES,
                             widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _tree_choices(_("All categories"))


class RedeemForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=99, initial=1)
    address = forms.IntegerField(required=False)


class AddressForm(forms.ModelForm):
    class Meta:
        model = ShippingAddress
        fields = ["recipient", "phone", "region", "address", "is_default"]
        widgets = {
            "recipient": forms.TextInput(attrs={"class": "form-control"}),
            "phone": forms.TextInput(attrs={"class": "form-control", "inputmode": "tel"}),
            "region": forms.TextInput(attrs={"class": "form-control"}),
            "address": forms.TextInput(attrs={"class": "form-control"}),
            "is_default": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }


class DeskFilterForm(forms.Form):
    q = forms.CharField(label=_("Search orders"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={
        "class": "form-control", "type": "search",
        "placeholder": _("Order number, employee, item or tracking number")}))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *OrderStatus.choices],
                               widget=forms.Select(attrs={"class": "form-select"}))
    fulfilment = forms.ChoiceField(label=_("Fulfilment"), required=False, widget=forms.Select(
        attrs={"class": "form-select"}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["fulfilment"].choices = [("", _("Any fulfilment")), *Fulfilment.choices]

    # Set by the desk's "supplier failed" link, not shown as a field.
    supplier_failed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=300, label=_("Reason for rejecting"),
                             widget=forms.TextInput(attrs={
                                 "class": "form-control", "data-testid": "reject-reason",
                                 "placeholder": _("Why it is rejected")}))

    def __init__(self, *args: Any, **kwargs: Any):
        # Its own ids: the cancel form on the same page has a "reason" too.
        kwargs.setdefault("auto_id", "id_reject_%s")
        super().__init__(*args, **kwargs)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False,
                             label=_("Reason for cancelling (optional)"),
                             widget=forms.TextInput(attrs={
                                 "class": "form-control", "data-testid": "cancel-reason",
                                 "placeholder": _("Why it is cancelled")}))

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "id_cancel_%s")
        super().__init__(*args, **kwargs)


class ShipForm(forms.Form):
    carrier = forms.CharField(max_length=60, label=_("Carrier"), widget=forms.TextInput(
        attrs={"class": "form-control", "list": "carriers"}))
    tracking_no = forms.CharField(max_length=60, label=_("Tracking number"),
                                  widget=forms.TextInput(attrs={"class": "form-control"}))


_TEXT = {"class": "form-control"}
_SELECT = {"class": "form-select"}
_CHECK = {"class": "form-check-input"}


def _at_least(field: forms.Field, minimum: int, message: Any) -> None:
    """Refuse a value below ``minimum`` on the field itself, with ``message`` — rather than
    letting it reach the database's CHECK constraint, whose refusal names the constraint
    and marks no field. The browser's number input gets the same ``min``."""
    field.min_value = minimum
    # In place of the model field's own bound (a positive integer's generic ">= 0").
    field.validators = [v for v in field.validators if not isinstance(v, MinValueValidator)]
    field.validators.append(MinValueValidator(minimum, message=message))
    field.widget.attrs["min"] = minimum


class _MarksInvalidFields(forms.BaseForm):
    """Adds Bootstrap's ``is-invalid`` to the inputs of fields that have errors, so the
    field that is wrong is outlined, not only described under it."""

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            field = self.fields.get(name)
            if field is not None:
                classes = field.widget.attrs.get("class", "")
                if "is-invalid" not in classes.split():
                    field.widget.attrs["class"] = f"{classes} is-invalid".strip()


class ItemForm(_MarksInvalidFields, forms.ModelForm):
    category = forms.ModelChoiceField(queryset=Category.objects.all(), label=_("Category"),
                                      widget=forms.Select(attrs=_SELECT))
    eligible_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.all(), required=False, label=_("Only these departments"),
        widget=forms.SelectMultiple(attrs={**_SELECT, "size": 4}),
        help_text=_("Empty means everyone; a department includes its sub-departments."))
    unlimited = forms.BooleanField(required=False, label=_("Unlimited stock"),
                                   widget=forms.CheckboxInput(attrs=_CHECK))

    class Meta:
        model = Item
        fields = ["name", "category", "points", "market_value", "description", "unlimited",
                  "stock", "low_stock_threshold", "per_employee_limit", "limit_period",
                  "eligible_departments", "eligible_grades", "min_tenure_years", "fulfilment",
                  "status", "supplier", "tags", "auto_approve"]
        widgets = {
            "name": forms.TextInput(attrs=_TEXT),
            "points": forms.NumberInput(attrs=_TEXT),
            "market_value": forms.NumberInput(attrs={**_TEXT, "step": "0.01"}),
            "description": forms.Textarea(attrs={**_TEXT, "rows": 4}),
            "stock": forms.NumberInput(attrs=_TEXT),
            "low_stock_threshold": forms.NumberInput(attrs=_TEXT),
            "per_employee_limit": forms.NumberInput(attrs=_TEXT),
            "limit_period": forms.Select(attrs=_SELECT),
            "eligible_grades": forms.TextInput(attrs=_TEXT),
            "min_tenure_years": forms.NumberInput(attrs=_TEXT),
            "fulfilment": forms.Select(attrs=_SELECT),
            "status": forms.Select(attrs=_SELECT),
            "supplier": forms.TextInput(attrs=_TEXT),
            "tags": forms.TextInput(attrs=_TEXT),
            "auto_approve": forms.CheckboxInput(attrs=_CHECK),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _tree_choices("---------")
        if self.instance.pk and self.instance.stock is None:
            self.initial["unlimited"] = True
        _at_least(self.fields["points"], 1,
                  _("The points price must be at least %(limit_value)s."))
        _at_least(self.fields["stock"], 0,
                  _("Stock cannot be negative: enter 0 or more, or tick unlimited stock."))
        _at_least(self.fields["market_value"], 0, _("The market value cannot be negative."))
        _at_least(self.fields["low_stock_threshold"], 0,
                  _("The low-stock threshold cannot be negative."))
        _at_least(self.fields["per_employee_limit"], 1,
                  _("The limit per employee must be at least 1; leave it empty for no "
                    "limit."))
        _at_least(self.fields["min_tenure_years"], 0,
                  _("The minimum tenure cannot be negative."))

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.pop("unlimited", False):
            data["stock"] = None
        elif data.get("stock") is None:
            data["stock"] = 0
        data["eligible_departments"] = list(data.get("eligible_departments") or [])
        return data


class ImageForm(forms.Form):
    image = PictureField(label=_("Picture"), widget=forms.ClearableFileInput(
        attrs={"class": "form-control", "accept": "image/*"}))


class RestockForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, label=_("Add to stock"), widget=forms.NumberInput(
        attrs=_TEXT))


class CategoryForm(forms.ModelForm):
    parent = forms.ModelChoiceField(queryset=Category.objects.all(), required=False,
                                    label=_("Parent category"), widget=forms.Select(
                                        attrs=_SELECT))
    window = forms.ModelChoiceField(queryset=RedemptionWindow.objects.all(), required=False,
                                    label=_("Redemption window"),
                                    widget=forms.Select(attrs=_SELECT),
                                    help_text=_("Empty: the mall's window."))

    class Meta:
        model = Category
        fields = ["name", "parent", "kind", "icon", "sort_order", "window"]
        widgets = {
            "name": forms.TextInput(attrs=_TEXT),
            "kind": forms.Select(attrs=_SELECT),
            "icon": forms.Select(attrs=_SELECT),
            "sort_order": forms.NumberInput(attrs=_TEXT),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = _tree_choices("---------")


class WindowForm(forms.ModelForm):
    periods = forms.CharField(
        required=False, label=_("Periods"), widget=forms.Textarea(attrs={**_TEXT, "rows": 3}),
        help_text=_("One per line: 2026-12-20 09:00 ~ 2027-01-05 18:00"))

    class Meta:
        model = RedemptionWindow
        fields = ["name", "mode", "day_from", "day_to", "is_default"]
        widgets = {
            "name": forms.TextInput(attrs=_TEXT),
            "mode": forms.Select(attrs=_SELECT),
            "day_from": forms.NumberInput(attrs=_TEXT),
            "day_to": forms.NumberInput(attrs=_TEXT),
            "is_default": forms.CheckboxInput(attrs=_CHECK),
        }

    def clean_periods(self) -> list[tuple[datetime, datetime]]:
        result = []
        for line in (self.cleaned_data.get("periods") or "").splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace("～", "~").split("~")]
            try:
                start, end = (timezone.make_aware(datetime.fromisoformat(p)) for p in parts)
            except ValueError as exc:
                raise forms.ValidationError(
                    _("Write each period like 2026-12-20 09:00 ~ 2027-01-05 18:00.")) from exc
            result.append((start, end))
        return result


class CampaignForm(forms.ModelForm):
    items = forms.ModelMultipleChoiceField(queryset=Item.objects.order_by("name"),
                                           required=False, label=_("Items"),
                                           widget=forms.SelectMultiple(attrs={**_SELECT,
                                                                              "size": 6}))
    categories = forms.ModelMultipleChoiceField(queryset=Category.objects.all(), required=False,
                                                label=_("Categories"),
                                                widget=forms.SelectMultiple(attrs={**_SELECT,
                                                                                   "size": 4}))

    class Meta:
        model = Campaign
        fields = ["name", "kind", "value", "starts_at", "ends_at", "items", "categories",
                  "is_active"]
        widgets = {
            "name": forms.TextInput(attrs=_TEXT),
            "kind": forms.Select(attrs=_SELECT),
            "value": forms.NumberInput(attrs=_TEXT),
            "starts_at": forms.DateTimeInput(attrs={**_TEXT, "type": "datetime-local"},
                                             format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={**_TEXT, "type": "datetime-local"},
                                           format="%Y-%m-%dT%H:%M"),
            "is_active": forms.CheckboxInput(attrs=_CHECK),
        }
