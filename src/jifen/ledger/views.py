"""Ledger web pages: the employee's "My points" (balance, history, export) and the console's
adjustments, ledger browser and outstanding points. Thin: parse, check permission, call a
selector or service, render."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from jifen.core import errors
from jifen.core.exports import CONTENT_TYPES, spreadsheet_response
from jifen.core.pagination import keyset_page_for
from jifen.core.permissions import require_capability
from jifen.core.redirects import next_path
from jifen.core.roles import Cap, user_can
from jifen.ledger import hooks, selectors, services
from jifen.ledger.amounts import format_points, from_units
from jifen.ledger.forms import (
    AccountFilterForm,
    AdjustForm,
    HistoryFilterForm,
    TransactionFilterForm,
)
from jifen.ledger.models import (
    Account,
    AccountKind,
    Category,
    Entry,
    Transaction,
    TransactionKind,
)
from jifen.people.models import Employee
from jifen.people.selectors import search_employees, visible_employee

PAGE_SIZE = 20
# The adjustment form's field that a refusal of ``services.check_adjustment`` is about.
ADJUSTMENT_ERROR_FIELDS = {"invalid_amount": "amount", "reason_required": "reason"}

# What caused a movement, as a label and (when there is a page for it) a link.
CAUSE_LABELS = {
    "mall.order": gettext_lazy("Mall order"),
    "earning.event": gettext_lazy("Earning event"),
    "earning.manageraward": gettext_lazy("Manager award"),
    "earning.recognition": gettext_lazy("Recognition"),
    "ledger.adjustment": gettext_lazy("Manual adjustment"),
    "ledger.lot": gettext_lazy("Points expired"),
    "ledger.transaction": gettext_lazy("Reversal"),
    "people.employee": gettext_lazy("Employee record"),
    "people.department": gettext_lazy("Department"),
    "demo.mall": gettext_lazy("Demo data"),
}
# The console page of a cause and who may open it: no link where it would be a 403.
CONSOLE_CAUSE_PAGES = {"mall.order": ("console:mall_order", Cap.MANAGE_MALL),
                       "ledger.transaction": ("console:ledger_transaction", Cap.VIEW_LEDGER)}


def console_cause_links(user: Any) -> dict[str, str]:
    return {cause: name for cause, (name, cap) in CONSOLE_CAUSE_PAGES.items()
            if user_can(user, cap)}


def signed(units: int) -> str:
    """Units as text with an explicit sign: "+100", "−50" (a true minus sign)."""
    return ("+" if units > 0 else "−" if units < 0 else "") + format_points(abs(units))


# Accounts of the company in words ("Adjustments (company)", never "sink:adjustment").
COMPANY_ACCOUNT_NAMES = {
    AccountKind.REDEMPTION: gettext_lazy("Redemptions (company)"),
    AccountKind.EXPIRY: gettext_lazy("Expired points (company)"),
    AccountKind.FORFEITURE: gettext_lazy("Forfeited points (company)"),
    AccountKind.ACTIVITIES: gettext_lazy("Activities (company)"),
    AccountKind.ADJUSTMENT: gettext_lazy("Adjustments (company)"),
}


def account_name(account: Account) -> str:
    """An account as a person names it: whose it is and what it holds."""
    if account.kind in COMPANY_ACCOUNT_NAMES:
        return str(COMPANY_ACCOUNT_NAMES[account.kind])
    if account.kind == AccountKind.ISSUANCE:
        return _("Points issued for %(category)s (company)") % {
            "category": account.get_category_display() or account.category}
    if account.employee_id is not None:
        person = account.employee
        return _("%(kind)s of %(name)s (%(number)s)") % {
            "kind": account.get_kind_display(), "name": person.name,
            "number": person.employee_no}
    if account.department_id is not None:
        return _("%(kind)s of %(department)s") % {"kind": account.get_kind_display(),
                                                   "department": account.department.name}
    return str(account.get_kind_display())


def cause_words(txns: list[Transaction], user: Any) -> dict[int, dict[str, str]]:
    """What caused each transaction, for the console: the words of the app it came from
    ("Order M000171 午睡毯", with a link where ``user`` may open it), else a general label
    ("Manual adjustment") — never its type code."""
    described = hooks.describe_causes([(t.cause_type, t.cause_id) for t in txns],
                                      for_employee=False)
    links = console_cause_links(user)
    words = {}
    for txn in txns:
        info = described.get((txn.cause_type, txn.cause_id))
        if info is not None:
            url = (info.url_for_console if info.url_for_console
                   and (not info.console_cap or user_can(user, info.console_cap)) else "")
            words[txn.pk] = {"label": info.label, "status": info.status_label, "url": url,
                             "headline": selectors.transaction_description(txn, info)}
        else:
            cause = _cause(txn, links)
            words[txn.pk] = {"label": cause["label"] if txn.cause_type else "", "status": "",
                             "url": cause["url"],
                             "headline": selectors.transaction_description(txn, None)}
    return words


def _cause(txn: Transaction, links: dict[str, str]) -> dict[str, str]:
    label = CAUSE_LABELS.get(txn.cause_type, _("Other"))
    url = ""
    if txn.cause_type in links and txn.cause_id.isdigit():
        try:
            url = reverse(links[txn.cause_type], args=[int(txn.cause_id)])
        except NoReverseMatch:
            url = ""
    return {"label": str(label), "id": txn.cause_id, "url": url}


def _line(entry: Entry, links: dict[str, str]) -> dict[str, Any]:
    txn = entry.transaction
    return {
        "id": txn.pk,
        "time": timezone.localtime(txn.created_at),
        "kind": txn.get_kind_display(),
        "category": txn.get_category_display() if txn.category else "",
        "reason": txn.reason,
        "amount": entry.amount,
        "amount_text": signed(entry.amount),
        "balance_after": (format_points(entry.balance_after)
                          if entry.balance_after is not None else ""),
        "cause": _cause(txn, links),
    }


# --- employee portal ---------------------------------------------------------------------

def _lost_to_the_window(wallet: selectors.Balance, now: datetime) -> dict[str, Any] | None:
    """Points that expire while the mall is closed, so they can never be spent: when the
    mall is closed, those expiring before it opens again; when it is open but closes,
    those expiring after it closes and before it reopens (None: nothing is at risk)."""
    spell = hooks.next_closed_spell(now)
    if spell is None:
        return None
    closed_from = spell.closes_at or now
    lost = [e for e in wallet.expiring if e["expires_at"] > closed_from
            and (spell.opens_at is None or e["expires_at"] < spell.opens_at)]
    if not lost:
        return None
    return {"amount": format_points(sum(e["amount"] for e in lost)),
            "first_expiry": timezone.localtime(lost[0]["expires_at"]),
            "closes_at": timezone.localtime(spell.closes_at) if spell.closes_at else None,
            "opens_at": timezone.localtime(spell.opens_at) if spell.opens_at else None}


def history_context(lines: list[selectors.HistoryLine], *, user: Any,
                    for_employee: bool) -> list[dict[str, Any]]:
    """The honest history's lines as the templates show them: words, signed amounts, the
    running balance, the steps, and a link to the cause where the reader may open it."""
    shown = []
    for line in lines:
        info = line.cause
        url = ""
        if info is not None:
            if for_employee:
                url = info.url_for_employee
            elif info.url_for_console and (not info.console_cap
                                           or user_can(user, info.console_cap)):
                url = info.url_for_console
        shown.append({
            "id": line.transaction_id,
            "time": timezone.localtime(line.at),
            "description": line.description,
            "status": line.status,
            "reason": line.reason,
            "kind": (TransactionKind(line.kind).label if line.kind in TransactionKind.values
                     else line.kind),
            "category": Category(line.category).label if line.category in Category.values else "",
            "amount": line.amount,
            "amount_text": signed(line.amount) if line.amount else "0",
            "balance_after": format_points(line.balance_after),
            "url": url,
            "steps": [{"label": step.label, "time": timezone.localtime(step.at),
                       "amount_text": signed(step.amount) if step.amount else "—"}
                      for step in line.steps],
        })
    return shown


def history_page(request: HttpRequest, employee: Employee, filters: dict[str, Any], *,
                 for_employee: bool, per_page: int = PAGE_SIZE) -> tuple[Any, list[dict]]:
    """One page of the employee's honest history and its lines for the template."""
    page = Paginator(selectors.history_lines_query(employee=employee, **filters),
                     per_page).get_page(request.GET.get("page"))
    lines = selectors.history_lines(list(page.object_list), employee=employee,
                                    for_employee=for_employee)
    return page, history_context(lines, user=request.user, for_employee=for_employee)


