"""Grades, vetoes, the top-grade cap and ranks, decided on the presented (2-decimal) totals.

Order of decisions, within each comparison group:
1. score grade: the first band (highest min first) whose min <= total; below every min, the last band.
2. vetoes: force_grade lowers the grade to the named band if it is higher (a veto never raises a
   grade); bar_top_grade moves a top-band grade one band down.
3. top-grade cap: if more units than allowed hold the top grade, they are ordered by total
   (desc), then unit code; those past the limit drop one band. Units tied with the last one
   allowed are treated alike: ties = "drop_all" (default) drops all of them, so the cap is never
   exceeded; ties = "keep_all" keeps all of them. Vetoed units never use a place.
4. rank: by total desc; equal totals share the rank and the next rank skips (1, 2, 2, 4).
   Rank ignores grades: a vetoed unit keeps the rank of its total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Sequence

from inspect_kit.score.model import Grades, TopGradeCap
from inspect_kit.score.numbers import round_half_up


@dataclass(frozen=True)
class Veto:
    indicator: str  # indicator name, for the note
    effect: str  # force_grade | bar_top_grade
    grade: str | None


@dataclass(frozen=True)
class Candidate:
    code: str
    total: Decimal
    vetoes: tuple[Veto, ...]


@dataclass(frozen=True)
class Decision:
    grade: str
    score_grade: str
    rank: int
    notes: tuple[str, ...]


def band_index(grades: Grades, total: Decimal) -> int:
    for i, band in enumerate(grades.bands):
        if total >= band.min:
            return i
    return len(grades.bands) - 1


def allowed_top(cap: TopGradeCap, group_size: int) -> int:
    if cap.count is not None:
        return cap.count
    exact = Fraction(cap.fraction) * group_size  # type: ignore[arg-type]
    if cap.rounding == "floor":
        return math.floor(exact)
    if cap.rounding == "ceil":
        return math.ceil(exact)
    return round_half_up(exact)


def competition_ranks(totals: dict[str, Decimal]) -> dict[str, int]:
    """1 for the best total; equal totals share a rank and the next one skips (1, 2, 2, 4)."""
    ordered = sorted(totals, key=lambda c: (-totals[c], c))
    ranks: dict[str, int] = {}
    for position, code in enumerate(ordered, start=1):
        previous = ordered[position - 2] if position > 1 else code
        ranks[code] = ranks[previous] if previous != code and totals[previous] == totals[code] else position
    return ranks


def decide(grades: Grades, group: Sequence[Candidate]) -> dict[str, Decision]:
    """Grades and ranks for one comparison group."""
    names = [b.grade for b in grades.bands]
    index: dict[str, int] = {}
    notes: dict[str, list[str]] = {c.code: [] for c in group}
    for c in group:
        index[c.code] = _apply_vetoes(grades, c, band_index(grades, c.total), notes[c.code])
    if grades.top_cap is not None:
        _apply_cap(grades, grades.top_cap, group, index, notes)
    ranks = competition_ranks({c.code: c.total for c in group})
    return {
        c.code: Decision(names[index[c.code]], names[band_index(grades, c.total)], ranks[c.code], tuple(notes[c.code]))
        for c in group
    }


def _apply_vetoes(grades: Grades, c: Candidate, i: int, notes: list[str]) -> int:
    names = [b.grade for b in grades.bands]
    for veto in c.vetoes:
        if veto.effect == "force_grade":
            forced = names.index(veto.grade)  # type: ignore[arg-type]
            if forced > i:
                notes.append(f"一票否决（{veto.indicator}）：等次由“{names[i]}”降为“{names[forced]}”")
                i = forced
            else:
                notes.append(f"一票否决（{veto.indicator}）：等次最高为“{names[forced]}”，现为“{names[i]}”，不变")
        elif i == 0:
            notes.append(f"一票否决（{veto.indicator}）：不得评为“{names[0]}”，降为“{names[1]}”")
            i = 1
        else:
            notes.append(f"一票否决（{veto.indicator}）：不得评为“{names[0]}”")
    return i


def _apply_cap(
    grades: Grades, cap: TopGradeCap, group: Sequence[Candidate], index: dict[str, int], notes: dict[str, list[str]]
) -> None:
    names = [b.grade for b in grades.bands]
    top = sorted((c for c in group if index[c.code] == 0), key=lambda c: (-c.total, c.code))
    limit = allowed_top(cap, len(group))
    if len(top) <= limit:
        return
    cut = top[limit].total  # the best total that does not fit
    straddles = limit > 0 and top[limit - 1].total == cut  # a tie across the boundary
    for position, c in enumerate(top):
        tied = straddles and c.total == cut
        if position < limit and not (tied and cap.ties == "drop_all"):
            continue
        if tied and cap.ties == "keep_all":
            notes[c.code].append(f"“{names[0]}”限{limit}名；与第{limit}名同分，按并列保留")
            continue
        reason = "与名额边界同分，并列者均不占用名额" if tied else "按总分排序超出名额"
        notes[c.code].append(f"“{names[0]}”限{limit}名（本组{len(group)}个单位），{reason}，降为“{names[1]}”")
        index[c.code] = 1
