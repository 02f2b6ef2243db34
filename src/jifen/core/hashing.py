"""How a secret handed out once (an API key, an employee token) is kept: only its hash."""

from __future__ import annotations

import hashlib


def hash_secret(value: str) -> str:
    """The SHA-256 of a high-entropy secret (no salt or stretching needed: it is random,
    not a password)."""
    return hashlib.sha256(value.encode()).hexdigest()
