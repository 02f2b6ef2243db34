"""The draw algorithm (jifen.activities.fairness, docs/decisions/0019) from its published
data alone."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jifen.activities import fairness

SEED = "00" * 31 + "01"


def test_the_commitment_is_the_sha256_of_the_seed_bytes():
    assert fairness.commitment_of(SEED) == hashlib.sha256(bytes.fromhex(SEED)).hexdigest()
    assert len(fairness.new_seed()) == 64
    assert fairness.new_seed() != fairness.new_seed()


def test_the_snapshot_is_one_line_per_entry_sorted_by_id():
    assert fairness.snapshot_text([(12, 1), (3, 2)]) == "3:2\n12:1\n"
    assert fairness.snapshot_hash([(12, 1), (3, 2)]) == hashlib.sha256(b"3:2\n12:1\n").hexdigest()
    assert fairness.snapshot_hash([]) == hashlib.sha256(b"").hexdigest()
    with pytest.raises(fairness.FairnessError):
        fairness.snapshot_text([(1, 1), (1, 2)])
    with pytest.raises(fairness.FairnessError):
        fairness.snapshot_text([(1, 0)])


def test_draw_zero_is_the_documented_hmac_reduced_by_the_total_weight():
    entries = [(5, 1), (7, 3), (9, 1)]
    snap = fairness.snapshot_hash(entries)
    digest = hmac.new(bytes.fromhex(SEED), f"{snap}|draw|0|0".encode(), hashlib.sha256).digest()
    x = int.from_bytes(digest, "big")
    assert x < (2**256 // 5) * 5  # no rejection for such a small W, in practice
    t = x % 5
    expected = 5 if t < 1 else 7 if t < 4 else 9
    (pick,) = fairness.draw(seed=SEED, snapshot=snap, entries=entries, tiers=[(1, 1)])
    assert (pick.entry_id, pick.value, pick.target, pick.attempt) == (expected, digest.hex(), t, 0)


def test_a_rejected_value_draws_again_with_the_next_attempt():
    # With W just above 2**255 about half of all values are rejected: find a draw that was.
    entries = [(1, 2**255 + 1)]
    picks = [fairness._uniform(bytes.fromhex(SEED), f"s|draw|{k}", 2**255 + 1)
             for k in range(40)]
    assert any(attempt > 0 for _t, _v, attempt in picks)
    for _t, value, _attempt in picks:
        assert int(value, 16) < 2**255 + 1  # the accepted one was below the limit
    assert fairness.draw(seed=SEED, snapshot="s", entries=entries, tiers=[(1, 1)])[0].entry_id == 1


def proof_of(seed, entries, tiers, *, mode="scheduled", slots=None):
    snap = fairness.snapshot_hash(entries)
    commitment = fairness.commitment_of(seed)
    if mode == "instant":
        winners = [{"draw_index": r.position, "entry_id": r.entry_id, "tier_id": r.tier_id}
                   for r in fairness.instant_replay(seed=seed, commitment=commitment,
                                                    entry_ids=[e for e, _w in entries],
                                                    slots=slots, tiers=tiers)
                   if r.tier_id is not None]
    else:
        winners = [{"draw_index": p.index, "entry_id": p.entry_id, "tier_id": p.tier_id}
                   for p in fairness.draw(seed=seed, snapshot=snap, entries=entries, tiers=tiers)]
    return {"algorithm": fairness.ALGORITHM, "mode": mode, "seed": seed,
            "commitment": commitment, "snapshot_hash": snap, "entry_slots": slots,
            "entries": [{"id": e, "weight": w} for e, w in entries],
            "tiers": [{"id": t, "quantity": q} for t, q in tiers], "winners": winners}


def test_a_proof_verifies_and_any_tampering_fails():
    seed = fairness.new_seed()
    proof = proof_of(seed, [(i, 1 + i % 3) for i in range(1, 40)], [(1, 1), (2, 3)])
    assert fairness.verify(proof).ok
    assert not fairness.verify({**proof, "seed": fairness.new_seed()}).ok
    assert not fairness.verify({**proof, "entries": proof["entries"][1:]}).ok
    assert not fairness.verify({**proof, "entries": [{"id": 1, "weight": 9},
                                                     *proof["entries"][1:]]}).ok
    swapped = [{**w, "entry_id": w["entry_id"] % 39 + 1} for w in proof["winners"]]
    assert not fairness.verify({**proof, "winners": swapped}).ok
    assert not fairness.verify({**proof, "seed": "zz"}).ok
    assert not fairness.verify({**proof, "algorithm": "other"}).ok


def test_instant_win_gives_every_prize_when_every_slot_is_taken():
    seed = fairness.new_seed()
    results = fairness.instant_replay(seed=seed, commitment=fairness.commitment_of(seed),
                                      entry_ids=list(range(1, 21)), slots=20,
                                      tiers=[(1, 2), (2, 3)])
    won = Counter(r.tier_id for r in results if r.tier_id is not None)
    assert won == {1: 2, 2: 3}
    proof = proof_of(seed, [(i, 1) for i in range(1, 21)], [(1, 2), (2, 3)], mode="instant",
                     slots=20)
    assert fairness.verify(proof).ok
    assert not fairness.verify({**proof, "winners": proof["winners"][1:]}).ok


@settings(max_examples=80, deadline=None)
@given(entries=st.dictionaries(st.integers(1, 10_000), st.integers(1, 50), max_size=60),
       quantities=st.lists(st.integers(1, 5), min_size=1, max_size=4),
       seed=st.binary(min_size=32, max_size=32))
def test_winners_are_distinct_entries_of_the_snapshot(entries, quantities, seed):
    pairs = list(entries.items())
    tiers = list(enumerate(quantities, start=1))
    picks = fairness.draw(seed=seed.hex(), snapshot=fairness.snapshot_hash(pairs),
                          entries=pairs, tiers=tiers)
    ids = [p.entry_id for p in picks]
    assert len(ids) == len(set(ids)) == min(len(pairs), sum(quantities))
    assert set(ids) <= set(entries)
    assert [p.index for p in picks] == list(range(len(picks)))
    # tiers are filled in rank order
    assert [p.tier_id for p in picks] == sorted(p.tier_id for p in picks)


def test_weights_are_respected_in_aggregate():
    counts: Counter = Counter()
    for n in range(3000):
        seed = hashlib.sha256(str(n).encode()).hexdigest()
        (pick,) = fairness.draw(seed=seed, snapshot="x", entries=[(1, 1), (2, 3)],
                                tiers=[(1, 1)])
        counts[pick.entry_id] += 1
    assert 0.70 < counts[2] / 3000 < 0.80
