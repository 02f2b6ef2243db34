"""Planted preferences for the demo generators: what a department and a person go for in
the mall, so the history they leave has something for recommendations to find (and for
``bench/recommend.py`` to measure against popularity).

One shared model, used by the small demo (``demo.mall``) and the bulk one (``demo.large``):

- each top-level department favours 2–3 mall categories (chosen from the seed and the
  department, so the same seed gives the same company);
- each employee has one interest: most often one of their department's favoured
  categories, otherwise a category of their own;
- the interest shows in what they earn: someone into courses or training earns more
  learning points (``earning_weights``);
- a redemption is a weighted pick among the affordable items: a favoured category counts
  ``FAVOURED`` times a plain one, the personal interest ``INTEREST`` times, each item has a
  mild appeal of its own (some mugs are nicer than others), each pick some noise, dearer
  items a little more (people save up for something), and an item already redeemed is
  picked again only now and then.

Categories are whatever keys the caller uses (the demo uses the mall's category slugs);
the model only needs them to be strings.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from jifen.ledger.models import Category as Earning

FAVOURED = 5.0  # a department's favoured category against a plain one
INTEREST = 9.0  # the person's own interest (on top of being favoured, if it is)
FROM_DEPARTMENT = 0.6  # share of people whose interest is one of the department's
APPEAL_SPREAD = 0.35  # log-normal sigma of an item's own appeal
NOISE = 0.5  # log-normal sigma of each pick's noise
REPEAT = 0.15  # weight of an item already redeemed (coffee vouchers do come back)
PRICE_POWER = 0.3  # mild: weight × (share of the budget the item takes) ** this
EARNING_LEAN = 2.5  # the interest's earning category weighs this much more

# What an interest in a mall category says about how someone earns points: a rough
# association, enough to make the earning mix and the mall agree.
EARNING_OF: dict[str, str] = {
    "courses": Earning.LEARNING,
    "training": Earning.LEARNING,
    "digital": Earning.PERFORMANCE,
    "leave": Earning.PERFORMANCE,
    "home": Earning.TEAMWORK,
    "office": Earning.TEAMWORK,
    "health": Earning.CULTURE,
    "member": Earning.ENGAGEMENT,
    "topup": Earning.ENGAGEMENT,
    "cards": Earning.ATTENDANCE,
}


@dataclass(frozen=True)
class Taste:
    favoured: tuple[str, ...]  # the department's categories
    interest: str  # the person's own

    @property
    def earning(self) -> str:
        """The earning category the interest leans to ("" when none)."""
        return EARNING_OF.get(self.interest, "")


def favoured_categories(seed: object, department: object,
                        categories: Collection[str]) -> tuple[str, ...]:
    """The 2–3 categories a top-level department favours (the same for the same seed)."""
    pool = sorted(set(categories))
    if not pool:
        return ()
    rng = random.Random(f"{seed}/tastes/department/{department}")
    count = min(len(pool), 2 + (rng.random() < 0.5))
    return tuple(sorted(rng.sample(pool, count)))


def taste_for(rng: random.Random, favoured: Sequence[str],
              categories: Collection[str]) -> Taste:
    """A person's taste in a department that favours ``favoured``: their interest is one
    of those (``FROM_DEPARTMENT`` of the time) or any category."""
    pool = sorted(set(categories))
    if favoured and (rng.random() < FROM_DEPARTMENT or not pool):
        interest = rng.choice(list(favoured))
    else:
        interest = rng.choice(pool) if pool else ""
    return Taste(favoured=tuple(favoured), interest=interest)


def earning_weights(taste: Taste | None, base: dict[str, float]) -> dict[str, float]:
    """``base`` (earning category → weight) leaned to the person's interest."""
    lean = taste.earning if taste is not None else ""
    return {category: weight * (EARNING_LEAN if category == lean else 1.0)
            for category, weight in base.items()}


def appeal(seed: object, item: object) -> float:
    """An item's own appeal, the same for everyone (around 1)."""
    return random.Random(f"{seed}/tastes/item/{item}").lognormvariate(0.0, APPEAL_SPREAD)


def weight(taste: Taste, category: str, *, points: int = 0, budget: int = 0,
           redeemed: bool = False, item_appeal: float = 1.0) -> float:
    """How much the person goes for one item, before the pick's noise."""
    value = 1.0 + (FAVOURED - 1.0) * (category in taste.favoured) + INTEREST * (
        category == taste.interest)
    value *= item_appeal
    if budget > 0 and points > 0:
        value *= min(1.0, points / budget) ** PRICE_POWER
    if redeemed:
        value *= REPEAT
    return value


def pick(rng: random.Random, taste: Taste, items: Sequence[tuple[object, str, int]], *,
         budget: int = 0, redeemed: Collection[object] = (),
         appeals: dict[object, float] | None = None) -> int | None:
    """The index in ``items`` ((key, category, points) each, all affordable) of the one the
    person picks, or None when there is none."""
    if not items:
        return None
    weights = [weight(taste, category, points=points, budget=budget, redeemed=key in redeemed,
                      item_appeal=(appeals or {}).get(key, 1.0))
               * rng.lognormvariate(0.0, NOISE) for key, category, points in items]
    return rng.choices(range(len(items)), weights)[0]
