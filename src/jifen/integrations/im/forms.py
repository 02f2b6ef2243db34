"""Forms of the IM console pages. Secrets are never put back into a form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from jifen.core.forms import StyledForm
from jifen.integrations.models import ImPlatform, ImUserIdSource
from jifen.notifications.kinds import registered_kinds


class RobotForm(StyledForm, forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=ImPlatform.choices)
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("The group it posts to, e.g. the mall team's group."))
    webhook_url = forms.URLField(label=_("Webhook URL"), max_length=500, assume_scheme="https",
                                 help_text=_("Copied from the robot's settings in the group."))
    secret = forms.CharField(
        label=_("Signing secret"), max_length=200, required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("DingTalk (SEC…) or Feishu, when signing is on. Stored, never shown "
                    "again; leave empty to keep the current one."))
    rate_per_minute = forms.IntegerField(
        label=_("Messages per minute"), min_value=1, max_value=1000, required=False,
        help_text=_("Empty: the platform's limit (WeCom 20, DingTalk 20, Feishu 100). "
                    "Messages beyond it wait, none is dropped."))
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args: object, editing: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if editing:
            self.fields["platform"].disabled = True
            self.fields["platform"].required = False
            self.fields["remove_secret"] = forms.BooleanField(
                label=_("Remove the signing secret"), required=False)
            self.fields["remove_secret"].widget.attrs["class"] = "form-check-input"


class RouteForm(StyledForm, forms.Form):
    kind = forms.ChoiceField(label=_("Notification"))
    robot = forms.TypedChoiceField(label=_("Robot"), coerce=int)
    department = forms.TypedChoiceField(
        label=_("Only about employees of"), coerce=int, required=False, empty_value=None,
        help_text=_("E.g. recognition to the team's own group; empty: everyone."))

    def __init__(self, *args: object, robots: list, departments: list,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["kind"].choices = [(k.name, f"{k.label} ({k.name})")
                                       for k in registered_kinds()]
        self.fields["robot"].choices = [(r.pk, str(r)) for r in robots]
        self.fields["department"].choices = [("", _("Everyone"))] + [
            (d.pk, d.name) for d in departments]


class AppForm(StyledForm, forms.Form):
    client_id = forms.CharField(label=_("Corp ID or app key"), max_length=100)
    agent_id = forms.RegexField(label=_("Agent ID"), regex=r"^\d{1,20}$", max_length=20)
    secret = forms.CharField(
        label=_("Secret"), max_length=200, required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stored, never shown again; leave empty to keep the current one."))
    user_id_source = forms.ChoiceField(label=_("IM user IDs from"),
                                       choices=ImUserIdSource.choices)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
