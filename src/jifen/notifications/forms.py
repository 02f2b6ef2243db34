"""The notification settings forms: the delivery mode and quiet hours; the grid of kinds ×
channels is read from the posted checkboxes (``grid_choices``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jifen.core.forms import StyledForm
from jifen.notifications.kinds import CHANNELS, DAILY, IMMEDIATE, WEEKLY, registered_kinds

MODE_CHOICES = [(IMMEDIATE, _("At once")), (DAILY, _("Daily digest")),
                (WEEKLY, _("Weekly digest"))]
WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")),
            (4, _("Friday")), (5, _("Saturday")), (6, _("Sunday"))]


class DeliveryForm(StyledForm, forms.Form):
    mode = forms.ChoiceField(label=_("E-mail and IM messages"), choices=MODE_CHOICES)
    digest_hour = forms.TypedChoiceField(
        label=_("Digest hour"), coerce=int, choices=[(h, f"{h:02d}:00") for h in range(24)])
    digest_weekday = forms.TypedChoiceField(label=_("Weekly digest on"), coerce=int,
                                            choices=WEEKDAYS)
    quiet_start = forms.TimeField(label=_("Quiet hours from"), required=False,
                                  widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_end = forms.TimeField(label=_("Quiet hours until"), required=False,
                                widget=forms.TimeInput(attrs={"type": "time"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("quiet_start")) != bool(data.get("quiet_end")):
            raise forms.ValidationError(_("Give both ends of the quiet hours, or neither."))
        return data


def grid_choices(post: Any) -> dict[str, dict[str, bool]]:
    """{kind: {channel: on}} for every registered kind, from checkboxes named
    ``<kind>:<channel>`` (a disabled checkbox — a mandatory in-app box, IM without a
    platform — posts nothing and is left as it is)."""
    shown = set(post.getlist("shown"))
    return {kind.name: {channel: f"{kind.name}:{channel}" in post for channel in CHANNELS
                        if f"{kind.name}:{channel}" in shown}
            for kind in registered_kinds()}
