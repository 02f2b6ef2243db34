"""The sign-in throttle: every password check first reserves an attempt, per account and
per client address, in a counter every server process shares.

Reserving before the check, with an increment the store does atomically, is what keeps a
parallel burst within the limit: sixteen guessers at once cannot all read "four failures so
far" and all go on to try a password. A successful sign-in gives its reservation back, so
only failures stay counted until the window ends.

- Per account (``LOGIN_THROTTLE_LIMIT``, from any address): guessing one password from
  many machines is slowed down as much as from one. An existing account is counted by its
  primary key, so every spelling the database's collation matches to it shares one count;
  an unknown username by its normalised form (``normalised_username``).
- Per client address (``LOGIN_THROTTLE_ADDRESS_LIMIT``, over all accounts): one machine
  cannot walk through many accounts — and, since the address is the client's own
  (``jifen.core.client_address``) rather than a shared proxy's, what it does never pauses
  anyone else. IPv6 clients are counted per /64, the block one subscriber gets.

Counters live in Redis when it is configured (its INCR is atomic) and otherwise in a table
moved by conditional UPDATEs (``settings.THROTTLE_COUNTER_MODEL``): Django's database cache
reads, adds and writes back, so parallel increments are lost there.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from django.apps import apps
from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors


class Counters(Protocol):
    """Counts under keys that expire a fixed window after their first count."""

    def reserve(self, key: str, limit: int, window: int) -> bool:
        """Count one more under ``key`` unless ``limit`` are counted already; True when
        counted. Atomic: parallel callers never get more than ``limit`` Trues per window."""

    def release(self, key: str) -> None:
        """Take back one count reserved under ``key``."""

    def count(self, key: str) -> int:
        """The live count under ``key`` (0 when none)."""

    def reset(self, key: str) -> None:
        """Forget every count under ``key``."""


class CacheCounters:
    """Counters in a cache whose ``incr`` is atomic: Redis (django-redis increments in one
    Lua script, keeping the key's expiry)."""

    def __init__(self, cache: BaseCache) -> None:
        self.cache = cache

    def reserve(self, key: str, limit: int, window: int) -> bool:
        for _attempt in range(3):
            self.cache.add(key, 0, window)
            try:
                if self.cache.incr(key) <= limit:
                    return True
            except ValueError:  # expired between add and incr: start a new window
                continue
            self.release(key)  # refused: what is counted stays the attempts that ran
            return False
        return False

    def release(self, key: str) -> None:
        with contextlib.suppress(ValueError):  # the window is over already
            self.cache.decr(key)

    def count(self, key: str) -> int:
        return int(self.cache.get(key) or 0)

    def reset(self, key: str) -> None:
        self.cache.delete(key)


class TableCounters:
    """Counters in a database table (``key`` unique, ``count``, ``expires_at``), each move a
    single conditional UPDATE: PostgreSQL and MySQL re-check its WHERE against the row as
    the previous writer committed it, SQLite runs one writer at a time. Sign-in runs
    outside any transaction, so each count commits at once and is never rolled back with
    the request."""

    _CULL_ONE_IN = 50  # a new row also deletes long-expired ones, now and then

    def __init__(self, model: Any) -> None:
        self.model = model

    def reserve(self, key: str, limit: int, window: int) -> bool:
        rows = self.model.objects
        for _attempt in range(5):
            now = timezone.now()
            if rows.filter(key=key, expires_at__gt=now, count__lt=limit).update(
                    count=F("count") + 1):
                return True
            if rows.filter(key=key, expires_at__lte=now).update(
                    count=1, expires_at=now + timedelta(seconds=window)):
                return True
            if rows.filter(key=key, expires_at__gt=now, count__gte=limit).exists():
                return False
            try:
                with transaction.atomic():
                    rows.create(key=key, count=1, expires_at=now + timedelta(seconds=window))
            except IntegrityError:  # another process created it first: count on that row
                continue
            if random.randrange(self._CULL_ONE_IN) == 0:
                self._cull(now - timedelta(seconds=window))
            return True
        return False

    def release(self, key: str) -> None:
        self.model.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)

    def count(self, key: str) -> int:
        row = self.model.objects.filter(key=key, expires_at__gt=timezone.now()).first()
        return row.count if row is not None else 0

    def reset(self, key: str) -> None:
        self.model.objects.filter(key=key).delete()

    def _cull(self, before: Any) -> None:
        try:
            with transaction.atomic():
                self.model.objects.filter(expires_at__lt=before).delete()
        except DatabaseError:  # a lock conflict with another cull: the next one will do it
            pass


