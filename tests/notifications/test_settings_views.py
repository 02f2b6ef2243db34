"""The employee's notification settings page and the console's defaults page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jifen.core.models import AuditEntry
from jifen.notifications import channels, selectors
from jifen.notifications.channels import IM
from jifen.notifications.models import DeliverySettings
from tests.conftest import login_client

pytestmark = pytest.mark.django_db
AWARD = "earning.award_approved"


def _grid(user):
    return {row.name: row.on for row in selectors.preference_grid(user)}


def test_an_employee_saves_channels_digest_and_quiet_hours(employee):
    client = login_client(employee.user)
    page = client.get(reverse("portal:notification_settings"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'for="pref-earning-award_approved-email"' in html  # every checkbox is labelled
    assert 'data-testid="im-hint"' in html  # no IM platform: the column is disabled
    shown = [f"{row.name}:{c}" for row in selectors.preference_grid(None)
             for c in ("in_app", "email")]
    response = client.post(reverse("portal:notification_settings"), {
        "shown": shown, f"{AWARD}:email": "on",  # every other box left unticked
        "mode": "weekly", "digest_hour": "9", "digest_weekday": "4",
        "quiet_start": "22:00", "quiet_end": "07:00"})
    assert response.status_code == 302
    grid = _grid(employee.user)
    assert grid[AWARD] == {"in_app": False, "email": True, "im": False}
    settings = DeliverySettings.objects.get(user=employee.user)
    assert (settings.mode, settings.digest_hour, settings.digest_weekday) == ("weekly", 9, 4)
    assert str(settings.quiet_start) == "22:00:00"


def test_half_a_quiet_period_is_refused(employee):
    response = login_client(employee.user).post(reverse("portal:notification_settings"), {
        "mode": "immediate", "digest_hour": "8", "digest_weekday": "0",
        "quiet_start": "22:00"})
    assert response.status_code == 200
    assert not DeliverySettings.objects.filter(user=employee.user).exists()


def test_the_im_column_opens_once_a_platform_is_connected(employee, monkeypatch):
    monkeypatch.setitem(channels._senders, IM, lambda _pk: True)
    monkeypatch.setitem(channels._ready, IM, lambda: True)
    html = login_client(employee.user).get(
        reverse("portal:notification_settings")).content.decode()
    assert 'data-testid="im-hint"' not in html
    assert f'name="{AWARD}:im"' in html


def test_hr_sets_the_site_defaults_and_it_is_audited(make_role_employee, employee):
    hr = make_role_employee("hr_admin")
    client = login_client(hr.user)
    assert client.get(reverse("console:notification_defaults")).status_code == 200
    shown = [f"{row.name}:email" for row in selectors.preference_grid(None)]
    ticked = {f"{name}:email": "on" for name, on in _grid(None).items() if on["email"]}
    response = client.post(reverse("console:notification_defaults"),
                           {"shown": shown, **ticked, f"{AWARD}:email": "on"})
    assert response.status_code == 302
    assert _grid(employee.user)[AWARD]["email"] is True
    assert selectors.site_defaults() == {(AWARD, "email"): True}
    assert AuditEntry.objects.filter(action="notifications.defaults.update").count() == 1


def test_employees_cannot_open_the_defaults(employee):
    response = login_client(employee.user).get(reverse("console:notification_defaults"))
    assert response.status_code == 403
