"""The scoring engine: a pure function from (rulebook, every unit's inputs) to a ScoringRun.

All units are scored in one call because frontier normalisation, the top-grade cap and ranks
depend on the other units. Per unit:

1. raw points per indicator by its rule (rules.py); a missing input scores by `on_missing`
   ("zero" → 0, "full" → the indicator's max, "not_applicable" → as below);
2. weights:
   - base indicators, when some are not applicable (NA), with M = full_marks, m_i an indicator's
     max, A = Σ m_i over applicable base indicators:
       reweight = "total":    w = M / A for every applicable base indicator;
       reweight = "category": w = (M_c / A_c) · (M / Σ M_c over categories with A_c > 0), where
                              M_c is the category max and A_c its applicable indicators' Σ m_i.
     So the largest possible total stays M. No NA → w = 1. NA indicators get w = 0.
     If nothing in the base is applicable, every base weight is 0 and a note says so.
   - bonus / penalty categories: if the raw points exceed the category cap in absolute value,
     every indicator of the category is scaled by cap / |raw sum| (proportional, so each keeps
     its share); otherwise w = 1. NA bonus/penalty indicators score 0 and re-weight nothing.
3. exact points = raw × w (Fractions); exact total = Σ exact points. Presentation (2 decimals):
   the presented total is the exact total rounded half-up; category subtotals are apportioned to
   it and each category's indicators to their subtotal, by largest remainder (numbers.py). So the
   presented parts add up exactly, and each is within 0.01 of its exact value.
4. grades and ranks on the presented totals (grading.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Sequence

from inspect_kit.errors import ValidationFailed
from inspect_kit.score.frontier import Bounds, frontier_bounds, frontier_score
from inspect_kit.score.grading import Candidate, Veto, decide
from inspect_kit.score.inputs import UnitInputs, inputs_sha256
from inspect_kit.score.model import Category, Indicator
from inspect_kit.score.numbers import apportion_cents, cents_to_decimal
from inspect_kit.score.observe import Observation, check_units, observe, unmatched_targets
from inspect_kit.score.results import CategoryResult, IndicatorResult, ScoringRun, UnitResult
from inspect_kit.score.rulebook import Rulebook
from inspect_kit.score.rules import RuleOutcome, describe, evaluate, points_range
from inspect_kit.score.weights import weights

Observations = dict[str, Observation]  # indicator key → observation, for one unit
_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class _UnitDraft:
    unit: UnitInputs
    group: str
    categories: tuple[CategoryResult, ...]
    exact_total: Fraction
    total: Decimal  # presented: the sum of the presented indicator points
    vetoes: tuple[Veto, ...]
    notes: tuple[str, ...]


def score(rulebook: Rulebook, units: Sequence[UnitInputs]) -> ScoringRun:
    """Score every unit against the rulebook. Raises ValidationFailed listing every input problem."""
    problems = check_units(rulebook, units)
    observed = {u.code: {ind.key: observe(ind, u, problems) for ind in rulebook.indicators} for u in units}
    if problems:
        raise ValidationFailed(f"scoring inputs refused for {rulebook.name!r}", problems)
    group_of = {u.code: _group(rulebook, u) for u in units}
    bounds = _all_bounds(rulebook, units, observed, group_of)
    drafts = [_score_unit(rulebook, u, observed[u.code], group_of[u.code], bounds) for u in units]
    results: list[UnitResult] = []
    for group in sorted(set(group_of.values())):
        members = [d for d in drafts if d.group == group]
        decisions = decide(rulebook.model.grades, [Candidate(d.unit.code, d.total, d.vetoes) for d in members])
        for d in members:
            dec = decisions[d.unit.code]
            results.append(
                UnitResult(
                    code=d.unit.code,
                    name=d.unit.name,
                    unit_kind=d.unit.kind,
                    total=d.total,
                    exact_total=d.exact_total,
                    grade=dec.grade,
                    score_grade=dec.score_grade,
                    rank=dec.rank,
                    group=group,
                    notes=d.notes + dec.notes,
                    categories=d.categories,
                )
            )
    results.sort(key=lambda r: (r.group, r.rank, r.code))
    return ScoringRun(
        rulebook_name=rulebook.name,
        rulebook_version=rulebook.version,
        rulebook_sha256=rulebook.source_sha256,
        rulebook_model_sha256=rulebook.model_sha256,
        inputs_sha256=inputs_sha256(units),
        full_marks=Fraction(rulebook.model.rulebook.full_marks),
        units=tuple(results),
        warnings=tuple(unmatched_targets(rulebook, units)),
    )


def _group(rulebook: Rulebook, unit: UnitInputs) -> str:
    return unit.kind if rulebook.model.scoring.compare_within == "kind" else "all"


def _all_bounds(
    rulebook: Rulebook, units: Sequence[UnitInputs], observed: dict[str, Observations], group_of: dict[str, str]
) -> dict[tuple[str, str], Bounds | None]:
    """Frontier bounds per (group, indicator), from the values observed within the group."""
    out: dict[tuple[str, str], Bounds | None] = {}
    for ind in rulebook.indicators:
        if ind.normalise is None:
            continue
        for group in set(group_of.values()):
            values = [
                observed[u.code][ind.key].value
                for u in units
                if group_of[u.code] == group and observed[u.code][ind.key].status == "ok"
            ]
            out[(group, ind.key)] = frontier_bounds(ind.normalise, [v for v in values if v is not None])
    return out


def _score_unit(
    rulebook: Rulebook,
    unit: UnitInputs,
    observed: Observations,
    group: str,
    bounds: dict[tuple[str, str], Bounds | None],
) -> _UnitDraft:
    top_grade = rulebook.model.grades.bands[0].grade
    ordered = [(cat, ind) for cat in rulebook.categories for ind in rulebook.indicators if ind.category == cat.key]
    drafts = [
        _score_indicator(ind, cat, observed[ind.key], bounds.get((group, ind.key)), top_grade) for cat, ind in ordered
    ]
    factors, notes = weights(
        rulebook, [(cat, ind, d.raw_points, "not_applicable" in d.flags) for (cat, ind), d in zip(ordered, drafts)]
    )
    drafts = [replace(d, weight=w, exact_points=d.raw_points * w) for d, w in zip(drafts, factors)]
    drafts, total = _present(rulebook, ordered, drafts)
    categories = tuple(
        _category_result(cat, [d for (c, _), d in zip(ordered, drafts) if c.key == cat.key])
        for cat in rulebook.categories
    )
    vetoes = tuple(
        Veto(ind.name, ind.rule.effect, ind.rule.grade)  # type: ignore[union-attr]
        for (_, ind), d in zip(ordered, drafts)
        if "veto" in d.flags
    )
    exact_total = sum((d.exact_points for d in drafts), Fraction(0))
    return _UnitDraft(unit, group, categories, exact_total, total, vetoes, notes)


def _present(
    rulebook: Rulebook, ordered: list[tuple[Category, Indicator]], drafts: list[IndicatorResult]
) -> tuple[list[IndicatorResult], Decimal]:
    """Presented points, apportioned top-down: the total is the exact total rounded half-up, the
    category subtotals add up to it, and each category's indicators add up to its subtotal."""
    keys = [cat.key for cat in rulebook.categories]
    members = {k: [n for n, (c, _) in enumerate(ordered) if c.key == k] for k in keys}
    exact_by_category = [sum((drafts[n].exact_points for n in members[k]), Fraction(0)) for k in keys]
    category_cents, total = apportion_cents(exact_by_category)
    cents: dict[int, int] = {}
    for k, target in zip(keys, category_cents):
        shares, _ = apportion_cents([drafts[n].exact_points for n in members[k]], target)
        cents.update(zip(members[k], shares))
    presented = [replace(d, points=cents_to_decimal(cents[n])) for n, d in enumerate(drafts)]
    return presented, cents_to_decimal(total)


