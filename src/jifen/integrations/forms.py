"""Forms of the API key pages."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from jifen.core.forms import StyledForm
from jifen.core.roles import SCOPES

SCOPE_HELP = {
    "employees:read": _("Read employees and departments"),
    "employees:write": _("Create and update employees and departments"),
    "events:write": _("Send earning events"),
    "ledger:read": _("Read balances and transactions"),
    "ledger:write": _("Adjust points"),
    "catalog:write": _("Manage mall items"),
    "orders:read": _("Read orders"),
    "orders:write": _("Move orders through fulfilment"),
    "reports:read": _("Read reports and payroll exports"),
    "scim": _("Provision employees and departments over SCIM 2.0"),
    "admin": _("Everything (use sparingly)"),
}


class ApiKeyForm(StyledForm, forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. HR system (Beisen)")}),
        help_text=_("Which system uses this key, so you know what breaks if you revoke it."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), widget=forms.CheckboxSelectMultiple,
        # Lazy, so each request shows the help in its own language.
        choices=[(s, format_lazy("{} — {}", s, SCOPE_HELP.get(s, ""))) for s in SCOPES],
        error_messages={"required": _("Choose at least one scope.")},
    )
    rate_limit = forms.IntegerField(
        label=_("Calls per minute"), required=False, min_value=1, max_value=100_000,
        help_text=_("Leave empty for the site's default; calls over it are answered 429."),
    )
