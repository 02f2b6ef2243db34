"""What the audit log shows for an action code and a changed field, in the reader's
language. An action without a label here shows its code."""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "apikey.create": _("API key created"),
    "apikey.revoke": _("API key revoked"),
    "department.create": _("Department created"),
    "department.update": _("Department changed"),
    "employee.create": _("Employee created"),
    "employee.update": _("Employee changed"),
    "employee.import": _("Employees imported"),
    "employee.left": _("Employee marked as left"),
    "user.roles": _("Roles changed"),
    "settings.update": _("Site settings changed"),
    "earning.award.approve": _("Award approved"),
    "earning.award.reject": _("Award rejected"),
    "earning.event_type.create": _("Event type created"),
    "earning.event_type.update": _("Event type changed"),
    "earning.feedback.answer": _("Rule feedback answered"),
    "earning.rule.create": _("Rule created"),
    "earning.rule.update": _("Rule changed"),
    "earning.settings.update": _("Earning settings changed"),
    "ledger.adjust": _("Points adjusted"),
    "ledger.forfeit": _("Points forfeited"),
    "ledger.fund_budget": _("Budget funded"),
    "ledger.policy.update": _("Points policy changed"),
    "mall.campaign.save": _("Discount campaign saved"),
    "mall.category.save": _("Category saved"),
    "mall.codes.import": _("Codes imported"),
    "mall.item.create": _("Item created"),
    "mall.item.update": _("Item changed"),
    "mall.item.status": _("Item listed or delisted"),
    "mall.item.restock": _("Item restocked"),
    "mall.item.image_add": _("Item picture added"),
    "mall.item.image_remove": _("Item picture removed"),
    "mall.order.approve": _("Order approved"),
    "mall.order.reject": _("Order rejected"),
    "mall.order.ship": _("Order shipped"),
    "mall.order.deliver": _("Order delivered"),
    "mall.order.fulfil": _("Order fulfilled"),
    "mall.order.complete": _("Order completed"),
    "mall.order.cancel": _("Order cancelled"),
    "mall.window.save": _("Redemption window saved"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def field_label(object_type: str, field: str) -> str:
    """The field's name as its model's forms show it ("status" → "状态"), else as stored."""
    try:
        found = apps.get_model(object_type)._meta.get_field(field)
    except (LookupError, ValueError, FieldDoesNotExist):
        return field
    return str(getattr(found, "verbose_name", field))  # a reverse relation has none
