"""The ledger's reactions to other apps' changes."""

from __future__ import annotations

from typing import Any

from jifen.ledger.accounts import open_accounts
from jifen.ledger.services import apply_leaving_policy


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
