"""The output of a scoring run: plain frozen dataclasses, exact and presented values side by side.

`exact_*` fields are Fractions; `points` / `total` are the presented 2-decimal values. The presented
indicator points of a unit add up to its presented total exactly (see numbers.apportion_cents),
and so do the category subtotals.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class ScoredRecord:
    """One item behind a deduction or bonus: negative points deducted, positive added."""

    ref: str | None  # task / notice / order number; None for a manual count or a judgement
    note: str
    points: Fraction  # before weighting; 0 once a floor or cap was reached


@dataclass(frozen=True)
class IndicatorResult:
    key: str
    name: str
    category: str
    kind: str  # rule kind: linear | tiers | deduction | bonus | judgement | veto
    source: str  # metric | manual | judgement
    metric: str | None
    value: Fraction | None
    numerator: int | None
    denominator: int | None
    normalised: Fraction | None  # the 0–100 frontier score fed to the rule, when normalised
    display: str  # "number" | "percent": how to show `value`
    rule: str  # the rule in words
    criteria: str | None  # the bureau's own wording, from the rulebook
    raw_points: Fraction  # by the rule alone
    weight: Fraction  # re-weighting (not applicable) or cap scaling; 0 when not applicable
    exact_points: Fraction  # raw_points × weight
    points: Decimal  # presented
    max: Fraction  # the most the rule can give (0 for penalty and veto)
    min: Fraction  # the least (negative for penalty)
    flags: tuple[str, ...]  # "missing", "not_applicable", "veto"
    records: tuple[ScoredRecord, ...]
    note: str  # evidence, or why missing / not applicable


@dataclass(frozen=True)
class CategoryResult:
    key: str
    name: str
    kind: str  # base | bonus | penalty | veto
    max: Fraction  # from the rulebook: points, bonus cap, or deduction cap
    effective_max: Fraction  # base: Σ max × weight of the applicable indicators (re-weighting moves it)
    exact_points: Fraction
    points: Decimal  # sum of the presented indicator points
    indicators: tuple[IndicatorResult, ...]


@dataclass(frozen=True)
class UnitResult:
    code: str
    name: str
    unit_kind: str
    total: Decimal  # presented; grades and ranks are decided on this number
    exact_total: Fraction
    grade: str  # after vetoes and the top-grade cap
    score_grade: str  # the band the total alone falls in
    rank: int  # 1 = best; equal totals share a rank (1, 2, 2, 4)
    group: str  # the units it was compared with: "all" or its unit kind
    notes: tuple[str, ...]  # why the grade differs from score_grade, and unit-level remarks
    categories: tuple[CategoryResult, ...]

    @property
    def indicators(self) -> tuple[IndicatorResult, ...]:
        return tuple(i for c in self.categories for i in c.indicators)


@dataclass(frozen=True)
class ScoringRun:
    rulebook_name: str
    rulebook_version: str
    rulebook_sha256: str  # over the rulebook text (see rulebook.py)
    rulebook_model_sha256: str  # over the canonical JSON of the validated rulebook
    inputs_sha256: str  # over inputs.to_canonical(units)
    full_marks: Fraction
    units: tuple[UnitResult, ...]  # by group, then rank, then unit code
    warnings: tuple[str, ...] = ()  # e.g. an applies_to entry that matches no unit of this run

    def unit(self, code: str) -> UnitResult:
        for u in self.units:
            if u.code == code:
                return u
        raise KeyError(code)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: Fractions as exact strings ("10/9"), Decimals as "87.50"."""
        plain: dict[str, Any] = _plain(asdict(self))
        return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    if isinstance(value, Decimal):
        return str(value)
    return value
