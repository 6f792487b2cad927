"""From a unit's raw inputs to one checked `Observation` per indicator.

Every input problem is collected (never the first only), named by a key path such as
"units[STHJ].metrics.plan_completion", so the engine can refuse a run with a complete list.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, Sequence

from inspect_kit.errors import Problem
from inspect_kit.score.inputs import (
    JudgementEntry,
    ManualValue,
    MetricRecord,
    MetricValue,
    Missing,
    NotApplicable,
    UnitInputs,
)
from inspect_kit.score.metrics import KNOWN_METRICS
from inspect_kit.score.model import Indicator
from inspect_kit.score.numbers import to_fraction
from inspect_kit.score.rulebook import Rulebook

Status = Literal["ok", "missing", "not_applicable"]
Source = Literal["metric", "manual", "judgement"]


@dataclass(frozen=True)
class Observation:
    status: Status
    source: Source
    value: Fraction | None = None
    numerator: int | None = None
    denominator: int | None = None
    records: tuple[MetricRecord, ...] = ()
    judgements: tuple[tuple[Fraction, str], ...] = ()  # (points deducted, reason)
    note: str = ""  # the evidence, or why the value is missing / not applicable


def source_of(ind: Indicator) -> Source:
    if ind.rule.kind == "judgement":
        return "judgement"
    return "metric" if ind.metric is not None else "manual"


def applies(ind: Indicator, unit: UnitInputs) -> bool:
    return ind.applies_to is None or unit.kind in ind.applies_to or unit.code in ind.applies_to


def check_units(rulebook: Rulebook, units: Sequence[UnitInputs]) -> list[Problem]:
    """Problems with the set of units and with keys that match nothing in the rulebook."""
    problems: list[Problem] = []
    codes = [u.code for u in units]
    if not units:
        problems.append(Problem("no units to score", key="units"))
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(Problem(f"unit {code!r} is given more than once", key=f"units[{code}]"))
    manual_keys = {i.key for i in rulebook.indicators if source_of(i) == "manual"}
    judgement_keys = {i.key for i in rulebook.indicators if source_of(i) == "judgement"}
    for u in units:
        for key in u.metrics:
            if key not in KNOWN_METRICS:
                problems.append(Problem(f"unknown metric {key!r}", key=f"units[{u.code}].metrics.{key}"))
        for key in u.manual:
            if key not in manual_keys:
                problems.append(
                    Problem(f"{key!r} is not a manual indicator of the rulebook", key=f"units[{u.code}].manual.{key}")
                )
        for key in u.judgements:
            if key not in judgement_keys:
                problems.append(
                    Problem(
                        f"{key!r} is not a judgement indicator of the rulebook", key=f"units[{u.code}].judgements.{key}"
                    )
                )
    return problems


def unmatched_targets(rulebook: Rulebook, units: Sequence[UnitInputs]) -> list[str]:
    """Warnings for applies_to entries that match no unit of this run: a typo, or a partial run."""
    known = {u.kind for u in units} | {u.code for u in units}
    return [
        f"indicator[{i}] {ind.key!r}: applies_to {target!r} matches no unit code or unit kind in this run"
        for i, ind in enumerate(rulebook.indicators)
        for target in ind.applies_to or ()
        if target not in known
    ]


def observe(ind: Indicator, unit: UnitInputs, problems: list[Problem]) -> Observation:
    """The checked input of one indicator for one unit; problems are appended, not raised."""
    source = source_of(ind)
    if not applies(ind, unit):
        return Observation("not_applicable", source, note=f"本指标仅适用于 {'、'.join(ind.applies_to or ())}")
    if source == "judgement":
        return _observe_judgement(ind, unit, problems)
    if source == "metric":
        assert ind.metric is not None
        where = f"units[{unit.code}].metrics.{ind.metric}"
        return _observe_metric(ind, unit.metrics.get(ind.metric, Missing()), where, problems)
    where = f"units[{unit.code}].manual.{ind.key}"
    return _observe_manual(ind, unit.manual.get(ind.key, Missing()), where, problems)


def _status_only(item: object, source: Source) -> Observation | None:
    if isinstance(item, NotApplicable):
        return Observation("not_applicable", source, note=item.reason)
    if isinstance(item, Missing):
        return Observation("missing", source, note=item.reason or "未提供数据")
    return None


def _observe_metric(ind: Indicator, item: object, where: str, problems: list[Problem]) -> Observation:
    known = _status_only(item, "metric")
    if known:
        return known
    if not isinstance(item, MetricValue):
        problems.append(
            Problem(f"expected MetricValue, NotApplicable or Missing, got {type(item).__name__}", key=where)
        )
        return Observation("missing", "metric")
    start = len(problems)
    for name in ("numerator", "denominator"):
        n = getattr(item, name)
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            problems.append(Problem(f"{name} must be a whole number >= 0, got {n!r}", key=f"{where}.{name}"))
    value = _metric_value(item, where, problems)
    occurrences = getattr(ind.rule, "occurrences", "value")
    if occurrences != "value" and (item.numerator is None or item.denominator is None):
        problems.append(
            Problem(f"indicator {ind.key!r} counts {occurrences}: give numerator and denominator", key=where)
        )
    if len(problems) > start:
        return Observation("missing", "metric")
    obs = Observation("ok", "metric", value, item.numerator, item.denominator, tuple(item.records))
    _check_count(ind, obs, where, problems)
    return obs


def _metric_value(item: MetricValue, where: str, problems: list[Problem]) -> Fraction | None:
    if item.value is not None:
        try:
            return to_fraction(item.value)
        except (ValueError, TypeError) as exc:
            problems.append(Problem(str(exc), key=f"{where}.value"))
            return None
    if item.numerator is None or item.denominator is None:
        problems.append(Problem("give a value, or numerator and denominator", key=where))
        return None
    if item.denominator == 0:
        problems.append(
            Problem(
                "denominator is 0: pass NotApplicable(reason) or Missing(reason) instead", key=f"{where}.denominator"
            )
        )
        return None
    return Fraction(item.numerator, item.denominator)


def _observe_manual(ind: Indicator, item: object, where: str, problems: list[Problem]) -> Observation:
    known = _status_only(item, "manual")
    if known:
        return known
    if not isinstance(item, ManualValue):
        problems.append(
            Problem(f"expected ManualValue, NotApplicable or Missing, got {type(item).__name__}", key=where)
        )
        return Observation("missing", "manual")
    if not item.evidence or not item.evidence.strip():
        problems.append(Problem("a manual value needs an evidence note", key=f"{where}.evidence"))
    try:
        value = to_fraction(item.value)
    except (ValueError, TypeError) as exc:
        problems.append(Problem(str(exc), key=f"{where}.value"))
        return Observation("missing", "manual")
    obs = Observation("ok", "manual", value, note=item.evidence.strip())
    _check_count(ind, obs, where, problems)
    return obs


def _observe_judgement(ind: Indicator, unit: UnitInputs, problems: list[Problem]) -> Observation:
    entries: list[tuple[Fraction, str]] = []
    for n, entry in enumerate(unit.judgements.get(ind.key, ())):
        where = f"units[{unit.code}].judgements.{ind.key}[{n}]"
        if not isinstance(entry, JudgementEntry):
            problems.append(Problem(f"expected JudgementEntry, got {type(entry).__name__}", key=where))
            continue
        try:
            points = to_fraction(entry.points)
        except (ValueError, TypeError) as exc:
            problems.append(Problem(str(exc), key=f"{where}.points"))
            continue
        if points <= 0:
            problems.append(Problem(f"points deducted must be > 0, got {entry.points}", key=f"{where}.points"))
        if not entry.reason or not entry.reason.strip():
            problems.append(Problem("a judgement deduction needs its reason", key=f"{where}.reason"))
        entries.append((points, entry.reason.strip() if entry.reason else ""))
    return Observation("ok", "judgement", judgements=tuple(entries))


def count_of(ind: Indicator, obs: Observation) -> Fraction:
    """How many occurrences a deduction or bonus counts, by the rule's `occurrences`."""
    occurrences = getattr(ind.rule, "occurrences", "value")
    if occurrences == "failures":
        assert obs.numerator is not None and obs.denominator is not None
        return Fraction(obs.denominator - obs.numerator)
    if occurrences == "numerator":
        assert obs.numerator is not None
        return Fraction(obs.numerator)
    assert obs.value is not None
    return obs.value


def _check_count(ind: Indicator, obs: Observation, where: str, problems: list[Problem]) -> None:
    if ind.rule.kind not in ("deduction", "bonus"):
        return
    n = count_of(ind, obs)
    if n < 0 or n.denominator != 1:
        problems.append(
            Problem(f"indicator {ind.key!r} counts occurrences; got {n}, not a whole number >= 0", key=where)
        )
