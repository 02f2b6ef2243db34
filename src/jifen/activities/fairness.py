"""Provably fair lottery draws: pure functions, no Django (docs/decisions/0019).

Algorithm ``hmac-sha256-v1``, byte for byte (static/activities/verify.js and
``jifen lottery verify`` compute the same):

- **Seed**: 32 bytes from ``secrets.token_bytes``; written as 64 lower-case hex digits.
- **Commitment** (published when the lottery opens): ``sha256(seed bytes)`` in lower-case hex
  — the hash of the 32 raw bytes, not of their hex text.
- **Snapshot** (frozen when entries close): the active entries sorted by id ascending, one
  line per entry ``"<id>:<weight>\\n"`` (decimal, no leading zeros, no spaces), concatenated
  and encoded as UTF-8 (it is ASCII); ``snapshot_hash`` = its sha256 in lower-case hex. No
  entries give the empty string.
- **Draw k, attempt r** (k = 0, 1, 2 … over all prizes; r = 0, 1 … within one draw):
  ``digest = HMAC-SHA256(key = seed bytes, msg = "<snapshot_hash>|draw|<k>|<r>")``, the
  message ASCII with k and r in decimal. ``x`` = the digest as a big-endian unsigned
  256-bit integer. With ``W`` the total weight of the entries still in the draw, ``x`` is
  rejected when ``x >= floor(2**256 / W) * W`` (so no entry is favoured by the modulo) and
  attempt r + 1 is made; otherwise ``t = x mod W`` and the winner is the first remaining
  entry, in id order, whose running total of weights exceeds ``t``. The winner leaves the
  draw. Prizes are drawn tier by tier in rank order (then tier id), ``quantity`` draws per
  tier, until prizes or entries run out.
- **Instant win** (each entry draws at once against what is left): the lottery has ``S``
  entry slots and ``P`` prizes in all. The n-th entry (n = 1, 2 … in id order) meets
  ``R`` = prizes not yet won and ``s = S - n + 1`` slots left (itself included). It draws
  ``HMAC-SHA256(seed, "<commitment>|instant|<entry id>|<r>")`` with the same rejection rule
  for modulus ``s``; ``t = x mod s``; ``t < R`` wins the t-th remaining prize (prizes listed
  tier by tier in rank order, each tier repeated by what it has left), else nothing. Like
  drawing tickets from an urn of ``S`` tickets of which ``P`` win: every prize is given if
  every slot is taken, and every entry has the same chance ``P / S`` beforehand. The
  commitment stands in for the snapshot hash because the entries are not yet known.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ALGORITHM = "hmac-sha256-v1"
SEED_BYTES = 32
_SPACE = 1 << 256
# Each attempt is rejected with probability < W / 2**256; 64 failures in a row do not happen.
MAX_ATTEMPTS = 64


class FairnessError(ValueError):
    """Data that cannot be drawn from or verified (bad hex, bad weight …)."""


def new_seed() -> str:
    """A fresh secret seed, as 64 hex digits. Never ``random``."""
    return secrets.token_bytes(SEED_BYTES).hex()


def _seed_bytes(seed_hex: str) -> bytes:
    try:
        raw = bytes.fromhex(seed_hex)
    except (ValueError, TypeError) as exc:
        raise FairnessError("the seed is not hex") from exc
    if len(raw) != SEED_BYTES:
        raise FairnessError("the seed is not 32 bytes")
    return raw


def commitment_of(seed_hex: str) -> str:
    return hashlib.sha256(_seed_bytes(seed_hex)).hexdigest()


def snapshot_text(entries: Iterable[tuple[int, int]]) -> str:
    """The canonical snapshot of (entry id, weight) pairs: sorted by id, "id:weight\\n"."""
    lines = []
    seen: set[int] = set()
    for entry_id, weight in sorted(entries):
        if not isinstance(entry_id, int) or not isinstance(weight, int) or isinstance(
                entry_id, bool) or isinstance(weight, bool):
            raise FairnessError("entry ids and weights are integers")
        if entry_id < 1 or weight < 1:
            raise FairnessError("entry ids and weights are at least 1")
        if entry_id in seen:
            raise FairnessError(f"entry {entry_id} appears twice")
        seen.add(entry_id)
        lines.append(f"{entry_id}:{weight}\n")
    return "".join(lines)


def snapshot_hash(entries: Iterable[tuple[int, int]]) -> str:
    return hashlib.sha256(snapshot_text(entries).encode("utf-8")).hexdigest()


def _uniform(key: bytes, prefix: str, modulus: int) -> tuple[int, str, int]:
    """(t, accepted digest hex, attempt) for ``t`` uniform in [0, modulus)."""
    if modulus < 1:
        raise FairnessError("nothing to draw from")
    limit = (_SPACE // modulus) * modulus
    for attempt in range(MAX_ATTEMPTS):
        digest = hmac.new(key, f"{prefix}|{attempt}".encode("ascii"), hashlib.sha256).digest()
        x = int.from_bytes(digest, "big")
        if x < limit:
            return x % modulus, digest.hex(), attempt
    raise FairnessError("too many rejected draws")  # pragma: no cover - probability < 2**-64


@dataclass(frozen=True)
class Pick:
    """One prize drawn: draw ``index`` (k) picked ``entry_id`` for ``tier_id``; ``value`` is
    the accepted HMAC in hex, ``attempt`` the r that was accepted, ``target`` = x mod W."""

    index: int
    tier_id: int
    entry_id: int
    value: str
    attempt: int
    target: int
    total_weight: int


def draw(*, seed: str, snapshot: str, entries: Sequence[tuple[int, int]],
         tiers: Sequence[tuple[int, int]]) -> list[Pick]:
    """The scheduled draw: ``entries`` (id, weight), ``tiers`` (tier id, quantity) in rank
    order, ``snapshot`` the published snapshot hash. Returns the picks in draw order."""
    key = _seed_bytes(seed)
    remaining = sorted(entries)
    snapshot_text(remaining)  # validates
    total = sum(w for _id, w in remaining)
    picks: list[Pick] = []
    k = 0
    for tier_id, quantity in tiers:
        for _n in range(quantity):
            if not remaining:
                return picks
            t, value, attempt = _uniform(key, f"{snapshot}|draw|{k}", total)
            running = 0
            for position, (entry_id, weight) in enumerate(remaining):
                running += weight
                if running > t:
                    picks.append(Pick(k, tier_id, entry_id, value, attempt, t, total))
                    del remaining[position]
                    total -= weight
                    break
            k += 1
    return picks


@dataclass(frozen=True)
class InstantResult:
    entry_id: int
    position: int  # n, 1-based
    slots_left: int  # s
    prizes_left: int  # R
    target: int
    value: str
    attempt: int
    tier_id: int | None  # the prize won, None for nothing


def instant_draw(*, seed: str, commitment: str, entry_id: int, position: int, slots: int,
                 remaining: Sequence[tuple[int, int]]) -> InstantResult:
    """One instant-win entry: the ``position``-th of ``slots``, against ``remaining``
    (tier id, prizes left) in rank order."""
    left = slots - position + 1
    if left < 1:
        raise FairnessError("more entries than slots")
    prizes = sum(q for _t, q in remaining)
    t, value, attempt = _uniform(_seed_bytes(seed), f"{commitment}|instant|{entry_id}", left)
    tier_id = None
    if t < prizes:
        running = 0
        for tid, quantity in remaining:
            running += quantity
            if running > t:
                tier_id = tid
                break
    return InstantResult(entry_id, position, left, prizes, t, value, attempt, tier_id)


def instant_replay(*, seed: str, commitment: str, entry_ids: Sequence[int], slots: int,
                   tiers: Sequence[tuple[int, int]]) -> list[InstantResult]:
    """Every instant entry of a lottery, in id order, as they were drawn."""
    left = [list(t) for t in tiers]
    results = []
    for position, entry_id in enumerate(sorted(entry_ids), start=1):
        result = instant_draw(seed=seed, commitment=commitment, entry_id=entry_id,
                              position=position, slots=slots,
                              remaining=[(t, q) for t, q in left if q > 0])
        if result.tier_id is not None:
            for row in left:
                if row[0] == result.tier_id:
                    row[1] -= 1
        results.append(result)
    return results


@dataclass(frozen=True)
class Verdict:
    ok: bool
    problems: list[str]


def verify(proof: dict) -> Verdict:
    """Check a published proof (the API's ``/proof`` answer) from its data alone: the seed
    against the commitment, the entries against the snapshot hash, and the winners against
    a fresh draw. Never trusts the proof's own ``winners`` beyond comparing them."""
    problems: list[str] = []
    try:
        if proof.get("algorithm") != ALGORITHM:
            return Verdict(False, [f"unknown algorithm {proof.get('algorithm')!r}"])
        seed = proof.get("seed") or ""
        if not seed:
            return Verdict(False, ["the seed is not revealed yet"])
        if commitment_of(seed) != proof.get("commitment"):
            problems.append("the revealed seed does not match the commitment")
        entries = [(int(e["id"]), int(e["weight"])) for e in proof.get("entries", [])]
        if snapshot_hash(entries) != proof.get("snapshot_hash"):
            problems.append("the entry list does not match the snapshot hash")
        tiers = [(int(t["id"]), int(t["quantity"])) for t in proof.get("tiers", [])]
        claimed = sorted((int(w["draw_index"]), int(w["entry_id"]), int(w["tier_id"]))
                         for w in proof.get("winners", []))
        if proof.get("mode") == "instant":
            results = instant_replay(seed=seed, commitment=proof["commitment"],
                                     entry_ids=[e for e, _w in entries],
                                     slots=int(proof["entry_slots"]), tiers=tiers)
            expected = sorted((r.position, r.entry_id, r.tier_id) for r in results
                              if r.tier_id is not None)
        else:
            picks = draw(seed=seed, snapshot=proof["snapshot_hash"], entries=entries,
                         tiers=tiers)
            expected = sorted((p.index, p.entry_id, p.tier_id) for p in picks)
        if claimed != expected:
            problems.append("the published winners differ from the recomputed draw")
    except (FairnessError, KeyError, TypeError, ValueError) as exc:
        problems.append(f"the proof cannot be read: {exc}")
    return Verdict(not problems, problems)
