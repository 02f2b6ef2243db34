"""The portal and the console shell (jifen.web), as each role sees them."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse
from django.utils import translation

from jifen.core import services
from jifen.core.roles import Role
from jifen.ledger.services import adjust
from jifen.web import views

pytestmark = pytest.mark.django_db

PORTAL_PAGES = ["portal:mall", "portal:points", "portal:orders", "portal:earn",
                "portal:leaderboard"]
PLACEHOLDER_CONSOLE_PAGES = ["console:activities", "console:insights"]


def signed_in(client, employee):
    client.force_login(employee.user)
    return client


def coming_soon() -> str:
    with translation.override("zh-hans"):
        return translation.gettext("Coming soon")


# --- the portal --------------------------------------------------------------------------


def test_the_portal_needs_a_login(client):
    for name in ["portal:home", *PORTAL_PAGES]:
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_portal_home_greets_the_employee(client, employee):
    signed_in(client, employee)
    response = client.get(reverse("portal:home"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "张伟" in page
    assert 'data-testid="balance-card"' in page
    assert 'data-testid="tabbar"' in page
    for name in PORTAL_PAGES:
        assert reverse(name) in page


@pytest.mark.parametrize("key", sorted(views.PORTAL_PLACEHOLDERS))
def test_portal_pages_not_built_yet_say_coming_soon(rf, employee, key):
    request = rf.get("/")
    request.user = employee.user
    response = views._portal_placeholder(key)(request)
    assert response.status_code == 200
    assert coming_soon() in response.content.decode()


def test_the_portal_home_shows_the_spendable_balance(client, employee, hr_admin):
    signed_in(client, employee)
    page = client.get(reverse("portal:home")).content.decode()
    assert 'data-testid="balance">0<' in page
    adjust(employee=employee, amount=1250, reason="欢迎礼", actor=hr_admin.user,
           idempotency_key="welcome-1")
    page = client.get(reverse("portal:home")).content.decode()
    assert 'data-testid="balance">1250<' in page


def test_the_console_link_shows_only_for_those_who_may_open_it(client, employee, hr_admin):
    signed_in(client, employee)
    assert 'data-testid="console-link"' not in client.get(reverse("portal:home")).content.decode()
    signed_in(client, hr_admin)
    assert 'data-testid="console-link"' in client.get(reverse("portal:home")).content.decode()


def test_pages_use_the_site_branding(client, employee):
    services.update_site_settings(actor=None, platform_name="星河福利社",
                                  primary_color="#1e88e5", point_unit_zh="星币")
    signed_in(client, employee)
    page = client.get(reverse("portal:home")).content.decode()
    assert "星河福利社" in page
    assert "--tblr-primary: #1e88e5" in page
    assert "--tblr-primary-rgb: 30, 136, 229" in page
    assert "星币" in page
    client.logout()
    assert "星河福利社" in client.get(reverse("login")).content.decode()


def test_the_language_switcher_changes_the_ui_language(client, employee):
    signed_in(client, employee)
    assert '<html lang="zh-hans">' in client.get(reverse("portal:home")).content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get(reverse("portal:home")).content.decode()
    assert '<html lang="en">' in page
    assert "Quick links" in page


def test_the_site_default_language_applies_without_a_choice(client, employee):
    services.update_site_settings(actor=None, default_language="en")
    signed_in(client, employee)
    assert '<html lang="en">' in client.get(reverse("portal:home")).content.decode()


# --- the console shell -------------------------------------------------------------------


def test_an_employee_gets_403_on_every_console_page(client, employee):
    signed_in(client, employee)
    for name in ["console:dashboard", "console:people", "console:settings", "console:audit",
                 "console:api_keys", *PLACEHOLDER_CONSOLE_PAGES]:
        response = client.get(reverse(name))
        assert response.status_code == 403, name
        assert 'data-testid="forbidden"' in response.content.decode()


@pytest.mark.parametrize(("role", "shown", "hidden"), [
    (Role.MANAGER, ["console:people", "console:approvals", "console:insights"],
     ["console:settings", "console:audit", "console:api_keys", "console:rules"]),
    (Role.HR_ADMIN, ["console:people", "console:rules", "console:approvals", "console:insights"],
     ["console:settings", "console:audit", "console:api_keys"]),
    (Role.MALL_ADMIN, ["console:mall", "console:activities"],
     ["console:people", "console:settings", "console:audit", "console:rules"]),
    (Role.AUDITOR, ["console:people", "console:audit", "console:insights"],
     ["console:settings", "console:api_keys"]),
    (Role.SUPER_ADMIN, ["console:people", "console:settings", "console:audit",
                        "console:api_keys", "console:mall", "console:rules"], []),
])
def test_console_navigation_follows_capabilities(client, make_role_employee, role, shown,
                                                 hidden):
    signed_in(client, make_role_employee(role))
    response = client.get(reverse("console:dashboard"))
    assert response.status_code == 200
    nav = response.content.decode().split('data-testid="console-nav"')[1].split("</ul>")[0]
    for name in shown:
        assert f'href="{reverse(name)}"' in nav, name
    for name in hidden:
        assert f'href="{reverse(name)}"' not in nav, name
        # …and the page itself agrees with the menu.
        assert client.get(reverse(name)).status_code == 403, name


@pytest.mark.parametrize("key", sorted(views.CONSOLE_PLACEHOLDERS))
def test_console_placeholders_say_coming_soon_to_those_who_may_see_them(rf, super_admin,
                                                                        employee, key):
    request = rf.get("/")
    request.user = super_admin.user
    response = views._console_placeholder(key)(request)
    assert response.status_code == 200
    assert coming_soon() in response.content.decode()
    request.user = employee.user
    assert views._console_placeholder(key)(request).status_code == 403


def test_the_dashboard_lists_the_viewers_areas_and_marks_only_placeholders(client,
                                                                          make_role_employee):
    signed_in(client, make_role_employee(Role.MALL_ADMIN))
    sections = {name: soon for name, _t, _i, _d, soon
                in client.get(reverse("console:dashboard")).context["sections"]}
    assert set(sections) == {"console:mall", "console:activities", "console:insights"}
    assert sections["console:mall"] is False  # the mall pages have landed
    for name, soon in sections.items():
        is_placeholder = getattr(resolve(reverse(name)).func, "coming_soon", False)
        assert soon == is_placeholder


def test_the_dashboard_counts_people_the_viewer_may_see(client, hr_admin, employee):
    signed_in(client, hr_admin)
    response = client.get(reverse("console:dashboard"))
    assert response.context["active_count"] == 2
