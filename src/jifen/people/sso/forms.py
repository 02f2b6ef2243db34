from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from jifen.core.forms import StyledForm
from jifen.core.roles import Role
from jifen.people.sso.services import PASSWORD_ROLES

PROVIDER_KINDS = [
    ("openid_connect", _("OpenID Connect (Okta, Entra ID, Keycloak …)")),
    ("wecom", _("WeCom")),
    ("dingtalk", _("DingTalk")),
    ("feishu", _("Feishu")),
]
LINK_FIELD_CHOICES = [("employee_no", _("Employee number")), ("email", _("E-mail"))]


class PolicyForm(StyledForm, forms.Form):
    password_disabled_roles = forms.MultipleChoiceField(
        label=_("Roles that must sign in through single sign-on"), required=False,
        choices=[(r, Role(r).label) for r in PASSWORD_ROLES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Super admins keep password sign-in as the way in when a provider fails."))
    require_second_factor_for_admins = forms.BooleanField(
        label=_("Require a second factor for super admins and HR admins"), required=False)


class ProviderForm(StyledForm, forms.Form):
    provider = forms.ChoiceField(label=_("Kind"), choices=PROVIDER_KINDS)
    name = forms.CharField(label=_("Name on the sign-in button"), max_length=40)
    provider_id = forms.CharField(
        label=_("Id (OpenID Connect)"), max_length=40, required=False,
        help_text=_("Lower-case letters, digits and hyphens; part of the redirect address."))
    server_url = forms.CharField(label=_("Issuer address (OpenID Connect)"), max_length=500,
                                 required=False)
    client_id = forms.CharField(label=_("Client id (WeCom: corp id)"), max_length=191)
    secret = forms.CharField(label=_("Client secret"), max_length=191, required=False,
                             widget=forms.PasswordInput(render_value=False),
                             help_text=_("Leave empty to keep the stored secret."))
    key = forms.CharField(label=_("AgentId (WeCom)"), max_length=191, required=False)
    link_claim = forms.CharField(
        label=_("Claim that names the employee"), max_length=100, required=False,
        help_text=_("For example employee_no, email; WeCom: userid."))
    link_field = forms.ChoiceField(label=_("Matched against"), choices=LINK_FIELD_CHOICES)
