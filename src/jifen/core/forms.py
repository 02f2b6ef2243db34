"""Forms of the core pages, and the mixin that gives every form Tabler's look."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jifen.core.audit_labels import action_label
from jifen.core.images import PictureField
from jifen.core.models import SiteSettings


class StyledForm:
    """Adds Tabler's CSS classes to widgets, and marks invalid fields after validation.
    Mix into a Form before ``forms.Form``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple
                          | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            elif widget.attrs.get("type") == "color":
                css = "form-control form-control-color"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        self.mark_invalid()

    def mark_invalid(self) -> None:
        for name in self.errors:  # type: ignore[attr-defined]
            if name in self.fields:  # type: ignore[attr-defined]
                widget = self.fields[name].widget  # type: ignore[attr-defined]
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()

    def add_service_errors(self, fields: dict[str, Any], rename: dict[str, str] | None = None,
                           ) -> None:
        """Show a service's ValidationError.details["fields"] on the matching fields
        (unknown names become form-wide errors)."""
        rename = rename or {}
        for name, messages in fields.items():
            name = rename.get(name, name)
            if isinstance(messages, str):
                messages = [messages]
            for message in messages:
                self.add_error(name if name in self.fields else None, message)  # type: ignore[attr-defined]
        self.mark_invalid()


class SiteSettingsForm(StyledForm, forms.Form):
    platform_name = forms.CharField(label=_("Platform name"), max_length=60)
    logo = PictureField(
        label=_("Logo"), required=False,
        help_text=_("A PNG or JPG image, shown in the header and on the login page."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the current logo"), required=False)
    primary_color = forms.RegexField(
        label=_("Primary colour"), regex=r"^#[0-9a-fA-F]{6}$",
        widget=forms.TextInput(attrs={"type": "color"}),
        error_messages={"invalid": _("Use a colour like #1e88e5.")},
    )
    contact = forms.CharField(
        label=_("Contact"), max_length=200, required=False,
        help_text=_("Who employees ask about points, e.g. 'HR · Ms Li · ext. 8021'."),
    )
    point_unit_zh = forms.CharField(label=_("Point unit (Chinese)"), max_length=10)
    point_unit_en = forms.CharField(label=_("Point unit (English)"), max_length=20)
    decimals = forms.TypedChoiceField(
        label=_("Decimals"), coerce=int, choices=[(0, "0"), (1, "1"), (2, "2")],
        help_text=_("Digits after the decimal point. Locked once any points exist."),
    )
    default_language = forms.ChoiceField(
        label=_("Default language"), choices=SiteSettings.Language.choices
    )

    def __init__(self, *args: Any, decimals_locked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decimals_locked = decimals_locked
        if decimals_locked:
            self.fields["decimals"].disabled = True
            self.fields["decimals"].help_text = _(
                "Locked: points have been issued, so every amount is already stored with "
                "this many decimals."
            )

    def changes(self, current: SiteSettings) -> dict[str, Any]:
        """The cleaned values that differ from ``current``, ready for the service."""
        data = self.cleaned_data
        changes: dict[str, Any] = {}
        for name in ("platform_name", "primary_color", "contact", "point_unit_zh",
                     "point_unit_en", "default_language"):
            if data[name] != getattr(current, name):
                changes[name] = data[name]
        if not self.decimals_locked and data["decimals"] != current.decimals:
            changes["decimals"] = data["decimals"]
        if data.get("logo"):
            changes["logo"] = data["logo"]
        elif data.get("remove_logo") and current.logo:
            changes["logo"] = ""
        return changes


class AuditFilterForm(StyledForm, forms.Form):
    q = forms.CharField(label=_("Search"), required=False,
                        widget=forms.TextInput(attrs={"placeholder": _("Object, ID or actor")}))
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Actor"), required=False)
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, actions: list[str] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        labelled = sorted(((a, action_label(a)) for a in actions), key=lambda c: c[1])
        self.fields["action"].choices = [("", _("All actions")), *labelled]
