"""Earning pages: "how to earn", recognition and team awards on the portal; rules, their
history, event types, the event log, approvals, penalty shortfalls, feedback and budgets
in the console. Views parse, check permission, call one service or selector, render."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jifen.core import errors
from jifen.core.pagination import keyset_page_for
from jifen.core.permissions import forbidden, htmx_partial, require_capability
from jifen.core.roles import Cap, user_can
from jifen.earning import display, selectors, services
from jifen.earning.engine import builder
from jifen.earning.forms import (
    AnswerForm,
    BudgetForm,
    CompanyValueForm,
    DecisionForm,
    EventTypeForm,
    FeedbackForm,
    ManagerAwardForm,
    RecognitionForm,
    RuleForm,
    SampleForm,
    SettingsForm,
    sample_fields,
)
from jifen.earning.models import (
    Award,
    EventStatus,
    FeedbackStatus,
    RejectReason,
    Rule,
    RuleFeedback,
)
from jifen.ledger.amounts import from_units
from jifen.ledger.models import Category
from jifen.people.models import Employee
from jifen.people.selectors import (
    colleague_card,
    colleagues_named,
    department_by_code,
    employee_by_no,
    find_employee,
    search_colleagues,
)

PAGE_SIZE = 50


def _employee(request: HttpRequest) -> Employee | None:
    return getattr(request.user, "employee", None)


def _page(request: HttpRequest, items: Any) -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


# --- portal -----------------------------------------------------------------------------------


@login_required
def earn(request: HttpRequest) -> HttpResponse:
    """"How to earn": every active rule in plain words, my recent awards, my feedback."""
    employee = _employee(request)
    rules = selectors.published_rules()
    by_category: dict[str, list[dict]] = {}
    for rule in rules:
        by_category.setdefault(rule["category"], []).append(rule)
    groups = [(label, by_category[value]) for value, label in Category.choices
              if value in by_category]
    context = {
        "groups": groups, "rule_count": len(rules), "employee": employee,
        "recent": list(selectors.my_events(employee)[:10]) if employee else [],
        "my_feedback": list(selectors.my_feedback(employee)[:10]) if employee else [],
        "feedback_form": FeedbackForm(),
        "can_approve": user_can(request.user, Cap.APPROVE_AWARDS),
        "approvals_waiting": selectors.approval_queue(request.user).count()
        if user_can(request.user, Cap.APPROVE_AWARDS) else 0,
        "manages": selectors.manages_a_department(employee),
    }
    return render(request, "earning/portal/earn.html", context)


@login_required
@require_POST
def send_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    employee = _employee(request)
    rule = get_object_or_404(Rule, pk=pk, active=True)
    form = FeedbackForm(request.POST)
    if employee is None:
        messages.error(request, _("Only employees can send feedback."))
    elif form.is_valid():
        try:
            services.send_rule_feedback(employee=employee, rule=rule,
                                        message=form.cleaned_data["message"])
        except errors.JifenError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Thank you — your feedback was sent."))
    else:
        messages.error(request, _("Write your feedback."))
    return redirect("portal:earn")


def _recipient(form: RecognitionForm, employee: Employee) -> Employee | None:
    """The colleague the form names — picked (``recipient_no``) or typed — or None, with the
    form told why."""
    number = form.cleaned_data.get("recipient_no", "").strip()
    if number:
        found = find_employee(number)
        if found is None:
            form.add_error("recipient", _("No colleague has this employee number."))
        return found
    matches = colleagues_named(form.cleaned_data["recipient"], viewer=employee)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        form.add_error("recipient", _("No colleague matches “%s”.")
                       % form.cleaned_data["recipient"])
    else:
        form.add_error("recipient", _("Several colleagues match: %s. Pick one from the list.")
                       % "; ".join(f"{e.name} ({e.employee_no}, {e.department.name})"
                                   for e in matches))
    return None


def _mentioned(form: RecognitionForm) -> list[Employee]:
    found = (find_employee(number) for number in form.mention_numbers())
    return [e for e in found if e is not None]


@login_required
def recognition(request: HttpRequest) -> HttpResponse:
    """The recognition feed (company, my department, or one person's) and the form to thank
    someone: a people picker, company values as tags and @mentions in the message."""
    employee = _employee(request)
    scope = request.GET.get("scope", "company")
    department = employee.department.code if employee and scope == "department" else None
    person_no = request.GET.get("person", "").strip()[:40]
    person = find_employee(person_no) if person_no else None
    form = RecognitionForm(request.POST or None)
    status = 200
    if request.method == "POST" and employee is not None:
        recipient = _recipient(form, employee) if form.is_valid() else None
        if recipient is not None:
            try:
                services.give_recognition(
                    giver=employee, recipient=recipient, points=form.cleaned_data["points"],
                    message=form.cleaned_data["message"],
                    values=form.cleaned_data["values"], mentions=_mentioned(form))
            except errors.JifenError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Thanks sent to %s.") % recipient.name)
                return redirect("portal:recognition")
        status = 422
    context = {
        "feed": _page(request, selectors.recognition_feed(department_code=department,
                                                          person=person)),
        "scope": scope, "person": person, "form": form, "employee": employee,
        "allowance_left": services.allowance_left(employee) if employee else 0,
        "allowance": services.earning_settings().monthly_allowance,
    }
    template = "earning/portal/recognition.html"
    if htmx_partial(request) and request.method == "GET":
        template += "#feed"
    return render(request, template, context, status=status)


@login_required
def recognition_people(request: HttpRequest) -> JsonResponse:
    """The people picker's answers (JSON, like GET /api/v1/people/search): colleagues
    matching ``q``, never the viewer, with public fields only."""
    found = search_colleagues(request.GET.get("q", ""), viewer=_employee(request),
                              limit=8)
    return JsonResponse({"items": [colleague_card(e) for e in found]})


@login_required
def team_awards(request: HttpRequest) -> HttpResponse:
    """A manager awards team members from the department budget."""
    employee = _employee(request)
    if employee is None or not selectors.manages_a_department(employee):
        return forbidden(request, _("Only department managers award from a budget."))
    members = list(selectors.team_members(employee))
    form = ManagerAwardForm(request.POST or None, members=members)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            recipient = next(m for m in members
                             if m.employee_no == form.cleaned_data["recipient"])
            try:
                services.award_from_budget(
                    manager=employee, recipient=recipient, points=form.cleaned_data["points"],
                    message=form.cleaned_data["message"],
                    category=form.cleaned_data["category"], actor=request.user)
            except errors.JifenError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("%(points)s points awarded to %(name)s.")
                                 % {"points": form.cleaned_data["points"],
                                    "name": recipient.name})
                return redirect("portal:team_awards")
        status = 422
    context = {"form": form, "budgets": selectors.managed_budgets(employee),
               "given": selectors.manager_awards(employee)[:20], "scale": selectors.scale()}
    return render(request, "earning/portal/team_awards.html", context, status=status)


# --- console: rules ----------------------------------------------------------------------------


@require_capability(Cap.MANAGE_RULES)
def rule_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    active = {"active": True, "inactive": False}.get(request.GET.get("status", ""))
    rules = list(selectors.rules(active=active, q=q))
    unit = selectors.unit()
    for rule in rules:
        rule.formula_text = display.describe_formula(rule.formula, unit, rule.event_type)
        rule.condition_text = services.condition_in_words(rule.condition_rows, rule.event_type)
    context = {
        "rules": rules, "q": q,
        "status": request.GET.get("status", ""),
        "pending": selectors.approval_queue(request.user).count(),
        "open_feedback": selectors.open_feedback_count(),
        "shortfall": selectors.penalty_shortfall_total(), "scale": selectors.scale(),
    }
    return render(request, "earning/console/rules.html", context)


def _form_problems(form: RuleForm) -> list[str]:
    """Each error of the rule form with the field it belongs to ("Name: …")."""
    problems = []
    for name, errs in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        problems += [f"{label}: {e}" if label else str(e) for e in errs]
    return problems


def _preview(request: HttpRequest, form: RuleForm, sample: SampleForm,
             rule: Rule | None) -> dict[str, Any]:
    """The answer of "Try it", always in words: the rule's verdict on the sample, or what
    is wrong with the rule or the sample, field by field."""
    if not form.is_valid():
        return {"matched": False, "error": True, "problems": _form_problems(form),
                "summary": _("Fix the rule first.")}
    if not sample.is_valid():
        return {"matched": False, "error": True,
                "problems": [f"{sample.fields[n].label}: {e}" for n, errs in sample.errors.items()
                             for e in errs], "summary": _("Fix the sample first.")}
    data = form.rule_data()
    payload, problems = sample_fields(data["event_type"], request.POST,
                                      sample.cleaned_data["sample_payload"])
    if problems:
        return {"matched": False, "error": True, "problems": problems,
                "summary": _("Fix the sample first.")}
    employee_no = sample.cleaned_data.get("sample_employee_no", "").strip()
    employee = None
    if employee_no:
        try:
            employee = employee_by_no(employee_no)
        except errors.ValidationError:
            return {"matched": False, "error": True,
                    "summary": _("No employee has the number %s.") % employee_no}
    try:
        return services.preview_rule(data=data, employee=employee, payload=payload, rule=rule)
    except errors.JifenError as exc:
        return {"matched": False, "error": True, "summary": exc.message}


def _compiled(request: HttpRequest) -> dict[str, Any]:
    """The condition the builder's rows compile to (or, in words, why they do not); needs
    only the event type and the rows, not the rest of the rule."""
    event_type = selectors.event_types().filter(code=request.POST.get("event_type", "")).first()
    if event_type is None:
        return {"problems": [_("Choose an event type.")]}
    try:
        rows = json.loads(request.POST.get("condition_rows") or '{"rows": []}')
        return {"cel": builder.compile_rows(rows, event_type.schema)[1]}
    except ValueError:
        return {"problems": [_("The condition rows could not be read.")]}
    except errors.JifenError as exc:
        return {"problems": [exc.message]}


def _backtest(form: RuleForm, rule: Rule | None) -> dict[str, Any]:
    if not form.is_valid():
        return {"problems": _form_problems(form)}
    try:
        result = selectors.rule_backtest(data=form.rule_data())
    except errors.JifenError as exc:
        return {"problems": [exc.message]}
    for row in result["by_department"]:
        row["points_text"] = f"{from_units(row['points']):,}"
    return {"result": result, "summary": result["summary"]}


@require_capability(Cap.MANAGE_RULES)
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The rule editor: the condition as rows (or CEL in advanced mode), only the fields
    the chosen formula needs. htmx posts ``compile`` (the rows' CEL), ``preview`` (a
    sample event) and ``backtest`` (last month's events) without saving; ``draft`` saves a
    draft, ``publish`` saves and publishes it."""
    rule = get_object_or_404(selectors.rules(), pk=pk) if pk else None
    initial = RuleForm.initial_for(rule) if rule else {"active": True}
    form = RuleForm(request.POST or None, initial=initial)
    sample = SampleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if "compile" in request.POST:
            return render(request, "earning/console/rule_form.html#compiled",
                          {"compiled": _compiled(request)})
        if "preview" in request.POST:
            return render(request, "earning/console/rule_form.html#preview",
                          {"result": _preview(request, form, sample, rule)})
        if "backtest" in request.POST:
            return render(request, "earning/console/rule_form.html#backtest",
                          {"backtest": _backtest(form, rule)})
        if not form.is_valid():
            status = 422
        else:
            try:
                data = form.rule_data()
                reason = form.cleaned_data.get("reason", "")
                rule = services.save_rule_draft(actor=request.user, rule=rule, reason=reason,
                                                **data)
                if "draft" not in request.POST:  # "publish", or a plain submit
                    before = rule.version
                    rule = services.publish_rule(rule=rule, actor=request.user, reason=reason)
                    messages.success(request, _("Published as version %d.") % rule.version
                                     if rule.version != before else _("Nothing changed."))
                    return redirect("console:rule_history", rule.pk)
                messages.success(request, _("Draft saved: events are not scored by it until "
                                            "you publish it."))
                return redirect("console:rule_edit", rule.pk)
            except errors.JifenError as exc:
                field = ("condition" if form.condition_data()["condition_rows"] is None
                         else "condition_rows") if exc.code in {
                    "invalid_condition", "condition_too_costly"} else None
                form.add_error(field, exc.message)
                status = 422
    return render(request, "earning/console/rule_form.html",
                  {"form": form, "sample": sample, "rule": rule,
                   "builder": selectors.rule_builder_data(),
                   "asks_reason": rule is not None and not rule.is_draft,
                   "rows_errors": form.errors.get("condition_rows", [])}, status=status)


def _diff_value(version: Any, side: str) -> Any:
    for change in version.diff or []:
        if isinstance(change, dict) and change.get("field") == "condition_rows":
            return change.get(side)
    return None


@require_capability(Cap.MANAGE_RULES)
def rule_history(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(selectors.rules(), pk=pk)
    versions = selectors.rule_history(rule)
    display.version_changes(versions, unit=selectors.unit())
    for version in versions:  # the builder's rows in words, not as JSON
        for change in version.changes:
            if change["field"] == "condition_rows":
                change["old"] = None if change["old"] is None else (
                    services.condition_in_words(_diff_value(version, "old"), rule.event_type)
                    or "—")
                change["new"] = services.condition_in_words(
                    _diff_value(version, "new"), rule.event_type) or "—"
    return render(request, "earning/console/rule_history.html",
                  {"rule": rule, "versions": versions})


@require_capability(Cap.MANAGE_RULES)
def event_types(request: HttpRequest) -> HttpResponse:
    form = EventTypeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.create_event_type(actor=request.user, **form.cleaned_data)
            except errors.JifenError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Event type created."))
                return redirect("console:event_types")
        status = 422
    return render(request, "earning/console/event_types.html",
                  {"types": selectors.event_types(), "form": form}, status=status)


@require_capability(Cap.MANAGE_RULES)
def event_log(request: HttpRequest) -> HttpResponse:
    filters = {
        "employee": request.GET.get("employee", "").strip(),
        "type_code": request.GET.get("type", "").strip(),
        "source": request.GET.get("source", "").strip(),
        "status": request.GET.get("outcome", "").strip(),
    }
    job = request.GET.get("import")
    events = selectors.event_log(**filters, import_job=int(job) if job and job.isdigit()
                                 else None)
    order = ("row_number", "pk") if job and job.isdigit() else ("-pk",)
    context = {
        "page": keyset_page_for(request, events, order=order, limit=PAGE_SIZE),
        "filters": filters,
        "types": selectors.event_types_by_code(),
        "outcomes": [*EventStatus.choices, *[(r.value, r.label) for r in RejectReason
                                              if r != RejectReason.REJECTED_BY_APPROVER]],
        "scale": selectors.scale(),
    }
    template = "earning/console/event_log.html"
    if htmx_partial(request):
        template += "#results"
    return render(request, template, context)


@require_capability(Cap.MANAGE_RULES)
def shortfalls(request: HttpRequest) -> HttpResponse:
    """Penalties the wallets could not cover in full."""
    return render(request, "earning/console/shortfalls.html", {
        "page": _page(request, selectors.penalty_shortfalls()),
        "total": selectors.penalty_shortfall_total(), "scale": selectors.scale()})


# --- console: approvals ----------------------------------------------------------------------


@require_capability(Cap.APPROVE_AWARDS)
def approvals(request: HttpRequest) -> HttpResponse:
    return render(request, "earning/console/approvals.html", {
        "page": _page(request, selectors.approval_queue(request.user)),
        "scale": selectors.scale()})


@require_capability(Cap.APPROVE_AWARDS)
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    award = get_object_or_404(Award, pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect("console:approvals")
    try:
        if form.cleaned_data["decision"] == "approve":
            points = form.cleaned_data.get("points")
            if points is None:
                raise errors.ValidationError(_("Enter the points to award."))
            services.approve_award(award=award, actor=request.user, points=points,
                                   reason=form.cleaned_data.get("reason") or "")
            messages.success(request, _("Approved: %(points)s points for %(name)s.")
                             % {"points": points, "name": award.employee.name})
        else:
            services.reject_award(award=award, actor=request.user,
                                  reason=form.cleaned_data.get("reason") or "")
            messages.success(request, _("Rejected."))
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    return redirect("console:approvals")


# --- console: feedback, budgets, settings -----------------------------------------------------


@require_capability(Cap.MANAGE_RULES)
def feedback_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    return render(request, "earning/console/feedback.html", {
        "page": _page(request, selectors.feedback(status=status if status != "all" else "")),
        "status": status, "statuses": FeedbackStatus.choices, "form": AnswerForm()})


@require_capability(Cap.MANAGE_RULES)
@require_POST
def feedback_answer(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(RuleFeedback, pk=pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.answer_rule_feedback(feedback=item, actor=request.user,
                                          answer=form.cleaned_data["answer"],
                                          status=form.cleaned_data["status"])
        except errors.JifenError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Answer sent."))
    else:
        messages.error(request, _("Write an answer."))
    return redirect("console:rule_feedback")


@require_capability(Cap.MANAGE_RULES)
def company_values(request: HttpRequest) -> HttpResponse:
    """The company values thank-yous carry as tags: rename, take out of use, add."""
    values = list(selectors.company_values(include_inactive=True))
    editing = next((v for v in values if str(v.pk) == request.POST.get("value")), None)
    forms_by_pk = {
        v.pk: CompanyValueForm(request.POST if editing is v else None, prefix=f"v{v.pk}",
                               initial={"name": v.name, "name_en": v.name_en,
                                        "active": v.active})
        for v in values}
    adding = request.method == "POST" and editing is None
    new_form = CompanyValueForm(request.POST if adding else None, prefix="new")
    form = forms_by_pk[editing.pk] if editing is not None else new_form
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                if editing is not None:
                    services.update_company_value(actor=request.user, value=editing,
                                                  name=data["name"], name_en=data["name_en"],
                                                  active=data["active"])
                else:
                    services.create_company_value(actor=request.user, name=data["name"],
                                                  name_en=data["name_en"])
            except errors.JifenError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Saved."))
                return redirect("console:company_values")
        status = 422
    return render(request, "earning/console/company_values.html", {
        "rows": [(v, forms_by_pk[v.pk]) for v in values], "new_form": new_form},
        status=status)


@require_capability(Cap.MANAGE_RULES)
def budgets(request: HttpRequest) -> HttpResponse:
    form = BudgetForm(request.POST or None, prefix="budget")
    settings_form = SettingsForm(
        request.POST if "allowance" in request.POST else None, prefix="settings",
        initial={"monthly_allowance": services.earning_settings().monthly_allowance})
    status = 200
    if request.method == "POST" and "allowance" in request.POST:
        if settings_form.is_valid():
            services.update_earning_settings(
                actor=request.user,
                monthly_allowance=settings_form.cleaned_data["monthly_allowance"])
            messages.success(request, _("Saved."))
            return redirect("console:budgets")
        status = 422
    elif request.method == "POST":
        if form.is_valid():
            department = department_by_code(form.cleaned_data["department"].strip())
            if department is None:
                form.add_error("department", _("No department has this code."))
            else:
                try:
                    services.fund_department_budget(
                        department=department, points=form.cleaned_data["points"],
                        category=form.cleaned_data["category"],
                        period=form.cleaned_data.get("period") or "", actor=request.user)
                except errors.JifenError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(request, _("Budget added to %s.") % department.name)
                    return redirect("console:budgets")
        status = 422
    return render(request, "earning/console/budgets.html", {
        "form": form, "settings_form": settings_form, "rows": selectors.budget_rows(),
        "scale": selectors.scale()}, status=status)
