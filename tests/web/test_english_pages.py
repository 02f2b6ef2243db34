"""English pages show no Chinese the code wrote: the company's history is made the Chinese
way (site language zh-hans, every action taken while Chinese is active: a cancelled order,
a rejected event, a department change, a revoked key …), then every console and portal
page we can build a URL for is read in English. The data people typed is ASCII here
(names, titles, reasons), so any CJK character on an English page is text the code
stored or rendered in the wrong language.

Pages that need what the fixture cannot give are listed in ``NOT_WALKED`` with why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation

from jifen.core.models import SiteSettings
from jifen.core.roles import Role
from jifen.core.services import update_site_settings
from jifen.earning import services as earning
from jifen.earning.models import Award, AwardStatus, CompanyValue, Event
from jifen.earning.services import EventIn
from jifen.integrations.services import create_api_key, revoke_api_key
from jifen.ledger import services as ledger
from jifen.ledger.models import Transaction
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus
from jifen.people.services import EmployeeData, set_roles, upsert_employee
from jifen.people.services.employees import employee_audit_snapshot
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.walk_objects import integrations_pages

pytestmark = pytest.mark.django_db

# Han ideographs, CJK punctuation and full-width forms (a "，" or "：" is a bug too); not
# U+3000, the ideographic space that indents the department tree in pickers.
CJK = re.compile(r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# Chinese that belongs on an English page: the language switcher names each language in
# itself; the point unit for Chinese pages is Chinese on the settings form.
ALLOWED = (
    re.compile(r"简体中文"),
    re.compile(r'name="point_unit_zh" value="[^"]*"'),
)
# An import's first page lists the column names a spreadsheet may use, Chinese ones too.
IMPORT_COLUMNS = re.compile(r'<td class="small text-secondary">[^<]*</td>')
# URL names not walked, and why (pages reached by POST only, downloads, import jobs).
NOT_WALKED = {
    "console:sso_provider_delete": "POST only",
    "console:mall_category_delete": "POST only",
    "console:second_factor_reset": "POST only",
    "console:activities_announce": "POST only",
    "console:activities_results_data": "JSON for the charts",
    "console:activities_export": "a spreadsheet, not a page",
    "console:library_file": "a file, not a page",
    "console:library_resource_status": "POST only",
    "console:library_moderate": "POST only",
    "console:library_engagement_export": "a spreadsheet, not a page",
    "console:library_comments_export": "a spreadsheet, not a page",
    "console:library_insights_export": "a spreadsheet, not a page",
    "portal:lottery_enter": "POST only",
    "portal:lottery_proof": "csv/json, not a page",
    "portal:auction_live": "an htmx fragment",
    "portal:auction_bid": "POST only",
    "portal:library_buy": "POST only",
    "portal:library_download": "a file, not a page",
    "portal:library_preview": "a picture, not a page",
    "portal:library_signed_download": "a file, not a page",
    "portal:library_rate": "POST only",
    "portal:library_share_create": "POST only",
    "portal:library_comment_report": "POST only",
    "portal:library_share": "a redirect",
    "portal:library_checkin_makeup": "POST only",
    "console:employee_left": "POST only",
    "console:approval_decide": "POST only",
    "console:rule_feedback_answer": "POST only",
    "console:api_key_revoke": "POST only",
    "console:mall_order_bulk": "POST only",
    "console:mall_order_export": "a spreadsheet, not a page",
    "console:people_export": "a spreadsheet, not a page",
    "portal:points_export": "a spreadsheet, not a page",
    "portal:mall_redeem": "POST only",
    "portal:mall_favourite": "POST only",
    "portal:order_action": "POST only",
    "portal:earn_feedback": "POST only",
    "portal:notifications_read": "POST only",
    "portal:notification_open": "a redirect to what the notification is about",
    "console:insights_export": "a spreadsheet, not a page",
    "console:insights_settings": "POST only",
    "console:payroll_export": "a spreadsheet, not a page",
    "console:payroll_close": "POST only",
    "console:payroll_reopen": "POST only",
    "console:im_robot_test": "POST only",
    "console:im_robot_delete": "POST only",
    "console:im_route_add": "POST only",
    "console:im_route_delete": "POST only",
    "console:webhook_action": "POST only",
    "portal:leaderboard_privacy": "POST only",
}
IMPORTS = ("people_import", "earning_import", "mall_tracking", "mall_code_import")


@dataclass
class Company:
    admin: Any
    worker: Any
    department: Any
    rule: Any
    pending_award: Any
    item: Any
    category: Any
    orders: dict[str, Any] = field(default_factory=dict)
    transaction: Any = None
    feedback: Any = None
    # The pks of activities, the library and sign-in pages, by URL name.
    pks: dict[str, list[Any]] = field(default_factory=dict)


def _company_words() -> None:
    """What the company words itself, in English here: the platform's name and its
    values (whose defaults happen to be Chinese)."""
    SiteSettings.objects.update_or_create(pk=1, defaults={"platform_name": "Points Mall"})
    for value in CompanyValue.objects.all():
        value.name = f"Value {value.pk}"
        value.save()


def _move(employee, department, actor) -> None:
    snap = employee_audit_snapshot(employee)
    fields = ("employee_no", "name", "email", "phone", "position", "grade", "hire_date",
              "status")
    upsert_employee(data=EmployeeData(**{k: snap[k] for k in fields},
                                      department_code=department.code), actor=actor)


def _event(employee_no: str, type_: str, payload: dict, id_: str) -> EventIn:
    return EventIn(source="hr", id=id_, type=type_, employee_no=employee_no,
                   occurred_at=timezone.now(), payload=payload)


@pytest.fixture
def company(settings, tmp_path) -> Company:
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("zh-hans"):
        head = DepartmentFactory(code="HQ", name="Head office")
        general = DepartmentFactory(code="GM", name="General management", parent=head)
        sales = DepartmentFactory(code="SL", name="Sales", parent=head)
        admin = EmployeeFactory(department=head, employee_no="A0001", name="Ada Admin",
                                roles=[Role.SUPER_ADMIN])
        worker = EmployeeFactory(department=general, employee_no="JF0001", name="Wei Zhang")
        other = EmployeeFactory(department=sales, employee_no="JF0002", name="Na Li")
        _company_words()
        integrations = integrations_pages(admin.user)  # first: the audit test reads page 1
        update_site_settings(actor=admin.user, contact="hr@example.com")
        _move(worker, sales, admin.user)  # audit: a department change
        set_roles(user=other.user, roles=[Role.HR_ADMIN], actor=admin.user)
        key, _plain = create_api_key(name="HR sync", scopes=["employees:read"],
                                     actor=admin.user)
        create_api_key(name="Payroll", scopes=["reports:read"], actor=admin.user)
        revoke_api_key(key=key, actor=admin.user)

        ledger.credit(employee=worker, amount=2000, category="performance",
                      idempotency_key="words-fund", cause=("test.event", "words-fund"),
                      reason="Opening balance")
        adjustment = ledger.adjust(employee=worker, amount=50, reason="Annual party helper",
                                   actor=admin.user, idempotency_key="words-adjust")

        rule = earning.create_rule(
            actor=admin.user, reason="First version", name="Training", category="learning",
            event_type="training_completed", condition="payload.hours >= 2",
            formula={"kind": "per_unit", "field": "hours", "points": 3},
            caps={"month": 100})
        earning.create_rule(
            actor=admin.user, reason="First version", name="Idea", category="culture",
            event_type="idea_adopted", formula={"kind": "range", "min": 5, "max": 50},
            requires_approval=True, approver_role="hr")
        earning.ingest_events(events=[
            _event("JF0001", "training_completed", {"hours": 1, "course": "Safety"}, "t1"),
            _event("JF0001", "training_completed", {"hours": 4, "course": "Safety"}, "t2"),
            _event("NOBODY", "training_completed", {"hours": 4, "course": "Safety"}, "t3"),
            _event("JF0001", "no_such_type", {}, "t4"),
            _event("JF0001", "idea_adopted", {"title": "Faster builds"}, "i1"),
            _event("JF0002", "idea_adopted", {"title": "Shorter meetings"}, "i2"),
        ], received_by="test")
        awards = list(Award.objects.filter(status=AwardStatus.PENDING).order_by("pk"))
        earning.reject_award(award=awards[1], actor=admin.user, reason="Already rewarded")
        feedback = earning.send_rule_feedback(employee=worker, rule=rule,
                                              message="Count online courses too")
        earning.answer_rule_feedback(feedback=feedback, actor=admin.user,
                                     answer="From next month")

        category = mall.save_category(actor=admin.user, name="Gadgets")
        item = mall.create_item(actor=admin.user, name="Headphones", points=100,
                                status=ItemStatus.LISTED, fulfilment=Fulfilment.SHIPPED,
                                category=category, description="Wireless")
        voucher = mall.create_item(actor=admin.user, name="Cinema voucher", points=50,
                                   status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE,
                                   category=category, auto_approve=True)
        address = mall.add_address(employee=worker, recipient="Wei Zhang",
                                   phone="13800138000", region="Shanghai",
                                   address="88 Zhangjiang Road")
        orders = {}
        for name in ("cancelled", "delivered", "rejected", "waiting"):
            orders[name] = mall.create_order(employee=worker, item=item, address=address,
                                             idempotency_key=f"words-{name}")
        orders["automatic"] = mall.create_order(employee=worker, item=voucher,
                                                idempotency_key="words-automatic")
        mall.cancel_order(order=orders["cancelled"], actor=worker.user)
        mall.approve_order(order=orders["delivered"], actor=admin.user)
        mall.ship_order(order=orders["delivered"], actor=admin.user, carrier="SF",
                        tracking_no="SF100")
        mall.deliver_order(order=orders["delivered"], actor=admin.user)
        mall.reject_order(order=orders["rejected"], actor=admin.user, reason="Out of range")
        pks = {**_activities_library_and_sign_in(admin, item, voucher), **integrations}
    return Company(admin=admin, worker=worker, department=general, rule=rule,
                   pending_award=awards[0], item=item, category=category, orders=orders,
                   transaction=adjustment, feedback=feedback, pks=pks)


def _activities_library_and_sign_in(admin, item, voucher) -> dict[str, list[Any]]:
    """A lottery, an auction, a resource and an identity provider, named in English."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jifen.activities.services import auction as auctions
    from jifen.activities.services import lottery as lotteries
    from jifen.library import samples
    from jifen.library.services import resources
    from jifen.people.sso.services import save_provider

    now = timezone.now()
    lottery = lotteries.publish_lottery(actor=admin.user, lottery=lotteries.save_lottery(
        actor=admin.user, data={"title": "New year draw", "description": "Good luck",
                                "starts_at": now - timedelta(hours=1),
                                "ends_at": now + timedelta(days=1), "entry_cost": 10,
                                "entry_limit": 1},
        tiers=[{"name": "First prize", "kind": "points", "points": 100, "quantity": 1}]))
    auction = auctions.publish_auction(actor=admin.user, auction=auctions.create_auction(
        actor=admin.user, title="Cinema voucher auction", item_id=voucher.pk,
        starting_price=100, min_increment=10, starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1)))
    resource = resources.create_resource(
        actor=admin.user, title="Interview guide", description="How to interview",
        price=20, status="published", upload=SimpleUploadedFile(
            "guide.pdf", samples.make_pdf([["Interview guide", "Page one"]]),
            content_type="application/pdf"))
    provider = save_provider(actor=admin.user, provider="openid_connect", provider_id="okta",
                             name="Okta", server_url="https://acme.okta.com", client_id="x",
                             secret="x" * 20)
    return {
        "console:activities_results": ["lottery", lottery.pk],
        "console:activities_lottery": [lottery.pk],
        "console:activities_auction": [auction.pk],
        "portal:lottery": [lottery.pk],
        "portal:lottery_verify": [lottery.pk],
        "portal:auction": [auction.pk],
        "console:library_resource_edit": [resource.pk],
        "portal:library_resource": [resource.pk],
        "portal:library_comments": ["item", item.pk],
        "console:sso_provider_edit": [provider.pk],
    }


