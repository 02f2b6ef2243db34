"""The demo's planted tastes: the same seed plants the same ones, and they show in what
people pick and how they earn."""

from __future__ import annotations

import random
from collections import Counter

from jifen.demo import tastes
from jifen.ledger.models import Category as Earning

CATEGORIES = ["cards", "courses", "digital", "health", "home", "leave", "member", "office",
              "topup", "training"]
# Ten items a category, prices 100–1,000.
ITEMS = [(f"{c}-{n}", c, 100 * (n + 1)) for c in CATEGORIES for n in range(10)]


def _picks(seed: str, taste: tastes.Taste, count: int) -> list[str]:
    rng = random.Random(seed)
    return [ITEMS[tastes.pick(rng, taste, ITEMS, budget=2000) or 0][0] for _n in range(count)]


def test_the_same_seed_plants_the_same_tastes_and_picks():
    first = [tastes.favoured_categories(2026, division, CATEGORIES) for division in range(20)]
    again = [tastes.favoured_categories(2026, division, CATEGORIES) for division in range(20)]
    other = [tastes.favoured_categories(7, division, CATEGORIES) for division in range(20)]

    assert first == again != other
    assert all(2 <= len(favoured) <= 3 and set(favoured) <= set(CATEGORIES)
               for favoured in first)
    assert len(set(first)) > 10  # divisions differ
    people = [tastes.taste_for(random.Random(f"p{n}"), first[0], CATEGORIES) for n in range(50)]
    assert people == [tastes.taste_for(random.Random(f"p{n}"), first[0], CATEGORIES)
                      for n in range(50)]
    assert _picks("s", people[0], 200) == _picks("s", people[0], 200)


def test_favoured_categories_and_the_own_interest_are_picked_more_often():
    taste = tastes.Taste(favoured=("home", "office"), interest="courses")

    picked = Counter(name.split("-")[0] for name in _picks("picks", taste, 4000))

    share = {category: picked[category] / 4000 for category in CATEGORIES}
    plain = max(share[c] for c in CATEGORIES if c not in ("home", "office", "courses"))
    # 2 of 10 categories favoured: a fifth of the catalogue, most of the picks.
    assert share["home"] > 2.5 * plain and share["office"] > 2.5 * plain
    assert share["courses"] > share["home"] and share["courses"] > share["office"]
    assert share["home"] + share["office"] + share["courses"] > 0.6


def test_most_people_share_their_departments_interest_and_it_leans_their_earning():
    favoured = ("courses", "health")
    rng = random.Random("people")
    people = [tastes.taste_for(rng, favoured, CATEGORIES) for _n in range(1000)]

    from_department = sum(person.interest in favoured for person in people) / 1000
    assert 0.55 < from_department < 0.8  # the department's, plus some who picked it anyway
    assert len({person.interest for person in people}) == len(CATEGORIES)
    learner = tastes.Taste(favoured=favoured, interest="courses")
    base = {Earning.LEARNING: 0.18, Earning.ATTENDANCE: 0.30}
    leaned = tastes.earning_weights(learner, base)
    assert leaned[Earning.LEARNING] > 2 * base[Earning.LEARNING]
    assert leaned[Earning.ATTENDANCE] == base[Earning.ATTENDANCE]


def test_an_item_already_redeemed_is_seldom_picked_again():
    taste = tastes.Taste(favoured=(), interest="courses")
    courses = [item for item in ITEMS if item[1] == "courses"]
    rng = random.Random("again")

    again = sum(courses[tastes.pick(rng, taste, courses, redeemed={"courses-0"}) or 0][0]
                == "courses-0" for _n in range(3000))

    assert 0 < again < 3000 / len(courses) / 2
