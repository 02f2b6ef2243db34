"""The ledger's accounts by name: the code each account is found by, and opening them.

Every account has a stable code — ``wallet:e:<employee id>``, ``hold:e:<employee id>``,
``issuance:<category>``, ``budget:d:<department id>``, ``sink:<kind>`` — and is created
the first time something needs it (employees' accounts with the employee, company accounts
by the first migration), so postings normally find them with one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.ledger import sql
from jifen.ledger.models import Account, AccountKind, Category

# An account's code and the fields it is created with when missing.
AccountSpec = tuple[str, dict[str, Any]]

SINK_KINDS = (AccountKind.REDEMPTION, AccountKind.EXPIRY, AccountKind.FORFEITURE,
              AccountKind.ACTIVITIES, AccountKind.ADJUSTMENT)


def wallet_key(employee_id: int) -> str:
    return f"wallet:e:{employee_id}"


def hold_key(employee_id: int) -> str:
    return f"hold:e:{employee_id}"


def issuance_key(category: str) -> str:
    return f"issuance:{category}"


def budget_key(department_id: int) -> str:
    return f"budget:d:{department_id}"


def sink_key(kind: str) -> str:
    return f"sink:{kind}"


def wallet_spec(employee_id: int) -> AccountSpec:
    return wallet_key(employee_id), {"kind": AccountKind.WALLET, "employee_id": employee_id}


def hold_spec(employee_id: int) -> AccountSpec:
    return hold_key(employee_id), {"kind": AccountKind.HOLD, "employee_id": employee_id}


def issuance_spec(category: str) -> AccountSpec:
    """The issuance account of an earning category; an unknown category is refused (422
    ``unknown_category``)."""
    if category not in Category.values:
        raise errors.ValidationError(_("Unknown category %s.") % category,
                                     code=errors.ErrorCode.UNKNOWN_CATEGORY)
    return issuance_key(category), {"kind": AccountKind.ISSUANCE, "category": category,
                                    "may_go_negative": True}


def budget_spec(department_id: int) -> AccountSpec:
    return budget_key(department_id), {"kind": AccountKind.BUDGET,
                                       "department_id": department_id}


def sink_spec(kind: str) -> AccountSpec:
    return sink_key(kind), {"kind": kind, "may_go_negative": True}


def accounts_for(*specs: AccountSpec) -> list[Account]:
    """The accounts named by ``specs``, in their order, created on first use. One query
    when they exist."""
    wanted = dict(specs)
    found = {a.code: a for a in sql.fetch_accounts(list(wanted))}
    for key, fields in wanted.items():
        if key not in found:
            # get_or_create survives a concurrent creator: it retries the read after the
            # unique key refuses its insert.
            found[key], _created = Account.objects.get_or_create(code=key, defaults=fields)
    return [found[key] for key, _fields in specs]


def ensure_accounts(*, employee: Any) -> tuple[Account, Account]:
    """The employee's wallet and hold accounts, created if missing. Creating them with the
    employee keeps account creation out of the postings' hot path (on MySQL, postings that
    race to create one account can deadlock)."""
    wallet, hold = accounts_for(wallet_spec(employee.pk), hold_spec(employee.pk))
    return wallet, hold


def open_accounts(*, employee_ids: Iterable[int]) -> None:
    """Wallet and hold accounts for many employees at once (after a bulk import)."""
    accounts = []
    for employee_id in employee_ids:
        for code, fields in (wallet_spec(employee_id), hold_spec(employee_id)):
            accounts.append(Account(code=code, **fields))
    Account.objects.bulk_create(accounts, ignore_conflicts=True, batch_size=1000)


def ensure_company_accounts() -> None:
    """Every issuance account and sink, so postings never have to create one (the first
    migration does this; call it again after flushing a database)."""
    specs = [issuance_spec(c) for c in Category.values]
    specs += [sink_spec(kind) for kind in SINK_KINDS]
    Account.objects.bulk_create([Account(code=code, **fields) for code, fields in specs],
                                ignore_conflicts=True)