def _names() -> list[tuple[str, URLPattern]]:
    """Every named page of the console and the portal, by its full name."""
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns: list[Any], namespaces: list[str]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns,
                     namespaces + ([pattern.namespace] if pattern.namespace else []))
            elif (isinstance(pattern, URLPattern) and pattern.name and namespaces
                  and namespaces[0] in ("console", "portal")):
                found.append((":".join([*namespaces, pattern.name]), pattern))

    walk(get_resolver().url_patterns, [])
    return found


def _args(name: str, pattern: URLPattern, company: Company) -> list[Any] | None:
    keys = list(pattern.pattern.converters)
    if not keys:
        return []
    orders = company.orders
    by_name: dict[str, list[Any]] = {
        "console:employee_detail": [company.worker.pk],
        "console:employee_points": [company.worker.pk],
        "console:employee_edit": [company.worker.pk],
        "console:employee_roles": [company.worker.pk],
        "console:department_edit": [company.department.pk],
        "console:rule_edit": [company.rule.pk],
        "console:rule_history": [company.rule.pk],
        "console:mall_order": [orders["delivered"].pk],
        "console:mall_item_edit": [company.item.pk],
        "console:mall_item_images": [company.item.pk],
        "console:mall_category_edit": [company.category.pk],
        "console:ledger_transaction": [company.transaction.pk],
        "portal:mall_item": [company.item.pk],
        "portal:order_detail": [orders["cancelled"].pk],
        **company.pks,
    }
    return by_name.get(name)