@login_required
def my_points(request: HttpRequest) -> HttpResponse:
    employee = getattr(request.user, "employee", None)
    form = HistoryFilterForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "employee": employee}
    if employee is not None:
        now = timezone.now()
        wallet = selectors.balance(employee=employee, now=now)
        horizon = now + timedelta(days=90)
        filters = form.filters()
        page, lines = history_page(request, employee, filters, for_employee=True)
        context.update({
            "spendable": format_points(wallet.spendable),
            "held": format_points(wallet.held),
            "expiring_30": format_points(wallet.expiring_within(30, now)),
            "expiring_90": format_points(wallet.expiring_within(90, now)),
            "lost_to_window": _lost_to_the_window(wallet, now),
            "expiring": [{"amount": format_points(e["amount"]),
                          "date": timezone.localtime(e["expires_at"]),
                          "soon": e["expires_at"] <= now + timedelta(days=30)}
                         for e in wallet.expiring if e["expires_at"] <= horizon],
            "page": page,
            "lines": lines,
            "filtered": any(filters.values()),
            "query": request.GET.urlencode() if form.is_bound else "",
        })
    return render(request, "ledger/my_points.html", context)


@login_required
def my_points_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The signed-in employee's history with the page's filters, as CSV (UTF-8 with BOM,
    for Excel) or XLSX. Points are numbers in the workbook and fixed-decimal text in CSV."""
    employee = getattr(request.user, "employee", None)
    if employee is None or fmt not in CONTENT_TYPES:
        raise Http404
    form = HistoryFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        # Exporting everything instead would hand over a file that is not what was asked.
        messages.error(request, _("Fix the filter before exporting."))
        return redirect(f"{reverse('portal:points')}?{request.GET.urlencode()}")
    entries = selectors.history(employee=employee, **form.filters())
    header = [_("Time"), _("Type"), _("Category"), _("Reason"), _("Points"), _("Balance"),
              _("Description")]
    points = from_units if fmt == "xlsx" else format_points

    def chunk(batch: list[Entry]):
        # Words for a whole chunk at once: one describer call per type of cause.
        words = selectors.entry_words(batch, for_employee=True)
        for entry in batch:
            line = _line(entry, {})
            yield [line["time"].strftime("%Y-%m-%d %H:%M:%S"), line["kind"], line["category"],
                   line["reason"], points(entry.amount),
                   points(entry.balance_after) if entry.balance_after is not None else None,
                   words[entry.pk][0]]

    def rows():
        batch: list[Entry] = []
        for entry in entries.iterator(chunk_size=500):
            batch.append(entry)
            if len(batch) == 500:
                yield from chunk(batch)
                batch = []
        yield from chunk(batch)

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return spreadsheet_response(fmt=fmt, filename=f"points-{employee.employee_no}-{stamp}",
                                header=header, rows=rows(), sheet_title="points")


# --- console: adjustments ----------------------------------------------------------------

def _employee_picker(request: HttpRequest) -> dict[str, Any]:
    q = request.GET.get("q", "").strip()[:80]
    found = list(search_employees(user=request.user, q=q)[:20]) if q else []
    return {"q": q, "found": found}


@require_capability(Cap.ADJUST_POINTS)
@require_http_methods(["GET", "POST"])
def adjust(request: HttpRequest) -> HttpResponse:
    """Pick an employee, enter ± amount and reason, confirm, post once. The idempotency
    key is made when the form is first shown, so posting the confirmation twice (a double
    click, a reload) moves the points once."""
    visible = search_employees(user=request.user)
    number = (request.POST.get("employee") if request.method == "POST"
              else request.GET.get("employee", "")) or ""
    employee = visible.filter(employee_no=number).first() if number else None
    # Where to go once posted (the employee's profile, when started there): a path on this
    # site only, never another site's address.
    back = next_path(request)
    context: dict[str, Any] = {"employee": employee, "next": back, **_employee_picker(request)}
    if employee is None:
        if number:
            messages.error(request, _("Unknown employee %s.") % number)
        return render(request, "ledger/console/adjust.html", context)
    current = selectors.balance(employee=employee)
    context["current"] = format_points(current.spendable)
    if request.method == "GET":
        form = AdjustForm(initial={"employee": employee.employee_no,
                                   "key": uuid.uuid4().hex})
        return render(request, "ledger/console/adjust.html", {**context, "form": form})
    form = AdjustForm(request.POST)
    if form.is_valid() and form.cleaned_data["employee"] != employee.employee_no:
        raise Http404  # pragma: no cover - the employee comes from the same field
    if form.is_valid():
        try:
            services.check_adjustment(employee=employee, amount=form.cleaned_data["amount"],
                                      reason=form.cleaned_data["reason"], actor=request.user)
        except errors.JifenError as exc:
            form.add_error(ADJUSTMENT_ERROR_FIELDS.get(exc.code), exc.message)
    if not form.is_valid():
        return render(request, "ledger/console/adjust.html", {**context, "form": form})
    amount = form.cleaned_data["amount"]
    if request.POST.get("confirm") != "1":
        if amount < 0 and current.spendable + amount < 0:
            form.add_error("amount", _("%(name)s has only %(points)s points to take away.") % {
                "name": employee.name, "points": format_points(current.spendable)})
            return render(request, "ledger/console/adjust.html", {**context, "form": form})
        return render(request, "ledger/console/adjust_confirm.html", {
            **context, "form": form, "amount": amount,
            "amount_text": signed(amount),
            "result": format_points(current.spendable + amount),
        })
    key = f"web:adjust:{request.user.pk}:{form.cleaned_data['key']}"
    posted_before = selectors.is_posted(key)
    try:
        txn = services.adjust(employee=employee, amount=amount,
                              reason=form.cleaned_data["reason"], actor=request.user,
                              idempotency_key=key)
    except errors.JifenError as exc:
        form.add_error(None, exc.message)
        return render(request, "ledger/console/adjust.html", {**context, "form": form})
    if posted_before:
        messages.info(request, _("This adjustment was already posted; nothing more changed."))
    else:
        messages.success(request, _("Adjusted %(name)s by %(points)s points.") % {
            "name": employee.name, "points": signed(amount)})
    if back:
        return HttpResponseRedirect(back)
    return redirect("console:ledger_transaction", pk=txn.pk)


# --- console: an employee's points ---------------------------------------------------------

PROFILE_LINES = 20


def _visible_employee(request: HttpRequest, pk: int) -> Employee:
    employee = visible_employee(request.user, pk)
    if employee is None:
        raise Http404
    return employee


def points_summary(employee: Employee) -> dict[str, str]:
    """An employee's balance as the console shows it: available, held, expiring in 30 days."""
    now = timezone.now()
    wallet = selectors.balance(employee=employee, now=now)
    return {"spendable": format_points(wallet.spendable), "held": format_points(wallet.held),
            "expiring_30": format_points(wallet.expiring_within(30, now))}


