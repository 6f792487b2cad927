"""Distance-to-frontier normalisation: score = 100·(worst − y)/(worst − best), clipped to 0–100.

The same formula serves both directions: for "higher is better" best > worst, otherwise best < worst.
A bound left out of the rulebook is taken from the values observed across the compared units
(units whose value is missing or not applicable are not observed), which is why a run scores all
units at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable

from inspect_kit.score.model import Frontier

HUNDRED = Fraction(100)


@dataclass(frozen=True)
class Bounds:
    best: Fraction
    worst: Fraction
    flat: Fraction | None  # when best and worst coincide or cross: the score every unit gets


def frontier_bounds(f: Frontier, observed: Iterable[Fraction]) -> Bounds | None:
    """The bounds for one group of units; None when a bound must be observed and nothing was."""
    values = list(observed)
    pick_best, pick_worst = (max, min) if f.higher_is_better else (min, max)
    if (f.best is None or f.worst is None) and not values:
        return None
    best = Fraction(f.best) if f.best is not None else pick_best(values)
    worst = Fraction(f.worst) if f.worst is not None else pick_worst(values)
    sign = 1 if f.higher_is_better else -1
    if sign * (best - worst) > 0:
        return Bounds(best, worst, None)
    # Degenerate: the observed bound reached or passed the fixed one, or every value is equal.
    # Observed best not better than a fixed worst: every unit is at or below the worst → 0.
    # Observed worst not worse than a fixed best, or all values equal: every unit is at the frontier → 100.
    only_best_observed = f.best is None and f.worst is not None
    return Bounds(best, worst, Fraction(0) if only_best_observed else HUNDRED)


def frontier_score(b: Bounds, y: Fraction) -> Fraction:
    if b.flat is not None:
        return b.flat
    score = HUNDRED * (b.worst - y) / (b.worst - b.best)
    return min(HUNDRED, max(Fraction(0), score))
