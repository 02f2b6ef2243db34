"""How the audit log names earning's objects and the values their snapshots keep as codes
(registered from ``EarningConfig.ready``; see ``jifen.core.describe``)."""

from __future__ import annotations

from collections.abc import Callable, Collection

from django.utils.translation import gettext as _

from jifen.core.describe import (
    by_pk,
    register_object_describer,
    register_value_describer,
    register_value_formatter,
)
from jifen.core.roles import Cap
from jifen.earning.display import RuleValues
from jifen.earning.models import Award, EarningSettings, EventType, Rule, RuleFeedback
from jifen.earning.selectors import unit


def event_types_by_code(codes: Collection[str]) -> dict[str, str]:
    return {t.code: t.display_name for t in EventType.objects.filter(code__in=list(codes))}


def register() -> None:
    register_object_describer("earning.rule", by_pk(
        Rule, lambda r: _("Rule %(name)s") % {"name": r.name},
        url_name="console:rule_history", capability=Cap.MANAGE_RULES, name=lambda r: r.name))
    register_object_describer("earning.eventtype", by_pk(
        EventType, lambda t: _("Event type %(name)s") % {"name": t.display_name},
        url_name="console:event_types", with_pk=False, capability=Cap.MANAGE_RULES,
        name=lambda t: t.display_name))
    register_object_describer("earning.award", by_pk(
        Award, lambda a: _("Award of %(rule)s to %(employee)s") % {
            "rule": a.rule.name, "employee": f"{a.employee.name} ({a.employee.employee_no})"},
        related=("rule", "employee")))
    register_object_describer("earning.rulefeedback", by_pk(
        RuleFeedback, lambda f: _("Feedback on rule %(rule)s") % {"rule": f.rule.name},
        url_name="console:rule_feedback", with_pk=False, capability=Cap.MANAGE_RULES,
        related=("rule",)))
    register_object_describer("earning.earningsettings", by_pk(
        EarningSettings, lambda s: _("Earning settings"),
        url_name="console:budgets", with_pk=False, capability=Cap.MANAGE_RULES))
    register_value_describer("earning.rule", "event_type", event_types_by_code)
    for field in ("formula", "caps", "expiry", "valid_from", "valid_until"):
        register_value_formatter("earning.rule", field, _rule_value(field))


def _rule_value(field: str) -> Callable[[object], str]:
    """A rule snapshot's structured value in words, as its history page shows it."""

    def show(value: object) -> str:
        return str(RuleValues(unit(), {}).show(field, value, {}))

    return show
