"""Random walks through the ledger: credits, debits, holds, releases, captures, refunds,
transfers, reversals, penalties, adjustments, replays, clock jumps and expiry sweeps across
several employees and expiry policies. After every step the books must verify clean, and
every debit must have consumed exactly the lots the FIFO-by-expiry rule names, computed here
independently from the lots as they were before the step."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from jifen.core import errors
from jifen.insights.models import PendingChange
from jifen.insights.services import rollups
from jifen.ledger import selectors, services
from jifen.ledger.expiry import is_tenure_exempt
from jifen.ledger.models import ExpiryMode, Lot, LotConsumption, Transaction
from jifen.ledger.verify import verify_ledger
from tests.factories import EmployeeFactory
from tests.insights.helpers import rollup_tables

START = timezone.make_aware(datetime(2024, 1, 15, 10, 0))
NEVER = timezone.make_aware(datetime(9999, 1, 1))
amounts = st.integers(min_value=1, max_value=120)


class LedgerMachine(RuleBasedStateMachine):
    employees: list = []  # set by the test: made once, outside the per-example savepoint

    holds = Bundle("holds")
    captures = Bundle("captures")
    reversible = Bundle("reversible")
    replayable = Bundle("replayable")

    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint of the test's transaction and is rolled back.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        cache.clear()
        self.now = START
        self.keys = 0
        self.policy = None

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        cache.clear()

    # --- helpers ------------------------------------------------------------------------

    def key(self, prefix: str) -> str:
        self.keys += 1
        return f"{prefix}-{self.keys}"

    def employee(self, index: int):
        return self.employees[index % len(self.employees)]

    def exempt(self, employee) -> bool:
        return is_tenure_exempt(selectors.ledger_policy(), employee.hire_date, self.now)

    def fifo(self, employee) -> list[tuple[int, int]]:
        """(lot id, remaining) of spendable lots in the order they must be spent."""
        rows = Lot.objects.filter(wallet__employee=employee, remaining__gt=0).values_list(
            "pk", "remaining", "expires_at", "earned_at")
        exempt = self.exempt(employee)
        alive = [r for r in rows if exempt or r[2] is None or r[2] > self.now]
        alive.sort(key=lambda r: (r[2] is None, r[2] or NEVER, r[3], r[0]))
        return [(pk, remaining) for pk, remaining, _e, _d in alive]

    def snapshot(self) -> list[tuple]:
        return list(Lot.objects.order_by("pk").values_list("pk", "remaining", "held"))

    def expect_fifo(self, txn: Transaction, before: list[tuple[int, int]], amount: int) -> None:
        expected, left = {}, amount
        for pk, remaining in before:
            if not left:
                break
            expected[pk] = min(left, remaining)
            left -= expected[pk]
        actual = dict(LotConsumption.objects.filter(transaction=txn, amount__gt=0)
                      .values_list("lot_id", "amount"))
        assert actual == expected, f"{txn.kind} consumed {actual}, FIFO says {expected}"

    def spendable(self, employee) -> int:
        return selectors.balance(employee=employee, now=self.now).spendable

    # --- policy -------------------------------------------------------------------------

    @initialize(mode=st.sampled_from([ExpiryMode.NEVER, ExpiryMode.MONTHS, ExpiryMode.YEAR_END]),
                months=st.integers(1, 18), years_after=st.integers(0, 2),
                tenure=st.sampled_from([None, 8]))
    def choose_policy(self, mode, months, years_after, tenure):
        services.update_policy(actor=None, expiry_mode=mode, expiry_months=months,
                               expiry_years_after=years_after,
                               never_expire_tenure_years=tenure)

    # --- earning ------------------------------------------------------------------------

    @rule(target=reversible, who=st.integers(0, 5), amount=amounts,
          expiry=st.sampled_from(["policy", "never", 5, 40, 400]))
    def credit(self, who, amount, expiry):
        employee = self.employee(who)
        before = self.spendable(employee)
        extra = {}
        if expiry == "never":
            extra["expires_at"] = None
        elif expiry != "policy":
            extra["expires_at"] = self.now + timedelta(days=expiry)
        txn = services.credit(employee=employee, amount=amount, category="learning",
                              idempotency_key=self.key("earn"), cause=("test", "x"),
                              now=self.now, **extra)
        lot = Lot.objects.get(source_transaction=txn)
        if lot.expires_at is None or lot.expires_at > self.now:
            assert self.spendable(employee) == before + amount
        return txn

    @rule(who=st.integers(0, 5), amount=amounts)
    def penalize(self, who, amount):
        employee = self.employee(who)
        before, order = self.spendable(employee), self.fifo(employee)
        result = services.penalize(employee=employee, amount=amount, category="attendance",
                                   idempotency_key=self.key("pen"), cause=("test", "late"),
                                   now=self.now)
        assert result.collected == min(amount, before)
        if result.transaction is not None:
            self.expect_fifo(result.transaction, order, result.collected)
        assert self.spendable(employee) == before - result.collected

    # --- spending -----------------------------------------------------------------------

    def _spend(self, employee, amount, call):
        before, order, lots = self.spendable(employee), self.fifo(employee), self.snapshot()
        try:
            txn = call()
        except errors.InsufficientPoints:
            assert amount > before
            assert self.snapshot() == lots
            return None
        assert amount <= before
        self.expect_fifo(txn, order, amount)
        assert self.spendable(employee) == before - amount
        return txn

    @rule(target=reversible, who=st.integers(0, 5), amount=amounts)
    def debit(self, who, amount):
        employee = self.employee(who)
        key = self.key("redeem")
        txn = self._spend(employee, amount, lambda: services.debit(
            employee=employee, amount=amount, idempotency_key=key, cause=("order", key),
            now=self.now))
        return txn

    @rule(target=holds, who=st.integers(0, 5), amount=amounts)
    def hold(self, who, amount):
        employee = self.employee(who)
        key = self.key("hold")
        held = selectors.balance(employee=employee).held
        txn = self._spend(employee, amount, lambda: services.hold(
            employee=employee, amount=amount, idempotency_key=key, cause=("order", key),
            now=self.now))
        if txn is not None:
            assert selectors.balance(employee=employee).held == held + amount
        return txn

    @rule(hold=consumes(holds))
    def release(self, hold):
        if hold is None:
            return
        parked = dict(LotConsumption.objects.filter(transaction=hold)
                      .values_list("lot_id", "parked"))
        before = dict(Lot.objects.filter(pk__in=parked).values_list("pk", "remaining"))
        services.release(hold=hold, idempotency_key=self.key("release"), now=self.now)
        after = dict(Lot.objects.filter(pk__in=parked).values_list("pk", "remaining"))
        assert after == {pk: before[pk] + parked[pk] for pk in parked}, "not the same lots"

    @rule(target=captures, hold=consumes(holds))
    def capture(self, hold):
        if hold is None:
            return None
        return services.capture(hold=hold, idempotency_key=self.key("capture"), now=self.now)

    @rule(capture=consumes(captures))
    def refund(self, capture):
        if capture is not None:
            services.refund(capture=capture, idempotency_key=self.key("refund"), now=self.now)

    @rule(target=reversible, sender=st.integers(0, 5), recipient=st.integers(0, 5),
          amount=amounts)
    def transfer(self, sender, recipient, amount):
        source, target = self.employee(sender), self.employee(recipient)
        if source.pk == target.pk:
            return None
        received = self.spendable(target)
        txn = self._spend(source, amount, lambda: services.transfer(
            sender=source, recipient=target, amount=amount, idempotency_key=self.key("xfer"),
            now=self.now))
        if txn is not None:
            assert self.spendable(target) == received + amount
        return txn

    @rule(target=reversible, who=st.integers(0, 5), amount=st.integers(-120, 120))
    def adjust(self, who, amount):
        employee = self.employee(who)
        if amount == 0:
            return None
        if amount > 0:
            return services.adjust(employee=employee, amount=amount, reason="test", actor=None,
                                   idempotency_key=self.key("adj"), now=self.now)
        return self._spend(employee, -amount, lambda: services.adjust(
            employee=employee, amount=amount, reason="test", actor=None,
            idempotency_key=self.key("adj"), now=self.now))

    @rule(txn=consumes(reversible))
    def reverse(self, txn):
        if txn is None:
            return
        lots = self.snapshot()
        try:
            services.reverse(transaction=txn, idempotency_key=self.key("rev"), reason="test",
                             now=self.now)
        except errors.InsufficientPoints:
            assert self.snapshot() == lots

    @rule(txn=reversible)
    def replay(self, txn):
        """Calling a service again with a key it has seen moves nothing."""
        if txn is None or txn.kind not in ("earn", "redeem"):
            return
        lots = self.snapshot()
        call = services.credit if txn.kind == "earn" else services.debit
        extra = {"category": "learning"} if txn.kind == "earn" else {}
        again = call(employee=self.employees[0], amount=txn.amount,
                     idempotency_key=txn.idempotency_key, cause=("test", "x"), now=self.now,
                     **extra)
        assert again.pk == txn.pk
        assert self.snapshot() == lots

    # --- time ---------------------------------------------------------------------------

    @rule(days=st.sampled_from([1, 7, 29, 45, 120, 200, 366]))
    def advance_clock(self, days):
        self.now += timedelta(days=days)

    @rule()
    def sweep(self):
        """The sweep removes only points that were no longer spendable."""
        before = [self.spendable(e) for e in self.employees]
        services.expire_lots(now=self.now)
        assert [self.spendable(e) for e in self.employees] == before
        assert not Lot.objects.filter(remaining__gt=0, expires_at__lte=self.now).exclude(
            wallet__employee__in=[e for e in self.employees if self.exempt(e)]).exists()
        assert services.expire_lots(now=self.now) == 0

    # --- the rollups behind rankings and dashboards ----------------------------------------

    @rule()
    def fold_rollups(self):
        """The worker folds what moved; verify (after every step) then compares the
        rollups alone with the ledger."""
        rollups.fold_pending()
        assert not PendingChange.objects.exists()

    @rule()
    def rebuild_rollups(self):
        """A rebuild from the ledger gives exactly what folding as points moved gave."""
        rollups.fold_pending()
        folded = rollup_tables()
        rollups.rebuild()
        assert rollup_tables() == folded

    # --- after every step -----------------------------------------------------------------

    @invariant()
    def books_balance(self):
        breaches = verify_ledger()
        assert not breaches, "\n".join(breaches)

    @invariant()
    def held_points_match_open_holds(self):
        for employee in self.employees:
            open_holds = Transaction.objects.filter(
                kind="hold", entries__account__employee=employee, settled_by__isnull=True,
                entries__amount__gt=0).values_list("amount", flat=True)
            assert selectors.balance(employee=employee).held == sum(open_holds)


@pytest.mark.django_db
def test_random_ledger_walks_keep_every_invariant():
    LedgerMachine.employees = [
        EmployeeFactory(hire_date=date(2023, 1, 1)),
        EmployeeFactory(hire_date=date(2016, 5, 1)),  # reaches 8 years during the walk
        EmployeeFactory(hire_date=None),
    ]
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=25, stateful_step_count=35, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
