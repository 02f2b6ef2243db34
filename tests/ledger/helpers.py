"""Small helpers for ledger tests: one-line credits and debits with fresh keys."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from jifen.ledger import selectors, services
from jifen.ledger.models import Account, AccountKind, Lot

_keys = itertools.count(1)


def key(prefix: str = "t") -> str:
    return f"{prefix}-{next(_keys)}"


def earn(employee: Any, amount: int, *, category: str = "learning", **kwargs: Any):
    kwargs.setdefault("idempotency_key", key("earn"))
    kwargs.setdefault("cause", ("test.event", kwargs["idempotency_key"]))
    return services.credit(employee=employee, amount=amount, category=category, **kwargs)


def fund(employee: Any, amount: int, category: str = "performance") -> None:
    """Give the employee ``amount`` points to spend (a credit with a fresh key)."""
    earn(employee, amount, category=category)


def spend(employee: Any, amount: int, **kwargs: Any):
    kwargs.setdefault("idempotency_key", key("spend"))
    kwargs.setdefault("cause", ("test.order", kwargs["idempotency_key"]))
    return services.debit(employee=employee, amount=amount, **kwargs)


def hold(employee: Any, amount: int, **kwargs: Any):
    kwargs.setdefault("idempotency_key", key("hold"))
    kwargs.setdefault("cause", ("test.order", kwargs["idempotency_key"]))
    return services.hold(employee=employee, amount=amount, **kwargs)


def spendable(employee: Any, now: datetime | None = None) -> int:
    return selectors.balance(employee=employee, now=now).spendable


def held(employee: Any) -> int:
    return selectors.balance(employee=employee).held


def wallet(employee: Any) -> Account:
    return Account.objects.get(employee=employee, kind=AccountKind.WALLET)


def lots(employee: Any) -> list[Lot]:
    return list(Lot.objects.filter(wallet__employee=employee).order_by("pk"))


def sink_balance(kind: str) -> int:
    account = Account.objects.filter(kind=kind).first()
    return account.balance if account else 0


def nap_blanket(actor):
    """A listed 150-point service item, 午睡毯, in its own category: the order every
    history test follows."""
    from jifen.mall import services as mall  # the ledger's own helpers need no mall
    from jifen.mall.models import Fulfilment, ItemStatus

    category = mall.save_category(actor=actor, name="生活")
    return mall.create_item(actor=actor, name="午睡毯", points=150, status=ItemStatus.LISTED,
                            fulfilment=Fulfilment.SERVICE, category=category)