def _chinese_in(html: str, *, name: str = "") -> list[str]:
    html = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", "", html, flags=re.S)
    importing = name.endswith(":start") and name.split(":")[1] in IMPORTS
    for allowed in (*ALLOWED, *((IMPORT_COLUMNS,) if importing else ())):
        html = allowed.sub("", html)
    return [html[max(0, m.start() - 60):m.end() + 30].replace("\n", " ")
            for m in CJK.finditer(html)]


def _english_client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def test_every_page_in_english_shows_no_chinese_the_code_stored(company):
    console, portal = _english_client(company.admin.user), _english_client(company.worker.user)
    walked, skipped, found = [], {}, {}
    for name, pattern in _names():
        if name in NOT_WALKED:
            skipped[name] = NOT_WALKED[name]
            continue
        if name.split(":")[1] in IMPORTS and pattern.pattern.converters:
            skipped[name] = "needs an import job"
            continue
        args = _args(name, pattern, company)
        if args is None:
            skipped[name] = "no arguments known"
            continue
        client = portal if name.startswith("portal:") else console
        response = client.get(reverse(name, args=args))
        if response.status_code == 403 and client is portal:  # a manager's page
            response = console.get(reverse(name, args=args))
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            skipped[name] = f"answered {response.status_code} {response.get('Content-Type')}"
            continue
        walked.append(name)
        if chinese := _chinese_in(response.content.decode(), name=name):
            found[name] = chinese[:5]
    assert not [n for n, why in skipped.items() if why == "no arguments known"], skipped
    anonymous = Client()
    anonymous.cookies["django_language"] = "en"
    for name, client in (("login", anonymous), ("password_change", portal)):
        walked.append(name)
        if chinese := _chinese_in(client.get(reverse(name)).content.decode()):
            found[name] = chinese[:5]
    assert len(walked) >= 55, (walked, skipped)
    new_pages = {"portal:activities", "portal:lottery", "portal:lottery_verify",
                 "portal:auction", "console:activities", "console:activities_results",
                 "console:activities_lottery", "console:activities_auction", "portal:library",
                 "portal:library_resource", "portal:library_comments", "portal:library_checkin",
                 "console:library_resources", "console:library_moderation",
                 "console:sign_in_settings", "console:sso_provider_edit",
                 "portal:leaderboard", "console:insights", "console:payroll",
                 "console:payroll_period", "console:payroll_settings", "console:im",
                 "console:im_robot", "console:im_app", "console:webhooks", "console:webhook",
                 "console:webhook_delivery", "console:system_status",
                 "portal:notification_settings", "console:notification_defaults",
                 "portal:recommendations"}
    assert new_pages <= set(walked), {n: skipped.get(n) for n in new_pages - set(walked)}
    assert not found, "Chinese on English pages:\n" + "\n".join(
        f"{name}: {snippets}" for name, snippets in found.items())


