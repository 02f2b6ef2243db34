"""The sign-in policy: password sign-in turned off per role (super admins keep it), the
second factor on the API token, its throttle, and an admin's reset of a lost one."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jifen.core.models import AuditEntry
from jifen.core.roles import Role
from jifen.people.services import issue_access_token
from jifen.people.sso import selectors as sso_selectors
from jifen.people.sso import services as sso_services
from tests.conftest import login_client
from tests.factories import PASSWORD, EmployeeFactory
from tests.identity.helpers import enrol_totp, second_factors, totp_code

pytestmark = pytest.mark.django_db


def _token(username: str, password: str = PASSWORD, **body):
    return Client().post("/api/v1/auth/token",
                         data={"username": username, "password": password, **body},
                         content_type="application/json")


def api_client(user) -> Client:
    _, plain = issue_access_token(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


def _portal(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_a_role_set_to_single_sign_on_cannot_use_its_password(hr_admin, super_admin):
    sso_services.update_sign_in_policy(actor=super_admin.user,
                                       password_disabled_roles=[Role.HR_ADMIN])
    answer = _token(hr_admin.user.username)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "password_sign_in_disabled"
    page = _portal(Client(), hr_admin.user.username)
    assert page.status_code == 400
    assert "single sign-on" in page.content.decode() or "单点登录" in page.content.decode()
    # The break-glass path: a super admin keeps the password.
    assert _token(super_admin.user.username).status_code == 200
    # A wrong password still says only "wrong" (the policy tells a guesser nothing).
    wrong = _token(hr_admin.user.username, "not-the-password")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_credentials"


def test_turning_password_off_for_employees_leaves_other_roles_alone(employee, super_admin,
                                                                    make_role_employee):
    mall = make_role_employee(Role.MALL_ADMIN)
    sso_services.update_sign_in_policy(actor=super_admin.user,
                                       password_disabled_roles=[Role.EMPLOYEE])
    assert _token(employee.user.username).json()["error"]["code"] == "password_sign_in_disabled"
    # Every employee holds the employee role, so admins with it are covered too.
    assert _token(mall.user.username).status_code == 403
    assert _token(super_admin.user.username).status_code == 200


def test_super_admins_password_cannot_be_turned_off(super_admin):
    client = api_client(super_admin.user)
    answer = client.put("/api/v1/sign-in/policy",
                        data={"password_disabled_roles": ["super_admin"]},
                        content_type="application/json")
    assert answer.status_code == 422
    answer = client.put("/api/v1/sign-in/policy",
                        data={"password_disabled_roles": ["hr_admin"],
                              "require_second_factor_for_admins": True},
                        content_type="application/json")
    assert answer.status_code == 200
    assert answer.json() == {"password_disabled_roles": ["hr_admin"],
                             "require_second_factor_for_admins": True}
    entry = AuditEntry.objects.get(action="sso.policy.update")
    assert entry.after["password_disabled_roles"] == ["hr_admin"]


def test_only_super_admins_change_the_policy(hr_admin):
    answer = api_client(hr_admin.user).put(
        "/api/v1/sign-in/policy", data={"require_second_factor_for_admins": True},
        content_type="application/json")
    assert answer.status_code == 403
    assert login_client(hr_admin.user).get(reverse("console:sign_in_settings")).status_code == 403


def test_an_account_with_a_second_factor_sends_its_code_for_a_token(employee):
    secret, codes = enrol_totp(employee.user)
    answer = _token(employee.user.username)
    assert answer.status_code == 403
    assert answer.json()["error"] == {
        "code": "second_factor_required", "message": answer.json()["error"]["message"],
        "details": {"enrolled": True}}
    assert _token(employee.user.username, code="000000" if totp_code(secret) != "000000"
                  else "111111").status_code == 401
    assert _token(employee.user.username, code=totp_code(secret)).status_code == 200
    # A recovery code works once.
    assert _token(employee.user.username, code=codes[0]).status_code == 200
    assert _token(employee.user.username, code=codes[0]).status_code == 401


def test_a_burst_of_wrong_second_factor_codes_is_refused(employee, settings):
    secret, _ = enrol_totp(employee.user)
    right = totp_code(secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    answers = [_token(employee.user.username, code=wrong).status_code
               for _ in range(settings.LOGIN_THROTTLE_LIMIT)]
    assert answers == [401] * settings.LOGIN_THROTTLE_LIMIT
    # Now even the right code is refused until the window passes.
    refused = _token(employee.user.username, code=right)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"


def test_an_admin_the_policy_obliges_gets_no_token_before_enrolling(hr_admin, super_admin):
    sso_services.update_sign_in_policy(actor=super_admin.user,
                                       require_second_factor_for_admins=True)
    answer = _token(hr_admin.user.username)
    assert answer.status_code == 403
    assert answer.json()["error"]["details"] == {"enrolled": False}
    # Employees without an admin role are not obliged.
    assert _token(EmployeeFactory().user.username).status_code == 200


def test_the_policy_sends_an_admin_without_a_second_factor_to_enrol(hr_admin, super_admin):
    sso_services.update_sign_in_policy(actor=super_admin.user,
                                       require_second_factor_for_admins=True)
    client = Client()
    assert _portal(client, hr_admin.user.username).status_code == 302
    answer = client.get(reverse("console:dashboard"))
    assert answer.status_code == 302
    assert answer["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    # The API still answers (it refuses tokens instead), and so does signing out.
    assert client.post(reverse("logout")).status_code == 302


def test_web_sign_in_asks_for_the_second_factor(employee):
    secret, _ = enrol_totp(employee.user)
    client = Client()
    answer = _portal(client, employee.user.username)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("mfa_authenticate")
    # Not signed in yet.
    assert client.get(reverse("portal:home")).status_code == 302
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert done.status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200


def test_web_second_factor_guesses_are_throttled(employee, settings):
    secret, _ = enrol_totp(employee.user)
    client = Client()
    _portal(client, employee.user.username)
    right = totp_code(secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        client.post(reverse("mfa_authenticate"), {"code": wrong})
    page = client.post(reverse("mfa_authenticate"), {"code": right})
    assert page.status_code == 200  # the form again, not signed in
    assert client.get(reverse("portal:home")).status_code == 302


def test_an_admin_resets_a_lost_second_factor(employee, super_admin):
    enrol_totp(employee.user)
    assert second_factors(employee.user) == {"totp", "recovery_codes"}
    client = login_client(super_admin.user)
    answer = client.post(reverse("console:second_factor_reset", args=[employee.pk]))
    assert answer.status_code == 302
    assert second_factors(employee.user) == set()
    entry = AuditEntry.objects.get(action="mfa.reset")
    assert entry.object_id == str(employee.pk)
    assert entry.before == {"second_factors": ["recovery_codes", "totp"]}
    assert entry.actor_user_id == super_admin.user.pk if hasattr(entry, "actor_user_id") else True
    # The same through the API.
    client = api_client(super_admin.user)
    enrol_totp(employee.user)
    answer = client.post(f"/api/v1/employees/{employee.employee_no}/second-factor/reset")
    assert answer.json() == {"removed": 2}
    assert AuditEntry.objects.filter(action="mfa.reset").count() == 2
    # Not one's own, and not without the capability.
    own = client.post(f"/api/v1/employees/{super_admin.employee_no}/second-factor/reset")
    assert own.status_code == 403
    assert api_client(employee.user).post(
        f"/api/v1/employees/{super_admin.employee_no}/second-factor/reset").status_code == 403


def test_providers_are_managed_with_their_secret_never_shown(super_admin):
    client = api_client(super_admin.user)
    body = {"provider": "openid_connect", "provider_id": "okta", "name": "Okta",
            "server_url": "https://example.okta.com", "client_id": "abc",
            "secret": "s3cret-value-1234", "link_claim": "employee_no",
            "link_field": "employee_no"}
    created = client.post("/api/v1/sso/providers", data=body, content_type="application/json")
    assert created.status_code == 201
    assert created.json()["secret"] == "…1234"
    assert "s3cret" not in client.get("/api/v1/sso/providers").content.decode()
    pk = created.json()["id"]
    page = login_client(super_admin.user).get(reverse("console:sso_provider_edit", args=[pk]))
    assert "s3cret" not in page.content.decode()
    changed = client.put(f"/api/v1/sso/providers/{pk}", data={**body, "secret": None,
                                                               "name": "Okta SSO"},
                         content_type="application/json")
    assert changed.json()["secret"] == "…1234"
    assert changed.json()["name"] == "Okta SSO"
    bad = client.post("/api/v1/sso/providers",
                      data={**body, "provider_id": "kc", "server_url": "file:///etc/passwd"},
                      content_type="application/json")
    assert bad.status_code == 422
    duplicate = client.post("/api/v1/sso/providers", data=body, content_type="application/json")
    assert duplicate.status_code == 409
    assert client.delete("/api/v1/sso/providers/99999").json()["error"]["code"] == \
        "unknown_provider"
    assert client.delete(f"/api/v1/sso/providers/{pk}").status_code == 204
    actions = list(AuditEntry.objects.filter(action__startswith="sso.provider")
                   .values_list("action", flat=True).order_by("pk"))
    assert actions == ["sso.provider.create", "sso.provider.update", "sso.provider.delete"]
    assert all("s3cret" not in str(e.after) + str(e.before)
               for e in AuditEntry.objects.filter(action__startswith="sso"))


def test_the_sign_in_page_shows_a_button_per_provider_and_allows_its_form_action(super_admin):
    sso_services.save_provider(actor=super_admin.user, provider="openid_connect",
                               provider_id="keycloak", name="Keycloak",
                               server_url="https://id.example.com/realms/acme",
                               client_id="jifen", secret="x" * 20)
    sso_services.save_provider(actor=super_admin.user, provider="wecom", provider_id="",
                               name="企业微信", client_id="ww123", secret="y" * 20, key="1000002")
    page = Client().get(reverse("login"))
    html = page.content.decode()
    assert "Keycloak" in html and "企业微信" in html
    assert reverse("openid_connect_login", kwargs={"provider_id": "keycloak"}) in html
    assert reverse("wecom_login") in html
    csp = page["Content-Security-Policy"]
    form_action = next(p for p in csp.split(";") if "form-action" in p)
    assert "https://id.example.com" in form_action
    assert "https://open.weixin.qq.com" in form_action


def test_console_page_saves_the_policy_and_adds_a_provider(super_admin):
    client = login_client(super_admin.user)
    assert client.get(reverse("console:sign_in_settings")).status_code == 200
    answer = client.post(reverse("console:sign_in_settings"),
                         {"password_disabled_roles": ["employee", "hr_admin"]})
    assert answer.status_code == 302
    assert sso_selectors.sign_in_policy().password_disabled_roles == ["employee", "hr_admin"]
    answer = client.post(reverse("console:sso_provider_create"), {
        "provider": "feishu", "name": "飞书", "client_id": "cli_1", "secret": "z" * 20,
        "link_claim": "employee_no", "link_field": "employee_no"})
    assert answer.status_code == 302
    page = client.get(reverse("console:sign_in_settings")).content.decode()
    assert "飞书" in page and "/accounts/feishu/login/callback/" in page
    missing = client.post(reverse("console:sso_provider_create"), {
        "provider": "wecom", "name": "WeCom", "client_id": "ww1", "secret": "z" * 20,
        "link_field": "employee_no"})
    assert missing.status_code == 400  # AgentId missing


def test_django_admin_sign_in_cannot_skip_the_second_factor(super_admin):
    super_admin.user.is_staff = True
    super_admin.user.save()
    enrol_totp(super_admin.user)
    client = Client()
    page = client.post("/django-admin/login/", {"username": super_admin.user.username,
                                                "password": PASSWORD, "next": "/django-admin/"})
    assert page.status_code == 200  # the form again, with the reason
    assert client.get("/django-admin/").status_code == 302
    # Without a second factor django-admin's own form still works.
    other = EmployeeFactory(roles=[Role.SUPER_ADMIN])
    other.user.is_staff = True
    other.user.save()
    answer = Client().post("/django-admin/login/", {"username": other.user.username,
                                                    "password": PASSWORD,
                                                    "next": "/django-admin/"})
    assert answer.status_code == 302
