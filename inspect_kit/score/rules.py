"""Each rule kind as a pure function of one observed value, and the rule in words.

All points here are "raw": what the rule gives before re-weighting and category caps.
Sign convention: base and bonus indicators give 0..max; penalty indicators give −max..0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Sequence

from inspect_kit.score.model import (
    BonusRule,
    DeductionRule,
    Frontier,
    Indicator,
    JudgementRule,
    LinearRule,
    TiersRule,
    VetoRule,
)
from inspect_kit.score.numbers import format_number
from inspect_kit.score.observe import Observation, count_of
from inspect_kit.score.results import ScoredRecord


@dataclass(frozen=True)
class RuleOutcome:
    points: Fraction
    records: tuple[ScoredRecord, ...] = ()
    vetoed: bool = False


def linear_points(anchors: Sequence[tuple[Fraction, Fraction]], x: Fraction) -> Fraction:
    """Piecewise-linear through (at, points) anchors sorted by `at`; flat beyond either end."""
    if x <= anchors[0][0]:
        return anchors[0][1]
    for (x0, y0), (x1, y1) in zip(anchors, anchors[1:]):
        if x <= x1:
            return y0 + (x - x0) * (y1 - y0) / (x1 - x0)
    return anchors[-1][1]


def tier_points(tiers: Sequence[tuple[Fraction, Fraction]], otherwise: Fraction, x: Fraction) -> Fraction:
    """The points of the highest tier whose min the value reaches (value >= min)."""
    for minimum, points in sorted(tiers, reverse=True):
        if x >= minimum:
            return points
    return otherwise


def capped_walk(
    items: Sequence[tuple[str | None, str, Fraction]], capacity: Fraction, sign: int
) -> tuple[list[ScoredRecord], Fraction]:
    """Apply (ref, note, amount) items in order until `capacity` is used up (扣完为止 / 加满为止).

    Returns one ScoredRecord per item (0 points once the capacity is exhausted) and the amount used.
    """
    remaining = capacity
    out = []
    for ref, note, amount in items:
        taken = min(amount, remaining)
        remaining -= taken
        if taken < amount:
            note = f"{note}（已达上限，{'不再扣分' if sign < 0 else '不再加分'}）" if note else "已达上限"
        out.append(ScoredRecord(ref, note, sign * taken))
    return out, capacity - remaining


def _occurrence_items(ind: Indicator, obs: Observation, per: Fraction) -> list[tuple[str | None, str, Fraction]]:
    """One item per counted record when the records match the count; else one summary item."""
    n = count_of(ind, obs)
    if n == 0:
        return []
    occurrences = getattr(ind.rule, "occurrences", "value")
    if occurrences == "failures":
        records = [r for r in obs.records if not r.ok]
    elif occurrences == "numerator":
        records = [r for r in obs.records if r.ok]
    else:
        records = list(obs.records)
    if records and len(records) == n:
        return [(r.ref, r.note, per) for r in records]
    return [(None, f"共{format_number(n)}件", per * n)]


def evaluate(ind: Indicator, category_kind: str, obs: Observation, value: Fraction | None) -> RuleOutcome:
    """Raw points of an indicator whose input is present (status "ok").

    `value` is the observed value, or its frontier score when the indicator is normalised.
    """
    rule = ind.rule
    cap = Fraction(ind.max)
    if isinstance(rule, LinearRule):
        assert value is not None
        return RuleOutcome(linear_points([(Fraction(a.at), Fraction(a.points)) for a in rule.thresholds], value))
    if isinstance(rule, TiersRule):
        assert value is not None
        tiers = [(Fraction(t.min), Fraction(t.points)) for t in rule.tiers]
        return RuleOutcome(tier_points(tiers, Fraction(rule.otherwise), value))
    if isinstance(rule, DeductionRule):
        penalty = category_kind == "penalty"
        capacity = cap if penalty else cap - Fraction(rule.floor)
        records, used = capped_walk(_occurrence_items(ind, obs, Fraction(rule.per_occurrence)), capacity, -1)
        return RuleOutcome((0 if penalty else cap) - used, tuple(records))
    if isinstance(rule, BonusRule):
        records, used = capped_walk(_occurrence_items(ind, obs, Fraction(rule.per_occurrence)), cap, +1)
        return RuleOutcome(used, tuple(records))
    if isinstance(rule, JudgementRule):
        entries: list[tuple[str | None, str, Fraction]] = [(None, reason, points) for points, reason in obs.judgements]
        records, used = capped_walk(entries, cap, -1)
        return RuleOutcome((0 if category_kind == "penalty" else cap) - used, tuple(records))
    if isinstance(rule, VetoRule):
        assert value is not None
        vetoed = value >= Fraction(rule.trigger_at)
        items = _occurrence_items(ind, obs, Fraction(0)) if vetoed and obs.source == "metric" else []
        records = [ScoredRecord(ref, note, Fraction(0)) for ref, note, _ in items]
        if vetoed and obs.source == "manual":
            records.append(ScoredRecord(None, obs.note, Fraction(0)))
        return RuleOutcome(Fraction(0), tuple(records), vetoed)
    raise AssertionError(f"unknown rule {rule!r}")


def points_range(ind: Indicator, category_kind: str) -> tuple[Fraction, Fraction]:
    """(min, max) raw points: penalty −max..0, veto 0..0, otherwise 0..max."""
    if category_kind == "veto":
        return Fraction(0), Fraction(0)
    if category_kind == "penalty":
        return -Fraction(ind.max), Fraction(0)
    return Fraction(0), Fraction(ind.max)


def describe(ind: Indicator, category_kind: str, top_grade: str) -> str:
    """The rule in Chinese, e.g. "分档计分：≥95%得8分；≥90%得6分；否则得0分"."""
    rule = ind.rule
    percent = ind.display == "percent" and ind.normalise is None

    def v(x: Decimal) -> str:
        return format_number(Fraction(x), percent)

    def p(x: Decimal) -> str:
        return format_number(Fraction(x))

    if isinstance(rule, LinearRule):
        steps = "，".join(f"{v(a.at)}得{p(a.points)}分" for a in rule.thresholds)
        text = f"线性计分：{steps}；其间按线性插值，低于{v(rule.thresholds[0].at)}或高于{v(rule.thresholds[-1].at)}按端点计分"
    elif isinstance(rule, TiersRule):
        steps = "；".join(
            f"≥{v(t.min)}得{p(t.points)}分" for t in sorted(rule.tiers, key=lambda t: t.min, reverse=True)
        )
        text = f"分档计分：{steps}；否则得{p(rule.otherwise)}分"
    elif isinstance(rule, DeductionRule):
        what = "每项不达标" if rule.occurrences == "failures" else "每件"
        if category_kind == "penalty":
            text = f"{what}扣{p(rule.per_occurrence)}分，最多扣{p(ind.max)}分"
        else:
            floor = f"（最低{p(rule.floor)}分）" if rule.floor else ""
            text = f"满分{p(ind.max)}分，{what}扣{p(rule.per_occurrence)}分，扣完为止{floor}"
    elif isinstance(rule, BonusRule):
        text = f"每件加{p(rule.per_occurrence)}分，本项最多加{p(ind.max)}分"
    elif isinstance(rule, JudgementRule):
        base = "" if category_kind == "penalty" else f"满分{p(ind.max)}分，"
        text = f"{base}由考评组酌情扣分并逐项注明理由，最多扣{p(ind.max)}分"
    elif isinstance(rule, VetoRule):
        cond = "发生即否决" if rule.trigger_at == 1 else f"值≥{v(rule.trigger_at)}时否决"
        effect = f"等次最高为“{rule.grade}”" if rule.effect == "force_grade" else f"不得评为“{top_grade}”"
        text = f"一票否决：{cond}，{effect}"
    else:
        raise AssertionError(f"unknown rule {rule!r}")
    if ind.normalise is not None:
        text = describe_frontier(ind.normalise, ind.display == "percent") + "；再按" + text
    return text


def describe_frontier(f: Frontier, percent: bool) -> str:
    better = "最高" if f.higher_is_better else "最低"
    worse = "最低" if f.higher_is_better else "最高"
    best = format_number(Fraction(f.best), percent) if f.best is not None else f"各单位{better}值"
    worst = format_number(Fraction(f.worst), percent) if f.worst is not None else f"各单位{worse}值"
    return f"前沿距离标准化：100×(最差值−本单位值)/(最差值−最优值)，截断至0–100，最优值取{best}，最差值取{worst}"
