"""Every page of both shells passes axe-core without a serious or critical violation, has one
h1, a <main id="main"> landmark and a "skip to content" link as its first focusable element;
the keyboard focus ring is visible.

The pages are found, not listed: every URL name of jifen.web_urls (the portal and console
shells, the import pages and the sign-in pages, recursively through included lists). A name
whose pattern takes a primary key is opened with a row from the demo company; a name that is
not a page (a POST action, a download, a redirect) is skipped, with the reason, in SKIPPED.
A new URL name that is neither fails ``test_every_url_name_is_checked_or_skipped``."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import URLPattern, URLResolver, reverse

from jifen import web_urls
from tests.browser.axe import AXE_CONTEXT, serious_violations
from tests.browser.conftest import DESKTOP, PHONE, sign_in
from tests.conftest import IMMEDIATE_TASKS
from tests.walk_objects import integrations_pages

RESULTS = Path(__file__).resolve().parents[2] / "test-results"

# URL names that are not pages one can open, and why.
_POST = "a POST action that redirects to a page checked here"
_DOWNLOAD = "a file download (xlsx/csv), not a page"
SKIPPED: dict[str, str] = {
    "logout": _POST,
    "portal:earn_feedback": _POST,
    "portal:mall_redeem": _POST,
    "portal:mall_favourite": _POST,
    "portal:order_action": _POST,
    "portal:notifications_read": _POST,
    "portal:notification_open": "marks the notification read and redirects to its page",
    "portal:recognition_people": "JSON for the people picker, not a page",
    "portal:points_export": _DOWNLOAD,
    "console:approval_decide": _POST,
    "console:mall_category_delete": _POST,
    "console:rule_feedback_answer": _POST,
    "console:api_key_revoke": _POST,
    "console:mall_order_bulk": _POST,
    "console:mall_order_export": _DOWNLOAD,
    "console:mall_item_images": _POST,
    "console:people_export": _DOWNLOAD,
    "console:employee_left": _POST,
    "console:employee_roles": _POST,
    "console:sso_provider_delete": _POST,
    "console:second_factor_reset": _POST,
    "console:activities_announce": _POST,
    "console:activities_results_data": "JSON for the results charts, not a page",
    "console:activities_export": _DOWNLOAD,
    "console:library_file": "the resource's file, not a page",
    "console:library_resource_status": _POST,
    "console:library_moderate": _POST,
    "console:library_engagement_export": _DOWNLOAD,
    "console:library_comments_export": _DOWNLOAD,
    "console:library_insights_export": _DOWNLOAD,
    "portal:lottery_enter": _POST,
    "portal:lottery_proof": "the draw's entry list as csv/json, not a page",
    "portal:auction_live": "an htmx fragment polled by the auction page, not a page",
    "portal:auction_bid": _POST,
    "portal:library_buy": _POST,
    "portal:library_download": "the resource's file, not a page",
    "portal:library_preview": "a preview picture, not a page",
    "portal:library_signed_download": "the resource's file, not a page",
    "portal:library_rate": _POST,
    "portal:library_share_create": _POST,
    "portal:library_comment_report": _POST,
    "portal:library_share": "records the visit and redirects to what was shared",
    "portal:library_checkin_makeup": _POST,
    "console:insights_export": _DOWNLOAD,
    "console:insights_settings": _POST,
    "console:payroll_export": _DOWNLOAD,
    "console:payroll_close": _POST,
    "console:payroll_reopen": _POST,
    "console:im_robot_test": _POST,
    "console:im_robot_delete": _POST,
    "console:im_route_add": _POST,
    "console:im_route_delete": _POST,
    "console:webhook_action": _POST,
    "portal:leaderboard_privacy": _POST,
}
# Every importer mounts the same eight views (core/imports/views.py); per namespace:
_IMPORT_SKIPPED = {
    "template": _DOWNLOAD, "errors": _DOWNLOAD, "commit": _POST, "cancel": _POST,
    "progress": "an htmx fragment polled by the preview page, not a page",
}
# Pages only some people may open, checked signed in as them (demo logins) rather than as
# the super admin or the employee.
OPENED_AS = {"portal:team_awards": "manager"}
IMPORT_NAMESPACES = ("people_import", "console:earning_import", "console:mall_tracking",
                     "console:mall_code_import")


def _walk(patterns, namespace: str = "", prefix: str = ""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, inner, route)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, route, list(entry.pattern.converters)


def url_names() -> list[tuple[str, str, list[str]]]:
    """(name, route, parameter names) for every named page of the site's web URLs."""
    return list(_walk(web_urls.urlpatterns))


