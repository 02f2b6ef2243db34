"""What the audit log shows for an action code and a changed field, in the reader's
language. An action without a label here shows its code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from jifen.core.describe import Described, describe_objects, describe_values
from jifen.core.roles import user_can

if TYPE_CHECKING:
    from jifen.core.models import AuditEntry

ACTION_LABELS = {
    "activities.auction.create": _("Auction created"),
    "activities.auction.update": _("Auction changed"),
    "activities.auction.publish": _("Auction published"),
    "activities.auction.cancel": _("Auction cancelled"),
    "activities.announce": _("Activity notice sent"),
    "apikey.create": _("API key created"),
    "apikey.revoke": _("API key revoked"),
    "im.account.set": _("IM user ID set"),
    "im.app.save": _("IM direct-message app saved"),
    "im.robot.create": _("IM robot added"),
    "im.robot.delete": _("IM robot removed"),
    "im.robot.test": _("IM robot test message sent"),
    "im.robot.update": _("IM robot changed"),
    "im.route.create": _("IM route added"),
    "im.route.delete": _("IM route removed"),
    "supplier.create": _("Supplier created"),
    "supplier.link_item": _("Item fulfilled by a supplier"),
    "supplier.update": _("Supplier changed"),
    "supplier.unlink_item": _("Item handed back from a supplier"),
    "supplier.retry": _("Supplier called again"),
    "webhook.create": _("Webhook endpoint created"),
    "webhook.update": _("Webhook endpoint changed"),
    "webhook.delete": _("Webhook endpoint deleted"),
    "webhook.disable": _("Webhook endpoint disabled by its receiver (410)"),
    "webhook.rotate_secret": _("Webhook secret rotated"),
    "webhook.test": _("Webhook test event sent"),
    "webhook.redeliver": _("Webhook delivery sent again"),
    "task.retry": _("Failed task retried"),
    "notifications.defaults.update": _("Notification defaults changed"),
    "department.create": _("Department created"),
    "department.update": _("Department changed"),
    "employee.create": _("Employee created"),
    "employee.update": _("Employee changed"),
    "employee.import": _("Employees imported"),
    "employee.left": _("Employee marked as left"),
    "scim.group.create": _("Department provisioned over SCIM"),
    "scim.group.delete": _("Department deleted over SCIM"),
    "scim.group.update": _("Department changed over SCIM"),
    "scim.user.create": _("Employee provisioned over SCIM"),
    "scim.user.delete": _("Employee deleted over SCIM"),
    "scim.user.update": _("Employee changed over SCIM"),
    "user.roles": _("Roles changed"),
    "payroll.policy.save": _("Bonus policy saved"),
    "payroll.columns.save": _("Payroll export columns changed"),
    "payroll.benefit.save": _("Payroll benefit setting changed"),
    "payroll.period.close": _("Payroll month closed"),
    "payroll.period.reopen": _("Payroll month reopened"),
    "settings.update": _("Site settings changed"),
    "insights.settings.update": _("Dashboard settings changed"),
    "earning.award.approve": _("Award approved"),
    "earning.award.reject": _("Award rejected"),
    "earning.event_type.create": _("Event type created"),
    "earning.event_type.update": _("Event type changed"),
    "earning.feedback.answer": _("Rule feedback answered"),
    "earning.rule.create": _("Rule created"),
    "earning.rule.update": _("Rule changed"),
    "earning.rule.draft": _("Rule draft saved"),
    "earning.rule.publish": _("Rule published"),
    "earning.value.create": _("Company value added"),
    "earning.value.update": _("Company value changed"),
    "earning.settings.update": _("Earning settings changed"),
    "ledger.adjust": _("Points adjusted"),
    "ledger.forfeit": _("Points forfeited"),
    "ledger.fund_budget": _("Budget funded"),
    "ledger.policy.update": _("Points policy changed"),
    "activities.lottery.cancel": _("Lottery cancelled"),
    "activities.lottery.create": _("Lottery created"),
    "activities.lottery.draw": _("Lottery drawn"),
    "activities.lottery.publish": _("Lottery published"),
    "activities.lottery.update": _("Lottery changed"),
    "library.category.save": _("Resource category saved"),
    "library.contribution.approve": _("Contribution approved"),
    "library.contribution.reject": _("Contribution rejected"),
    "library.resource.contribute": _("Resource contributed"),
    "library.resource.create": _("Resource created"),
    "library.resource.publish": _("Resource published"),
    "library.resource.update": _("Resource changed"),
    "library.resource.withdraw": _("Resource withdrawn"),
    "mall.campaign.save": _("Discount campaign saved"),
    "mall.category.save": _("Category saved"),
    "mall.category.delete": _("Category deleted"),
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
    "library.comment.report": _("Comment reported"),
    "library.comment.hide": _("Comment hidden"),
    "library.comment.unhide": _("Comment shown again"),
    "library.settings.update": _("Engagement settings changed"),
    "mfa.reset": _("Second factor reset"),
    "sso.policy.update": _("Sign-in policy changed"),
    "sso.provider.create": _("Identity provider added"),
    "sso.provider.update": _("Identity provider changed"),
    "sso.provider.delete": _("Identity provider removed"),
}


# Keys of audit snapshots that are no field of the object's model.
FIELD_LABELS = {
    "retried_as": _("retried as"),
    "exception": _("error"),
    "added": _("added"),
    "balance": _("balance"),
    "budget": _("budget"),
    "employee": _("employee"),
    "image": _("picture"),
    "points": _("points"),
    "reason": _("reason"),
    "recipients": _("recipients"),
    "reference": _("reference"),
    "revoked": _("revoked"),
    "roles": _("roles"),
    "rows": _("rows"),
    "skipped": _("skipped"),
    "created": _("created"),
    "updated": _("updated"),
    "unchanged": _("unchanged"),
    "accounts_created": _("accounts created"),
    "second_factors": _("second factors"),
    "secret_changed": _("secret changed"),
    "server_url": _("issuer address"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def field_label(object_type: str, field: str) -> str:
    """The field's name as its model's forms show it ("status" → "状态"), else as stored."""
    try:
        found = apps.get_model(object_type)._meta.get_field(field)
    except (LookupError, ValueError, FieldDoesNotExist):
        return str(FIELD_LABELS.get(field, field))
    # A reverse relation has no verbose name.
    return str(getattr(found, "verbose_name", None) or FIELD_LABELS.get(field, field))


def describe_entries(entries: Iterable[AuditEntry], *, user: object = None) -> None:
    """Give a page of audit entries their words at once: each entry's object (label, and
    a link when ``user`` may follow it) and the words for the values of its changes, with
    one describer call per object type and per changed field — not one per entry."""
    entries = list(entries)
    objects = describe_objects((e.object_type, e.object_id) for e in entries)
    seen: dict[tuple[str, str], list[object]] = {}
    for entry in entries:
        for field, old, new in entry.changes():
            seen.setdefault((entry.object_type, field), []).extend((old, new))
    values = describe_values(seen)
    for entry in entries:
        described = objects.get((entry.object_type, entry.object_id))
        if described is not None and described.url and described.capability \
                and not user_can(user, described.capability):
            described = Described(described.label)
        entry.set_words(described, {field: labels for (kind, field), labels in values.items()
                                     if kind == entry.object_type})