def _category_result(cat: Category, members: list[IndicatorResult]) -> CategoryResult:
    effective = sum((m.max * m.weight for m in members), Fraction(0)) if cat.kind == "base" else Fraction(cat.max)
    return CategoryResult(
        key=cat.key,
        name=cat.name,
        kind=cat.kind,
        max=Fraction(cat.max),
        effective_max=effective,
        exact_points=sum((m.exact_points for m in members), Fraction(0)),
        points=sum((m.points for m in members), _ZERO),
        indicators=tuple(members),
    )


def _score_indicator(
    ind: Indicator, cat: Category, obs: Observation, bounds: Bounds | None, top_grade: str
) -> IndicatorResult:
    """Raw points and flags; weight and presented points are filled in by the caller."""
    flags: list[str] = []
    status = obs.status
    if status == "missing":
        flags.append("missing")
        if ind.on_missing == "not_applicable":
            status = "not_applicable"
    if status == "not_applicable":
        flags.append("not_applicable")
    low, high = points_range(ind, cat.kind)
    normalised = None
    if status == "ok":
        value = obs.value
        if ind.normalise is not None and value is not None:
            assert bounds is not None  # this unit's value was observed, so bounds exist
            normalised = value = frontier_score(bounds, value)
        outcome = evaluate(ind, cat.kind, obs, value)
        if outcome.vetoed:
            flags.append("veto")
    elif status == "missing":
        outcome = RuleOutcome(high if ind.on_missing == "full" else Fraction(0))
    else:
        outcome = RuleOutcome(Fraction(0))
    return IndicatorResult(
        key=ind.key,
        name=ind.name,
        category=cat.key,
        kind=ind.rule.kind,
        source=obs.source,
        metric=ind.metric,
        value=obs.value,
        numerator=obs.numerator,
        denominator=obs.denominator,
        normalised=normalised,
        display=ind.display,
        rule=describe(ind, cat.kind, top_grade),
        criteria=ind.criteria,
        raw_points=outcome.points,
        weight=Fraction(1),
        exact_points=outcome.points,
        points=_ZERO,
        max=high,
        min=low,
        flags=tuple(flags),
        records=outcome.records,
        note=_note(ind, obs, status),
    )


def _note(ind: Indicator, obs: Observation, status: str) -> str:
    if obs.status == "missing":
        how = {"zero": "按规则计0分", "full": "按规则计满分", "not_applicable": "按规则视为不适用"}[ind.on_missing]
        return f"数据缺失（{obs.note}），{how}" if obs.note else f"数据缺失，{how}"
    if status == "not_applicable":
        return f"不适用：{obs.note}" if obs.note else "不适用"
    return obs.note
