"""tests/earning/test_tasks.py mirrors jifen/earning/tasks.py."""

from __future__ import annotations

from jifen.earning.tasks import daily_tick
from jifen.ledger import expiry


def test_a_daily_tick_queued_before_an_upgrade_runs_the_ledgers_daily_expiry(monkeypatch):
    calls: list[dict] = []

    def run_daily_expiry(**kwargs):
        calls.append(kwargs)
        return {"expired": 2, "noticed": 3}

    # raising=False: the ledger's run_daily_expiry lands in a branch merged beside this one.
    monkeypatch.setattr(expiry, "run_daily_expiry", run_daily_expiry, raising=False)
    assert daily_tick.call() == {"expired": 2, "noticed": 3}
    assert calls == [{}]
