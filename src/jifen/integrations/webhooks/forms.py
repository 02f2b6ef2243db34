"""Forms of the webhook pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from jifen.core.forms import StyledForm
from jifen.integrations.webhooks import events


class EndpointForm(StyledForm, forms.Form):
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://hr.example.com/jifen-hooks"}),
        help_text=_("Your receiver. Each request is signed (Standard Webhooks); verify it "
                    "with the secret shown after saving."))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Events"), widget=forms.CheckboxSelectMultiple,
        choices=[(code, label) for code, label in events.EVENT_TYPES.items()],
        error_messages={"required": _("Choose at least one event.")})
