"""The core console pages (site settings, the audit log) and the permission helpers, as
each role sees them. The portal and the console shell: tests/web/test_views.py."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import translation
from PIL import Image

from jifen.core import services
from jifen.core.audit_labels import ACTION_LABELS, field_label
from jifen.core.models import AuditEntry
from jifen.core.permissions import htmx_partial, require_capability
from jifen.core.roles import Cap, Role
from jifen.core.selectors import site_settings

pytestmark = pytest.mark.django_db


def signed_in(client, employee):
    client.force_login(employee.user)
    return client


# --- the permission helpers ------------------------------------------------------------


def test_require_capability_sends_anonymous_to_login_and_refuses_others(rf, employee,
                                                                        hr_admin):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    @require_capability(Cap.MANAGE_PEOPLE)
    def view(request):
        return HttpResponse("ok")

    request = rf.get("/somewhere/")
    request.user = AnonymousUser()
    response = view(request)
    assert response.status_code == 302 and "next=/somewhere/" in response.url
    request.user = employee.user
    assert view(request).status_code == 403
    request.user = hr_admin.user
    assert view(request).content == b"ok"


def test_htmx_partial_is_true_only_for_non_boosted_htmx_requests(client, hr_admin):
    class Htmx:
        def __init__(self, boosted):
            self.boosted = boosted

        def __bool__(self):
            return True

    class Request:
        htmx = None

    request = Request()
    assert not htmx_partial(request)
    request.htmx = Htmx(boosted=False)
    assert htmx_partial(request)
    request.htmx = Htmx(boosted=True)
    assert not htmx_partial(request)


# --- site settings -----------------------------------------------------------------------


def settings_post(**overrides):
    current = site_settings()
    data = {"platform_name": current.platform_name, "primary_color": current.primary_color,
            "contact": current.contact, "point_unit_zh": current.point_unit_zh,
            "point_unit_en": current.point_unit_en, "decimals": str(current.decimals),
            "default_language": str(current.default_language)}
    data.update(overrides)
    return data


def test_only_super_admins_open_site_settings(client, hr_admin, make_role_employee):
    signed_in(client, hr_admin)
    assert client.get(reverse("console:settings")).status_code == 403
    assert client.post(reverse("console:settings"),
                       settings_post(platform_name="x")).status_code == 403
    signed_in(client, make_role_employee(Role.AUDITOR))
    assert client.get(reverse("console:settings")).status_code == 403
    assert site_settings().platform_name == "积分商城"


def test_a_super_admin_rebrands_the_site_and_it_is_audited(client, super_admin):
    signed_in(client, super_admin)
    response = client.post(reverse("console:settings"), settings_post(
        platform_name="星河福利社", primary_color="#2fb344", contact="HR 小李 8021",
        point_unit_zh="星币", point_unit_en="stars", decimals="1",
    ))
    assert response.status_code == 302
    current = site_settings()
    assert (current.platform_name, current.primary_color, current.point_unit_en,
            current.decimals) == ("星河福利社", "#2fb344", "stars", 1)
    entry = AuditEntry.objects.get(action="settings.update")
    assert ("platform_name", "积分商城", "星河福利社") in entry.changes()
    page = client.get(reverse("console:settings")).content.decode()
    assert "--tblr-primary: #2fb344" in page


def test_settings_errors_are_shown_on_the_form(client, super_admin):
    signed_in(client, super_admin)
    response = client.post(reverse("console:settings"),
                           settings_post(primary_color="red", platform_name=""))
    form = response.context["form"]
    assert "primary_color" in form.errors and "platform_name" in form.errors
    assert site_settings().primary_color == "#d63939"


def test_decimals_are_locked_once_points_exist(client, super_admin, monkeypatch):
    monkeypatch.setattr(services, "points_exist", lambda: True)
    signed_in(client, super_admin)
    page = client.get(reverse("console:settings")).content.decode()
    assert 'data-testid="decimals-locked"' in page
    response = client.post(reverse("console:settings"),
                           settings_post(decimals="2", platform_name="新名字"))
    assert response.status_code == 302
    assert site_settings().decimals == 0
    assert site_settings().platform_name == "新名字"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (214, 57, 57)).save(out, format="PNG")
    return out.getvalue()


def test_an_uploaded_logo_is_shown_and_served(client, super_admin, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    signed_in(client, super_admin)
    logo = SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")
    response = client.post(reverse("console:settings"), {**settings_post(), "logo": logo})
    assert response.status_code == 302
    url = site_settings().logo.url
    assert url.startswith("/media/branding/")
    client.logout()
    assert url in client.get(reverse("login")).content.decode()
    served = client.get(url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == png_bytes()


def test_a_file_that_is_not_an_image_is_refused_as_logo(client, super_admin, settings,
                                                        tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    signed_in(client, super_admin)
    bogus = SimpleUploadedFile("logo.png", b"not an image", content_type="image/png")
    response = client.post(reverse("console:settings"), {**settings_post(), "logo": bogus})
    assert "logo" in response.context["form"].errors
    assert not site_settings().logo


def test_a_logo_that_would_decode_to_hundreds_of_megabytes_is_refused(client, super_admin,
                                                                      settings, tmp_path):
    """Every page shows the logo: a 13000 × 13000 picture would stall every phone."""
    from jifen.core.images import picture_too_large
    from tests.images import bomb_png

    settings.MEDIA_ROOT = tmp_path
    signed_in(client, super_admin)
    response = client.post(reverse("console:settings"), {**settings_post(), "logo": bomb_png()})
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        assert response.context["form"].errors["logo"] == [picture_too_large().message]
    assert not site_settings().logo


# --- audit log ---------------------------------------------------------------------------


def test_the_audit_log_is_for_auditors_and_super_admins(client, hr_admin, make_role_employee):
    signed_in(client, hr_admin)
    assert client.get(reverse("console:audit")).status_code == 403
    signed_in(client, make_role_employee(Role.AUDITOR))
    assert client.get(reverse("console:audit")).status_code == 200


def test_the_audit_log_filters_and_shows_before_and_after(client, super_admin,
                                                          make_role_employee):
    services.update_site_settings(actor=super_admin.user, platform_name="新平台")
    services.record_audit(actor=super_admin.user, action="apikey.create",
                          object_type="integrations.apikey", object_id="9",
                          object_repr="薪资系统", after={"name": "薪资系统"})
    auditor = make_role_employee(Role.AUDITOR)
    signed_in(client, auditor)
    response = client.get(reverse("console:audit"), {"action": "settings.update"})
    entries = list(response.context["page"].object_list)
    assert [e.action for e in entries] == ["settings.update"]
    page = response.content.decode()
    assert "积分商城" in page and "新平台" in page
    assert "jf-diff-old" in page
    assert super_admin.name in page

    response = client.get(reverse("console:audit"), {"q": "薪资"})
    assert [e.action for e in response.context["page"].object_list] == ["apikey.create"]


def test_the_audit_log_names_actions_and_fields_in_the_readers_language(client, super_admin):
    services.update_site_settings(actor=super_admin.user, platform_name="新平台")
    signed_in(client, super_admin)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("console:audit")).content.decode()
    assert "Site settings changed" in page and "platform name" in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("console:audit")).content.decode()
    assert "站点设置已修改" in page
    filter_options = client.get(reverse("console:audit")).context["form"]["action"]
    assert ("settings.update", "站点设置已修改") in filter_options.field.choices


def test_a_field_without_a_label_of_its_own_keeps_its_name():
    assert field_label("mall.item", "images") == "images"  # a reverse relation
    assert field_label("mall.item", "nonsense") == "nonsense"
    assert field_label("no.such_model", "status") == "status"


def test_the_dashboard_names_recent_admin_actions_too(client, super_admin):
    services.update_site_settings(actor=super_admin.user, platform_name="新平台")
    signed_in(client, super_admin)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("console:dashboard")).content.decode()
    assert "Site settings changed" in page and ">settings.update<" not in page


def test_every_audited_action_has_a_label():
    """A new action without one shows its code ("mall.order.deliver") to HR."""
    import re
    from pathlib import Path

    import jifen
    source = "\n".join(path.read_text() for path in Path(jifen.__file__).parent.rglob("*.py"))
    recorded = set(re.findall(r'record_audit\([^"]{0,300}?action="([a-z_.]+)"', source))
    assert recorded and recorded <= set(ACTION_LABELS), recorded - set(ACTION_LABELS)


def test_the_audit_log_filters_by_date(client, super_admin):
    services.update_site_settings(actor=super_admin.user, platform_name="新平台")
    signed_in(client, super_admin)
    response = client.get(reverse("console:audit"), {"since": "2000-01-01",
                                                     "until": "2000-01-02"})
    assert response.context["page"].paginator.count == 0
    response = client.get(reverse("console:audit"), {"since": "2000-01-01"})
    assert response.context["page"].paginator.count >= 1


def test_an_htmx_audit_search_returns_only_the_results(client, super_admin):
    services.update_site_settings(actor=super_admin.user, platform_name="新平台")
    signed_in(client, super_admin)
    response = client.get(reverse("console:audit"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and 'data-testid="audit-list"' in body


def test_the_audit_log_costs_the_same_queries_for_many_entries(client, super_admin,
                                                               django_assert_max_num_queries):
    for n in range(30):
        services.record_audit(actor=super_admin.user, action="test.action",
                              object_type="x", object_id=str(n), before={"n": n},
                              after={"n": n + 1})
    signed_in(client, super_admin)
    client.get(reverse("console:audit"))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("console:audit"))
    assert len(response.context["page"].object_list) == 25