def profile_points(request: HttpRequest, employee: Employee) -> dict[str, Any]:
    """What the employee's console profile shows of their points: the balance and the
    latest lines of their honest history (for whoever may view the ledger)."""
    entries = list(selectors.history_lines_query(employee=employee)[:PROFILE_LINES])
    lines = selectors.history_lines(entries, employee=employee, for_employee=False)
    return {**points_summary(employee),
            "lines": history_context(lines, user=request.user, for_employee=False)}


@require_capability(Cap.VIEW_LEDGER)
def employee_points(request: HttpRequest, pk: int) -> HttpResponse:
    """An employee's whole history in the console, with the portal's filters."""
    employee = _visible_employee(request, pk)
    form = HistoryFilterForm(request.GET or None)
    filters = form.filters()
    page, lines = history_page(request, employee, filters, for_employee=False)
    return render(request, "ledger/console/employee_points.html", {
        "employee": employee, "form": form, "page": page, "lines": lines,
        "filtered": any(filters.values()), **points_summary(employee),
    })


# --- console: ledger browser -------------------------------------------------------------

@require_capability(Cap.VIEW_LEDGER)
def transactions(request: HttpRequest) -> HttpResponse:
    form = TransactionFilterForm(request.GET or None)
    filters = form.filters()
    txns = selectors.transactions(**filters)
    page = keyset_page_for(request, txns, order=("-pk",), limit=25)
    rows = []
    txns = list(page.object_list)
    words = cause_words(txns, request.user)
    for txn in txns:
        names = []
        for entry in txn.employee_entries:
            label = f"{entry.account.employee.name} ({entry.account.employee.employee_no})"
            if label not in names:
                names.append(label)
        rows.append({"txn": txn, "employees": names, "amount": format_points(txn.amount),
                     "cause": words[txn.pk]})
    return render(request, "ledger/console/transactions.html", {
        "form": form, "page": page, "rows": rows, "filtered": any(filters.values()),
    })


