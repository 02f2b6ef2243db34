"""Single sign-on and two-factor sign-in in a real browser (Debian's Chromium): through the
test OpenID Connect provider, enrolling an authenticator app, signing in with it and with
a recovery code, and the policy that sends admins to enrol first."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from jifen.core.roles import Role
from jifen.people.sso import services as sso_services
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, horizontal_overflow, sign_in
from tests.factories import PASSWORD, EmployeeFactory
from tests.identity.conftest import IDP_PASSWORD
from tests.identity.helpers import enrol_totp, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Refreshed only on request (JIFEN_SCREENSHOTS=1), as the mall's are.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("JIFEN_SCREENSHOTS") else Path(tempfile.gettempdir()) / "jifen-screenshots"
)


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@pytest.fixture(autouse=True)
def _one_step_tolerance(settings):
    # A code is used once per period; the tests use the next period's code for a second
    # sign-in within the same 30 seconds.
    settings.MFA_TOTP_TOLERANCE = 1


def _axe_page(browser, live_server, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="zh-CN",
                                  **AXE_CONTEXT)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def _sign_out(page) -> None:
    page.goto("/accounts/2fa/")
    with page.expect_navigation():
        page.locator("form[action='/logout/'] button").click()


def test_signing_in_through_the_openid_connect_provider(open_page, oidc_app):
    employee = EmployeeFactory(employee_no="E90001", name="张伟")
    page = open_page(DESKTOP)
    page.goto("/login/")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Test IdP")).click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.fill("#id_username", "E90001")
    page.fill("#id_password", IDP_PASSWORD)
    with page.expect_navigation(url=re.compile(r"localhost:\d+/$")):
        page.get_by_role("button", name="Sign in at the IdP").click()
    expect(page.get_by_test_id("greeting")).to_contain_text(employee.name)


def test_enrolling_an_authenticator_app_then_signing_in_with_it(browser, live_server):
    employee = EmployeeFactory(employee_no="E100", name="王芳")
    context, page = _axe_page(browser, live_server)
    try:
        sign_in(page, "E100", PASSWORD)
        page.goto("/accounts/2fa/totp/activate/")
        assert serious_violations(page) == []
        _shot(page, "mfa-enrol.png")
        secret = page.locator("#authenticator_secret").input_value()
        page.fill("input[name=code]", totp_code(secret))
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("Activate|激活")).click()
        assert Authenticator.objects.filter(user=employee.user, type="totp").exists()
        _sign_out(page)
        sign_in(page, "E100", PASSWORD)
        expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
        assert serious_violations(page) == []
        _shot(page, "mfa-sign-in.png")
        page.fill("input[name=code]", totp_code(secret, offset=1))
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("^(Sign In|登录)$")).click()
        expect(page.get_by_test_id("greeting")).to_contain_text("王芳")
    finally:
        context.close()


def test_a_wrong_code_keeps_one_out_and_a_recovery_code_lets_one_in(open_page):
    employee = EmployeeFactory(employee_no="E101", name="刘洋")
    secret, codes = enrol_totp(employee.user)
    page = open_page(PHONE)
    sign_in(page, "E101", PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    right = totp_code(secret)
    page.fill("input[name=code]", f"{(int(right) + 7) % 1_000_000:06d}")
    page.get_by_role("button", name=re.compile("^(Sign In|登录)$")).click()
    expect(page.locator(".invalid-feedback")).to_be_visible()
    page.fill("input[name=code]", codes[0])
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^(Sign In|登录)$")).click()
    expect(page.get_by_test_id("greeting")).to_contain_text("刘洋")
    assert horizontal_overflow(page) == 0
    rc = Authenticator.objects.get(user=employee.user, type="recovery_codes").wrap()
    assert codes[0] not in rc.get_unused_codes()


def test_the_policy_sends_an_admin_to_enrol_before_anything_else(browser, live_server):
    boss = EmployeeFactory(employee_no="S001", roles=[Role.SUPER_ADMIN])
    hr = EmployeeFactory(employee_no="H001", name="人事", roles=[Role.HR_ADMIN])
    sso_services.update_sign_in_policy(actor=boss.user, require_second_factor_for_admins=True)
    context, page = _axe_page(browser, live_server, PHONE)
    try:
        sign_in(page, "H001", PASSWORD)
        expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
        page.goto("/console/people/")
        expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
        assert horizontal_overflow(page) == 0
        secret = page.locator("#authenticator_secret").input_value()
        page.fill("input[name=code]", totp_code(secret))
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("Activate|激活")).click()
        page.goto("/console/people/")
        expect(page).to_have_url(re.compile(r"/console/people/$"))
        assert Authenticator.objects.filter(user=hr.user, type="totp").exists()
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_the_sign_in_settings_pages(browser, live_server, viewport):
    boss = EmployeeFactory(employee_no="S002", roles=[Role.SUPER_ADMIN])
    app = sso_services.save_provider(
        actor=boss.user, provider="openid_connect", provider_id="okta", name="Okta",
        server_url="https://acme.okta.com", client_id="0oa1", secret="x" * 30,
        link_claim="employee_no", link_field="employee_no")
    context, page = _axe_page(browser, live_server, viewport)
    try:
        sign_in(page, "S002", PASSWORD)
        for url in ("/console/sign-in/", "/console/sign-in/providers/new/",
                    f"/console/sign-in/providers/{app.pk}/", "/login/"):
            if url == "/login/":
                _sign_out(page)
            page.goto(url)
            assert serious_violations(page) == [], url
            if viewport is DESKTOP and url == "/console/sign-in/":
                _shot(page, "sso-settings.png")
            if viewport is PHONE and url == "/login/":
                _shot(page, "sso-sign-in.png")
            assert horizontal_overflow(page) == 0, url
        expect(page.get_by_test_id("sso-buttons")).to_contain_text("Okta")
    finally:
        context.close()


def test_a_security_key_as_second_factor_with_a_virtual_authenticator(open_page, settings):
    # http://localhost is a secure context for the browser; allauth checks the origin too.
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
    employee = EmployeeFactory(employee_no="E102", name="陈静")
    page = open_page(DESKTOP)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})
    sign_in(page, "E102", PASSWORD)
    page.goto("/accounts/2fa/webauthn/add/")
    page.fill("input[name=name]", "YubiKey")
    with page.expect_navigation():
        page.click("#mfa_webauthn_add")
    assert Authenticator.objects.filter(user=employee.user, type="webauthn").exists()
    _sign_out(page)
    sign_in(page, "E102", PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    with page.expect_navigation(url=re.compile(r"localhost:\d+/$")):
        page.click("#mfa_webauthn_authenticate")
    expect(page.get_by_test_id("greeting")).to_contain_text("陈静")