def skipped(name: str) -> str | None:
    if name in SKIPPED:
        return SKIPPED[name]
    namespace, _, short = name.rpartition(":")
    if namespace in IMPORT_NAMESPACES:
        return _IMPORT_SKIPPED.get(short)
    return None


def _is_console(route: str) -> bool:
    return route.startswith("console/")


# --- the data: the demo company, plus one import job per importer -----------------------

def _import_jobs(admin) -> dict[str, int]:
    from jifen.core.imports.jobs import create_import_job
    from jifen.earning.import_views import pages as earning_pages
    from jifen.mall.import_views import code_pages, tracking_pages
    from jifen.people.import_views import pages as people_pages

    pages = {"people_import": people_pages, "console:earning_import": earning_pages,
             "console:mall_tracking": tracking_pages, "console:mall_code_import": code_pages}
    jobs = {}
    with override_settings(TASKS=IMMEDIATE_TASKS):  # read and checked at once: a real preview
        for namespace, page in pages.items():
            upload = SimpleUploadedFile("rows.csv", b"a,b\n1,2\n")
            job = create_import_job(importer=page.importer_class(), upload=upload,
                                    actor=admin.user)
            jobs[namespace] = job.pk
    return jobs


@pytest.fixture
def site():
    """The demo company (every page has realistic rows) and what the pk patterns need."""
    from jifen.activities.models import Auction, Lottery
    from jifen.demo.builder import DEFAULT_SEED, build_demo
    from jifen.earning.models import Rule
    from jifen.ledger.models import Transaction
    from jifen.library.models import Resource
    from jifen.mall.models import Category, Item, Order
    from jifen.people.models import Department, Employee
    from jifen.people.sso.services import save_provider

    build_demo(seed=DEFAULT_SEED)
    admin = Employee.objects.get(user__username="admin")
    employee = Employee.objects.get(user__username="employee")
    rule = Rule.objects.order_by("pk").first()
    lottery = Lottery.objects.filter(revealed_at__isnull=False).order_by("pk").first()
    auction = Auction.objects.filter(status="published").order_by("pk").first()
    resource = (Resource.objects.filter(status="published", eligible_departments=None,
                                        eligible_grades="").order_by("pk").first())
    item = Item.objects.filter(status="listed").order_by("pk").first()
    provider = save_provider(actor=admin.user, provider="openid_connect", provider_id="okta",
                             name="Okta", server_url="https://acme.okta.com", client_id="x",
                             secret="x" * 20)
    common = {
        "console:sso_provider_edit": provider.pk,
        "console:activities_results": {"kind": "lottery", "pk": lottery.pk},
        "console:activities_lottery": lottery.pk,
        "console:activities_auction": auction.pk,
        "console:library_resource_edit": resource.pk,
        "portal:lottery": lottery.pk,
        "portal:lottery_verify": lottery.pk,
        "portal:auction": auction.pk,
        "portal:library_resource": resource.pk,
        "portal:library_comments": {"kind": "item", "target_id": item.pk},
        "portal:mall_item": Item.objects.filter(status="listed").order_by("pk").first().pk,
        "console:rule_edit": rule.pk,
        "console:rule_history": rule.pk,
        "console:ledger_transaction": Transaction.objects.order_by("-pk").first().pk,
        "console:mall_order": Order.objects.order_by("-pk").first().pk,
        "console:mall_item_edit": Item.objects.order_by("pk").first().pk,
        "console:mall_category_edit": Category.objects.order_by("pk").first().pk,
        "console:employee_detail": employee.pk,
        "console:employee_points": employee.pk,
        "console:employee_edit": employee.pk,
        "console:department_edit": Department.objects.order_by("pk").first().pk,
        "console:im_app": {"platform": "wecom"},
        "console:payroll_period": {"month": "2026-10"},
        **{name: args[0] for name, args in integrations_pages(admin.user).items()
           if name not in ("console:im_app", "console:payroll_period")},
    }
    for namespace, pk in _import_jobs(admin).items():
        for short in ("preview", "result"):
            common[f"{namespace}:{short}"] = pk
    pks = {}
    for login in ("admin", "employee"):
        own_order = Order.objects.filter(employee__user__username=login).order_by("pk").first()
        pks[login] = {**common, "portal:order_detail": own_order.pk}
    return pks


