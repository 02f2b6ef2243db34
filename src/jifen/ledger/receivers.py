"""The ledger's reactions to other apps' changes."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from jifen.ledger.accounts import open_accounts
from jifen.ledger.selectors import POLICY_CACHE_KEY
from jifen.ledger.services import apply_leaving_policy
from jifen.ledger.verify import verify_ledger


def open_employee_accounts(sender: Any, instance: Any, created: bool, raw: bool = False,
                           **kwargs: Any) -> None:
    """A new employee gets a wallet and a hold account in the same transaction, so their
    first postings never race to create them. (Bulk imports skip signals; they call
    ``services.open_accounts``, and postings still create a missing account.)"""
    if created and not raw:
        open_accounts(employee_ids=[instance.pk])


def open_imported_accounts(sender: Any, employee_ids: list[int], **kwargs: Any) -> None:
    """Employees created in bulk get their wallets and holds in the import's transaction."""
    open_accounts(employee_ids=employee_ids)


def settle_leaver(sender: Any, employee: Any, actor: Any = None, **kwargs: Any) -> None:
    """A leaver's points follow the leaving policy (kept, or forfeited once)."""
    apply_leaving_policy(employee=employee, actor=actor)


def verify_after_restore(sender: Any, result: Any, progress: Any, **kwargs: Any) -> None:
    """After `jifen restore`: forget the cached policy of the database replaced, then verify
    the restored ledger (its breaches make the command exit 5)."""
    cache.delete(POLICY_CACHE_KEY)
    progress("Verifying the ledger...")
    result.breaches = verify_ledger()
