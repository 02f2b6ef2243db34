"""How a secret handed to a client (an API key, an employee token) is kept: only its hash
is stored, and a presented secret is compared by hashing it the same way."""

from __future__ import annotations

import hashlib
import hmac


def hash_secret(value: str) -> str:
    """The stored form of a secret: its SHA-256 in hex. The secrets are long random
    strings, so a fast unsalted hash is enough (a password would need a slow one)."""
    return hashlib.sha256(value.encode()).hexdigest()


def secret_matches(stored_hash: str, plain: str) -> bool:
    """Whether ``plain`` is the secret stored as ``stored_hash``, in constant time."""
    return hmac.compare_digest(stored_hash, hash_secret(plain))
