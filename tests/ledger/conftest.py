from __future__ import annotations

from tests.conftest import assert_ledger_sound

# The after-test check and ``allow_ledger_breaches`` live in tests/conftest.py and apply to
# every app's tests; ``assert_ledger_sound`` is re-exported for the tests that import it here.
__all__ = ["assert_ledger_sound"]