def test_the_pages_that_matter_most_were_walked(company):
    """The pages the issue names are among those the walk reads (not skipped)."""
    names = {name for name, _pattern in _names()}
    for name in ("console:audit", "console:event_log", "console:mall", "console:mall_order",
                 "console:api_keys", "console:employee_detail", "portal:order_detail",
                 "portal:orders", "console:approvals"):
        assert name in names and name not in NOT_WALKED


def test_stored_outcomes_read_in_english(company):
    """Spot checks with the words expected, not only the absence of Chinese."""
    client = _english_client(company.admin.user)
    events = client.get(reverse("console:event_log")).content.decode()
    assert "Training: The condition is false." in events
    assert "No employee has the number NOBODY." in events
    order = _english_client(company.worker.user).get(
        reverse("portal:order_detail", args=[company.orders["cancelled"].pk])).content.decode()
    assert "Cancelled by the employee" in order
    audit = client.get(reverse("console:audit")).content.decode()
    assert "General management" in audit and "Sales" in audit
    assert f"Order {company.orders['delivered'].number}" in audit


def test_notifications_made_in_chinese_read_in_english(company):
    portal = _english_client(company.worker.user)
    for name in ("portal:notifications", "portal:home"):
        assert not _chinese_in(portal.get(reverse(name)).content.decode()), name


def test_the_fixture_moved_points_soundly(company):
    assert Transaction.objects.exists() and Event.objects.count() == 6
