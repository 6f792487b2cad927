"""Weight factors: re-weighting for "not applicable" base indicators, and bonus/penalty caps.

The formulas are documented in engine.py; this module computes them for one unit.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from inspect_kit.score.model import Category, Indicator
from inspect_kit.score.rulebook import Rulebook

# (category, indicator, raw points, not applicable?) for every indicator, in rulebook order
Line = tuple[Category, Indicator, Fraction, bool]


def weights(rulebook: Rulebook, lines: Sequence[Line]) -> tuple[list[Fraction], tuple[str, ...]]:
    """One weight per line, and unit-level notes (e.g. nothing in the base was applicable)."""
    base, notes = _base_weights(rulebook, lines)
    out: list[Fraction] = []
    for _n, (cat, _ind, _raw, not_applicable) in enumerate(lines):
        if not_applicable:
            out.append(Fraction(0))
        elif cat.kind == "base":
            out.append(base[cat.key])
        elif cat.kind in ("bonus", "penalty"):
            out.append(_cap_factor(cat, [raw for c, _i, raw, na in lines if c.key == cat.key and not na]))
        else:
            out.append(Fraction(1))
    return out, notes


def _base_weights(rulebook: Rulebook, lines: Sequence[Line]) -> tuple[dict[str, Fraction], tuple[str, ...]]:
    full = Fraction(rulebook.model.rulebook.full_marks)
    base_cats = [c for c in rulebook.categories if c.kind == "base"]
    applicable = {
        c.key: sum((Fraction(i.max) for cat, i, _r, na in lines if cat.key == c.key and not na), Fraction(0))
        for c in base_cats
    }
    total_applicable = sum(applicable.values(), Fraction(0))
    if total_applicable == 0:
        return {c.key: Fraction(0) for c in base_cats}, ("所有基础指标均不适用，基础分计0分",)
    if rulebook.model.scoring.reweight == "total":
        return {c.key: full / total_applicable for c in base_cats}, ()
    covered = sum((Fraction(c.max) for c in base_cats if applicable[c.key] > 0), Fraction(0))
    return {
        c.key: (Fraction(c.max) / applicable[c.key]) * (full / covered) if applicable[c.key] else Fraction(0)
        for c in base_cats
    }, ()


def _cap_factor(cat: Category, raws: list[Fraction]) -> Fraction:
    """Scale a bonus or penalty category down to its cap, keeping each indicator's share."""
    size = abs(sum(raws, Fraction(0)))
    cap = Fraction(cat.max)
    return cap / size if size > cap else Fraction(1)