def pages_for(pks: dict[str, int], *, console: bool, portal: bool) -> list[tuple[str, str]]:
    """(name, url) of every page to check."""
    found = []
    for name, route, params in url_names():
        if skipped(name) or name in ("login", "password_change") or name in OPENED_AS:
            continue
        if not (console if _is_console(route) else portal):
            continue
        value = pks[name] if params else {}
        kwargs = value if isinstance(value, dict) else {param: value for param in params}
        found.append((name, reverse(name, kwargs=kwargs)))
    return found


# --- what is checked on each page -------------------------------------------------------

_LANDMARKS = """() => {
  const focusable = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]),'
    + ' select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  const first = document.querySelector(focusable);
  // Every field a person fills in has a <label> (a placeholder is not one), hidden or not.
  const fields = 'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea';
  const unlabelled = [...document.querySelectorAll(fields)]
    .filter((f) => f.labels.length === 0)
    .map((f) => f.outerHTML.slice(0, 120));
  return {
    unlabelled,
    h1: document.querySelectorAll("h1").length,
    main: document.querySelectorAll("main#main, [role=main]#main").length,
    skip: first ? first.getAttribute("href") : null,
  };
}"""


def problems(page, name: str, url: str) -> list[str]:
    response = page.goto(url)
    if response is None or response.status != 200:
        return [f"{name} {url}: HTTP {response and response.status}"]
    page.wait_for_load_state("load")
    found = [f"{name} {url}: {v}" for v in serious_violations(page)]
    shape = page.evaluate(_LANDMARKS)
    found += [f"{name} {url}: a field without a <label>: {html}" for html in shape["unlabelled"]]
    if shape["h1"] != 1:
        found.append(f"{name} {url}: {shape['h1']} h1 elements (one wanted)")
    if shape["main"] != 1:
        found.append(f"{name} {url}: no <main id=main> landmark")
    if shape["skip"] != "#main":
        found.append(f"{name} {url}: the first focusable element is not the skip link"
                     f" (href={shape['skip']})")
    return found


def check_all(page, pages: list[tuple[str, str]]) -> None:
    found = []
    for name, url in pages:
        found += problems(page, name, url)
    assert not found, f"{len(found)} accessibility problems:\n" + "\n".join(found)


def _signed_in(browser, live_server, viewport: dict, username: str | None):
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="zh-CN",
                                  **AXE_CONTEXT)
    context.set_default_timeout(15_000)
    page = context.new_page()
    if username:
        from jifen.demo.builder import DEMO_PASSWORD

        sign_in(page, username, DEMO_PASSWORD)
    return context, page


# --- the tests --------------------------------------------------------------------------

def test_every_url_name_is_checked_or_skipped():
    """A page added later is checked as soon as it exists: its pk comes from the ``site``
    fixture or it is listed in SKIPPED with a reason."""
    known = {"portal:mall_item", "portal:order_detail", "console:rule_edit",
             "console:rule_history", "console:ledger_transaction", "console:mall_order",
             "console:mall_item_edit", "console:mall_category_edit", "console:employee_detail",
             "console:employee_edit", "console:department_edit", "console:employee_points",
             "console:sso_provider_edit", "console:activities_results",
             "console:activities_lottery", "console:activities_auction",
             "console:library_resource_edit", "portal:lottery", "portal:lottery_verify",
             "portal:auction", "portal:library_resource", "portal:library_comments",
             "console:im_robot", "console:im_app", "console:webhook", "console:webhook_delivery",
             "console:payroll_period"}
    known |= {f"{ns}:{short}" for ns in IMPORT_NAMESPACES for short in ("preview", "result")}
    unaccounted = [f"{name} ({route})" for name, route, params in url_names()
                   if params and not skipped(name) and name not in known]
    assert not unaccounted, ("URL names with parameters but no object to open them with "
                             "(add one to the `site` fixture or a reason to SKIPPED):\n"
                             + "\n".join(unaccounted))
    stale = [name for name in SKIPPED if name not in {n for n, _r, _p in url_names()}]
    assert not stale, f"SKIPPED names that no longer exist: {stale}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_as_a_super_admin_at_1280px(browser, live_server, site):
    context, page = _signed_in(browser, live_server, DESKTOP, "admin")
    try:
        check_all(page, pages_for(site["admin"], console=True, portal=True))
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_every_portal_page_as_an_employee(browser, live_server, site, viewport):
    context, page = _signed_in(browser, live_server, viewport, "employee")
    try:
        check_all(page, [*pages_for(site["employee"], console=False, portal=True),
                         ("password_change", reverse("password_change"))])
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(OPENED_AS))
def test_pages_for_some_roles_only(browser, live_server, site, name):
    context, page = _signed_in(browser, live_server, DESKTOP, OPENED_AS[name])
    try:
        check_all(page, [(name, reverse(name))])
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_the_sign_in_page(browser, live_server, viewport):
    context, page = _signed_in(browser, live_server, viewport, None)
    try:
        check_all(page, [("login", reverse("login"))])
    finally:
        context.close()


