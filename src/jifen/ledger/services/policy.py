"""Changing the ledger policy (expiry, tenure exception, notice period, leavers)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.db import locked_singleton
from jifen.core.services import record_audit, snapshot
from jifen.ledger.models import LedgerPolicy
from jifen.ledger.selectors import POLICY_CACHE_KEY

POLICY_FIELDS = ("expiry_mode", "expiry_months", "expiry_years_after",
                 "never_expire_tenure_years", "notice_days", "on_leaving")


@transaction.atomic
def update_policy(*, actor: Actor, **changes: Any) -> LedgerPolicy:
    """Change the ledger policy (expiry, tenure exception, notice period, leavers). New
    rules apply to points credited from now on; existing lots keep their expiry. Audited."""
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise errors.ValidationError(_("Unknown settings: %s") % ", ".join(sorted(unknown)))
    policy = locked_singleton(LedgerPolicy)
    before = snapshot(policy, POLICY_FIELDS)
    for name, value in changes.items():
        setattr(policy, name, value)
    try:
        policy.full_clean()
    except DjangoValidationError as exc:
        raise errors.ValidationError(_("Please correct the settings."),
                                     details={"fields": exc.message_dict}) from exc
    policy.save()
    record_audit(actor=actor, action="ledger.policy.update", obj=policy, before=before,
                 after=snapshot(policy, POLICY_FIELDS))
    cache.delete(POLICY_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(POLICY_CACHE_KEY))
    return policy