@require_capability(Cap.VIEW_LEDGER)
def transaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    txn = selectors.transaction_by_id(pk)
    if txn is None:
        raise Http404
    entries = [{"entry": e, "amount": signed(e.amount), "name": account_name(e.account),
                "balance_after": format_points(e.balance_after)
                if e.balance_after is not None else ""}
               for e in selectors.transaction_entries(txn)]
    consumed = [{"use": c, "amount": format_points(c.amount),
                 "parked": format_points(c.parked) if c.parked else ""}
                for c in selectors.lot_consumptions(txn)]
    return render(request, "ledger/console/transaction.html", {
        "txn": txn, "amount": format_points(txn.amount), "entries": entries,
        "consumed": consumed, "cause": cause_words([txn], request.user)[txn.pk],
        "reversed_by": selectors.reversal_of(txn),
    })


@require_capability(Cap.VIEW_LEDGER)
def accounts(request: HttpRequest) -> HttpResponse:
    form = AccountFilterForm(request.GET or None)
    filters = ({"kind": form.cleaned_data["kind"] or None, "q": form.cleaned_data["q"].strip()}
               if form.is_bound and form.is_valid() else {})
    rows = selectors.accounts(**filters)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(request, "ledger/console/accounts.html", {
        "form": form, "page": page,
        "rows": [{"account": a, "name": account_name(a), "balance": format_points(a.balance)}
                 for a in page.object_list],
    })


@require_capability(Cap.VIEW_LEDGER)
def outstanding(request: HttpRequest) -> HttpResponse:
    """What the company owes in points, in total and per department (per head: per active
    employee of the department, whether they hold points or not)."""
    departments = selectors.outstanding_by_department()
    keys = ("spendable", "held", "expiring_30", "expiring_90", "expired_unswept")
    totals = {k: format_points(sum(row[k] for row in departments)) for k in keys}

    def shown(row: dict[str, Any]) -> dict[str, Any]:
        heads = row["headcount"]
        return {**row, **{k: format_points(row[k]) for k in keys},
                "per_head": format_points(row["spendable"] // heads) if heads else "",
                "raw_spendable": row["spendable"]}

    return render(request, "ledger/console/outstanding.html", {
        "totals": totals, "departments": [shown(row) for row in departments],
    })

