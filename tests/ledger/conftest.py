from __future__ import annotations

import pytest

from jifen.ledger.verify import verify_ledger


def assert_ledger_sound() -> None:
    breaches = verify_ledger()
    assert not breaches, "ledger invariants broken:\n" + "\n".join(breaches)


@pytest.fixture(autouse=True)
def _ledger_stays_sound(request):
    """After every ledger test that used the database, `jifen ledger verify` must be clean.
    A test that breaks the books on purpose asks for ``allow_ledger_breaches``."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db"}:
        yield
        return
    transactional = "transactional_db" in names or bool(marker and marker.kwargs.get("transaction"))
    # Requested from here so the database outlives this check at teardown.
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    if "allow_ledger_breaches" not in names:
        assert_ledger_sound()


@pytest.fixture
def allow_ledger_breaches():
    """Opt out of the after-test ledger check (for tests of the checker itself)."""
    return True