def counters() -> Counters:
    """Redis when configured (the ``shared`` cache is then Redis), else the table."""
    if settings.CACHE_IS_SHARED:
        return CacheCounters(caches["shared"])
    return TableCounters(apps.get_model(settings.THROTTLE_COUNTER_MODEL))


def normalised_username(username: str) -> str:
    """``username`` as the throttle counts it when no account answers to it: accents and
    other combining marks dropped, case folded, full- and half-width forms made plain
    ("ÁLICE", "ａｌｉｃｅ" → "alice"). A database collation may take such spellings for
    one name (MariaDB's utf8mb4_unicode_ci ignores accents and width), so they must not
    each get attempts of their own."""
    decomposed = unicodedata.normalize("NFKD", username.strip())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFKC", bare.casefold())


def _account_key(scope: str, account: int | str) -> str:
    """The key for an account: by its primary key when it exists (an int) — whatever
    spelling the database matched to it — else by the typed name, normalised and hashed
    (usernames are personal data and may be long). The two never share a key."""
    if isinstance(account, int):
        return f"throttle:{scope}:account:{account}"
    digest = hashlib.sha256(normalised_username(account).encode()).hexdigest()[:32]
    return f"throttle:{scope}:name:{digest}"


def _address_key(scope: str, address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        block = address[:64]
    else:
        block = str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)
    return f"throttle:{scope}:address:{block}"


def _refusal() -> errors.RateLimited:
    window = settings.LOGIN_THROTTLE_WINDOW
    return errors.RateLimited(
        _("Too many failed sign-in attempts. Please wait %(minutes)d minutes and try "
          "again.") % {"minutes": max(1, window // 60)},
        retry_after=window,
    )


@dataclass
class Reservation:
    """One attempt counted against each of ``keys``; ``succeeded()`` gives it back."""

    store: Counters
    keys: list[str] = field(default_factory=list)

    def succeeded(self) -> None:
        for key in self.keys:
            self.store.release(key)
        self.keys = []


def reserve_sign_in(account: int | str, address: str | None,
                    scope: str = "login") -> Reservation:
    """Count one sign-in attempt for ``account`` — the user's primary key when the username
    names an account, else the username as typed — from ``address`` before its password
    is checked; raise RateLimited — and count nothing — when the address or the account
    has used up its attempts. The caller checks the password only after this returns, and
    calls ``succeeded()`` when it was right."""
    store = counters()
    window = settings.LOGIN_THROTTLE_WINDOW
    wanted = []
    if address:
        wanted.append((_address_key(scope, address), settings.LOGIN_THROTTLE_ADDRESS_LIMIT))
    wanted.append((_account_key(scope, account), settings.LOGIN_THROTTLE_LIMIT))
    reservation = Reservation(store)
    for key, limit in wanted:
        if not store.reserve(key, limit, window):
            reservation.succeeded()  # give back what this attempt took: it never ran
            raise _refusal()
        reservation.keys.append(key)
    return reservation


def forget_account(account: int | str, scope: str = "login") -> None:
    """Lift the pause on an account (by primary key; an operator setting a new password
    from the command line); the addresses' counts stay."""
    counters().reset(_account_key(scope, account))


def failures(account: int | str | None = None, address: str | None = None,
             scope: str = "login") -> int:
    """The attempts counted now for an account (primary key, or an unknown username) or an
    address (for tests and support)."""
    key = _account_key(scope, account) if account is not None else _address_key(
        scope, address or "")
    return counters().count(key)