# --- the focus ring ----------------------------------------------------------------------

_FOCUSED = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  let back = el, bg = "rgba(0, 0, 0, 0)";
  while (back && (bg === "rgba(0, 0, 0, 0)" || bg === "transparent")) {
    back = back.parentElement;
    bg = back ? getComputedStyle(back).backgroundColor : "rgb(255, 255, 255)";
  }
  return {html: el.outerHTML.slice(0, 120), style: style.outlineStyle,
          width: parseFloat(style.outlineWidth), colour: style.outlineColor, behind: bg};
}"""


def _rgb(css: str) -> tuple[float, float, float, float]:
    parts = [float(p) for p in css[css.index("(") + 1:css.index(")")].replace("/", ",")
             .replace(" ", ",").split(",") if p]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)


def tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until the keyboard focus is on an element matching ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def assert_ring_visible(page, selector: str, shot: str) -> None:
    """The focused element has a solid ring of at least 2 px whose colour stands 3:1 from
    what is behind it (WCAG 1.4.11), and the screenshot with focus differs from one without."""
    from io import BytesIO

    from PIL import Image, ImageChops

    from jifen.core.templatetags.jifen_ui import contrast

    tab_to(page, selector)
    page.wait_for_timeout(400)  # Tabler's buttons fade their colours in
    ring = page.evaluate(_FOCUSED)
    assert ring["style"] == "solid" and ring["width"] >= 2, ring
    colour, behind = _rgb(ring["colour"]), _rgb(ring["behind"])
    assert colour[3] == 1, f"the ring is (partly) transparent: {ring}"
    assert contrast(colour[:3], behind[:3]) >= 3, ring
    box = page.evaluate("() => { const r = document.activeElement.getBoundingClientRect();"
                        " return {x: r.x, y: r.y, width: r.width, height: r.height}; }")
    clip = {"x": max(0, box["x"] - 8), "y": max(0, box["y"] - 8),
            "width": box["width"] + 16, "height": box["height"] + 16}
    RESULTS.mkdir(exist_ok=True)
    focused = page.screenshot(clip=clip, path=str(RESULTS / shot))
    page.evaluate("document.activeElement.blur()")
    unfocused = page.screenshot(clip=clip)
    diff = ImageChops.difference(Image.open(BytesIO(focused)).convert("RGB"),
                                 Image.open(BytesIO(unfocused)).convert("RGB"))
    changed = sum(diff.convert("L").histogram()[61:])  # pixels that changed clearly
    # A ring around the element changes at least its perimeter's worth of pixels.
    assert changed >= box["width"] + box["height"], f"{shot}: only {changed} pixels change"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_keyboard_focus_ring_is_visible(browser, live_server):
    from jifen.core.roles import Role
    from tests.factories import PASSWORD, EmployeeFactory

    EmployeeFactory(employee_no="A001", name="周管理", roles=[Role.SUPER_ADMIN])
    context, page = _signed_in(browser, live_server, DESKTOP, None)
    try:
        page.goto("/login/")
        assert_ring_visible(page, "form button[type=submit]", "focus-ring-sign-in.png")

        sign_in(page, "A001", PASSWORD)
        page.goto("/console/")
        # The first Tab shows "skip to content" on screen; Enter moves past the menus.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.classList.contains('jf-skip-link')")
        box = page.locator(".jf-skip-link").bounding_box()
        assert box and box["y"] >= 0 and box["height"] > 10
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('main').contains(document.activeElement)")
        page.goto("/console/")
        assert_ring_visible(page, ".jf-sidebar a.nav-link[href='/console/people/']",
                            "focus-ring-sidebar.png")
        page.goto("/console/")
        assert_ring_visible(page, "[data-testid=notifications-bell]", "focus-ring-header.png")
        page.goto("/console/")
        assert_ring_visible(page, "[data-testid=user-menu]", "focus-ring-menu.png")
    finally:
        context.close()
