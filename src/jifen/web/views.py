"""The shells of the two sites: the employee portal's home page and the console's
dashboard, which gather what several apps know, and the pages still to come. Thin: parse,
check permission, call selectors, render."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jifen.core import selectors
from jifen.core.permissions import require_capability
from jifen.core.roles import Cap, user_can
from jifen.earning import selectors as earning_selectors
from jifen.ledger import selectors as ledger_selectors
from jifen.ledger.amounts import format_points
from jifen.library.selectors import engagement as library_selectors
from jifen.mall import selectors as mall_selectors
from jifen.mall.models import OrderStatus
from jifen.notifications.ages import waited_words
from jifen.people.models import EmployeeStatus
from jifen.people.selectors import departments_visible_to, employees_visible_to

# --- employee portal ---------------------------------------------------------------------

PORTAL_PLACEHOLDERS = {
    "mall": (gettext_lazy("Points mall"), "ti-building-store",
             gettext_lazy("Exchange your points for gifts, vouchers and experiences.")),
    "points": (gettext_lazy("My points"), "ti-coins",
               gettext_lazy("Your balance, where every point came from and when it expires.")),
    "orders": (gettext_lazy("My orders"), "ti-package",
               gettext_lazy("Follow your redemptions from confirmation to delivery.")),
    "earn": (gettext_lazy("How to earn"), "ti-bulb",
             gettext_lazy("Every rule that awards points, and how much each is worth.")),
    "activities": (gettext_lazy("Activities"), "ti-gift",
                   gettext_lazy("Lotteries with draws you can check yourself, and auctions.")),
    "leaderboard": (gettext_lazy("Leaderboard"), "ti-trophy",
                    gettext_lazy("Who earned the most this month, in the company and your "
                                 "department.")),
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    hour = timezone.localtime().hour
    employee = getattr(request.user, "employee", None)
    name = employee.name if employee else request.user.get_username()
    if hour < 11:
        greeting = _("Good morning, %(name)s") % {"name": name}
    elif hour < 18:
        greeting = _("Good afternoon, %(name)s") % {"name": name}
    else:
        greeting = _("Good evening, %(name)s") % {"name": name}
    context: dict = {}
    if employee is not None:
        wallet = ledger_selectors.balance(employee=employee)
        context = {
            "spendable": format_points(wallet.spendable),
            "held": format_points(wallet.held) if wallet.held else "",
            "expiring_soon": format_points(wallet.expiring_within(30))
            if wallet.expiring_within(30) else "",
            "checkin": library_selectors.check_in_card(employee),
        }
    return render(request, "portal/home.html", {
        **context,
        "greeting": greeting,
        "employee": employee,
        "display_name": name,
        "quick_links": [(key, *PORTAL_PLACEHOLDERS[key]) for key in
                        ("mall", "points", "orders", "earn", "activities", "leaderboard")],
    })


def _portal_placeholder(key: str):
    @login_required
    def view(request: HttpRequest) -> HttpResponse:
        title, icon, description = PORTAL_PLACEHOLDERS[key]
        return render(request, "portal/coming_soon.html", {
            "page_title": title, "icon": icon, "description": description, "section": key,
        })

    view.__name__ = f"portal_{key}"
    return view



# --- console -----------------------------------------------------------------------------

# The console's sections beyond people and settings: (url name, title, icon, description,
# capability). Those still served by ``_console_placeholder`` are marked "coming soon".
CONSOLE_SECTIONS = [
    ("rules", gettext_lazy("Earning rules"), "ti-list-check",
     gettext_lazy("Event types, rules with conditions and caps, approvals and budgets."),
     Cap.MANAGE_RULES),
    ("approvals", gettext_lazy("Approvals"), "ti-circle-check",
     gettext_lazy("Discretionary awards waiting for your decision."), Cap.APPROVE_AWARDS),
    ("mall", gettext_lazy("Mall management"), "ti-building-store",
     gettext_lazy("Catalogue, stock, redemption windows, discounts and order fulfilment."),
     Cap.MANAGE_MALL),
    ("ledger", gettext_lazy("Ledger"), "ti-book",
     gettext_lazy("Every transaction, account and lot; adjustments and outstanding points."),
     Cap.VIEW_LEDGER),
    ("activities", gettext_lazy("Activities"), "ti-gift",
     gettext_lazy("Lotteries with provably fair draws, and auctions."), Cap.MANAGE_ACTIVITIES),
    ("insights", gettext_lazy("Insights"), "ti-chart-bar",
     gettext_lazy("Dashboards, rankings, liability and payroll exports."), Cap.VIEW_INSIGHTS),
]
CONSOLE_PLACEHOLDERS = {key: (title, icon, text) for key, title, icon, text, _cap
                        in CONSOLE_SECTIONS}
CONSOLE_PLACEHOLDER_CAPS = {key: cap for key, _t, _i, _d, cap in CONSOLE_SECTIONS}


def _coming_soon(url_name: str) -> bool | None:
    """Whether the page at ``url_name`` is still a placeholder (None: no such page)."""
    try:
        return getattr(resolve(reverse(url_name)).func, "coming_soon", False)
    except NoReverseMatch:
        return None


@require_capability(Cap.VIEW_CONSOLE)
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict = {}
    if user_can(user, Cap.VIEW_PEOPLE):
        employees = employees_visible_to(user)
        context["active_count"] = employees.filter(status=EmployeeStatus.ACTIVE).count()
        context["left_count"] = employees.filter(status=EmployeeStatus.LEFT).count()
        context["department_count"] = departments_visible_to(user).count()
    if user_can(user, Cap.VIEW_AUDIT):
        context["recent_audit"] = list(selectors.search_audit_log()[:6])
    context["waiting"] = _waiting_for(user)
    context["sections"] = [
        (f"console:{key}", title, icon, text, state)
        for key, title, icon, text, cap in CONSOLE_SECTIONS
        if user_can(user, cap) and (state := _coming_soon(f"console:{key}")) is not None
    ]
    return render(request, "console/dashboard.html", context)


def _waiting_for(user: Any) -> list[dict[str, Any]]:
    """The dashboard's "what waits for you" cards, one per queue the user works: how many
    wait, how long the oldest has waited, and where to deal with them. One or two bounded
    queries each."""
    cards: list[dict[str, Any]] = []
    if user_can(user, Cap.APPROVE_AWARDS):
        awards = earning_selectors.approval_waiting(user)
        cards.append({"key": "awards", "icon": "ti-circle-check", "count": awards["count"],
                      "label": _("Awards waiting for your decision"),
                      "age": waited_words(awards["oldest"]), "url": reverse("console:approvals"),
                      "parts": []})
    if user_can(user, Cap.MANAGE_MALL):
        orders = mall_selectors.waiting_orders()
        desk = reverse("console:mall")
        labels = {OrderStatus.SUBMITTED: _("%(count)s to approve"),
                  OrderStatus.APPROVED: _("%(count)s to ship or fulfil")}
        first = next((s for s in labels if orders["by_status"][s]["count"]),
                     OrderStatus.SUBMITTED)
        cards.append({
            "key": "orders", "icon": "ti-package", "count": orders["count"],
            "label": _("Orders waiting at the order desk"), "age": waited_words(orders["oldest"]),
            "url": f"{desk}?status={first}",
            "parts": [{"text": label % {"count": orders["by_status"][status]["count"]},
                       "age": waited_words(orders["by_status"][status]["oldest"]),
                       "url": f"{desk}?status={status}"}
                      for status, label in labels.items()
                      if orders["by_status"][status]["count"]],
        })
    if user_can(user, Cap.MANAGE_RULES):
        feedback = earning_selectors.feedback_waiting()
        cards.append({"key": "feedback", "icon": "ti-message-question",
                      "count": feedback["count"], "label": _("Rule feedback to answer"),
                      "age": waited_words(feedback["oldest"]),
                      "url": reverse("console:rule_feedback") + "?status=open", "parts": []})
    return cards


def _console_placeholder(key: str):
    @require_capability(CONSOLE_PLACEHOLDER_CAPS[key])
    def view(request: HttpRequest) -> HttpResponse:
        title, icon, description = CONSOLE_PLACEHOLDERS[key]
        return render(request, "console/coming_soon.html", {
            "page_title": title, "icon": icon, "description": description, "section": key,
        })

    view.__name__ = f"console_{key}"
    view.coming_soon = True  # type: ignore[attr-defined]
    return view

