"""Checks that span tables of a rulebook; each problem names the exact key path."""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

from inspect_kit.errors import Problem
from inspect_kit.score.metrics import KNOWN_METRICS
from inspect_kit.score.model import Category, Indicator, LinearRule, RulebookModel, TiersRule

Report = Callable[[str, str], None]  # (key path, reason)

# Which rule kinds make sense in which kind of category.
ALLOWED_RULES = {
    "base": ("linear", "tiers", "deduction", "judgement"),
    "bonus": ("linear", "tiers", "bonus"),
    "penalty": ("deduction", "judgement"),
    "veto": ("veto",),
}


def check_rulebook(model: RulebookModel, file: str | None) -> list[Problem]:
    problems: list[Problem] = []

    def bad(key: str, reason: str) -> None:
        problems.append(Problem(reason, file=file, key=key))

    _check_unique(model, bad)
    categories = {c.key: c for c in model.category}
    for i, ind in enumerate(model.indicator):
        where = f"indicator[{i}]"
        cat = categories.get(ind.category)
        if cat is None:
            bad(
                f"{where}.category",
                f"indicator {ind.key!r}: no category {ind.category!r} (known: {', '.join(categories)})",
            )
            continue
        _check_indicator(model, ind, cat, where, bad)
    for j, cat in enumerate(model.category):
        _check_category(model, cat, f"category[{j}]", bad)
    base_sum = sum((c.max for c in model.category if c.kind == "base"), Decimal(0))
    if base_sum != model.rulebook.full_marks:
        bad(
            "rulebook.full_marks",
            f"the base categories' max add up to {base_sum}, not full_marks = {model.rulebook.full_marks}",
        )
    return problems


def _check_unique(model: RulebookModel, bad: Report) -> None:
    for table, keys in (("category", [c.key for c in model.category]), ("indicator", [i.key for i in model.indicator])):
        seen: set[str] = set()
        for n, key in enumerate(keys):
            if key in seen:
                bad(f"{table}[{n}].key", f"{table} key {key!r} is used more than once")
            seen.add(key)


def _check_category(model: RulebookModel, cat: Category, where: str, bad: Report) -> None:
    members = [i for i in model.indicator if i.category == cat.key]
    if not members:
        bad(f"{where}", f"category {cat.key!r} has no indicators")
    if cat.kind == "veto":
        if cat.max != 0:
            bad(f"{where}.max", "a veto category carries no points; leave 'max' out")
        return
    if cat.max <= 0:
        bad(f"{where}.max", f"a {cat.kind} category needs max > 0")
    if cat.kind == "base" and members:
        total = sum((i.max for i in members), Decimal(0))
        if total != cat.max:
            bad(f"{where}.max", f"category {cat.key!r}: its indicators' max add up to {total}, not {cat.max}")


def _check_indicator(model: RulebookModel, ind: Indicator, cat: Category, where: str, bad: Report) -> None:
    rule = ind.rule
    named = f"indicator {ind.key!r}"
    if rule.kind not in ALLOWED_RULES[cat.kind]:
        bad(
            f"{where}.rule.kind",
            f"{named}: rule {rule.kind!r} is not allowed in a {cat.kind} category "
            f"(allowed: {', '.join(ALLOWED_RULES[cat.kind])})",
        )
        return
    if ind.metric is not None and ind.metric not in KNOWN_METRICS:
        bad(f"{where}.metric", f"{named}: unknown metric {ind.metric!r} (known: {', '.join(sorted(KNOWN_METRICS))})")
    if rule.kind == "judgement" and ind.metric is not None:
        bad(f"{where}.metric", f"{named}: a judgement deduction is entered by hand; remove 'metric'")
    if cat.kind == "veto":
        if ind.max != 0:
            bad(f"{where}.max", f"{named}: a veto carries no points; leave 'max' out")
        if ind.on_missing != "zero":
            bad(f"{where}.on_missing", f"{named}: a missing veto input counts as not triggered; leave 'on_missing' out")
    elif ind.max <= 0:
        bad(f"{where}.max", f"{named}: needs max > 0")
    if rule.kind in ("deduction", "bonus") and rule.occurrences != "value" and ind.metric is None:
        bad(
            f"{where}.rule.occurrences",
            f'{named}: {rule.occurrences!r} needs a metric; a manual value is counted with occurrences = "value"',
        )
    if rule.kind == "deduction":
        if cat.kind == "penalty" and rule.floor != 0:
            bad(
                f"{where}.rule.floor",
                f"{named}: in a penalty category 'max' is the most that can be deducted; leave 'floor' out",
            )
        if cat.kind == "base" and not 0 <= rule.floor <= ind.max:
            bad(f"{where}.rule.floor", f"{named}: floor must be between 0 and max ({ind.max})")
    if rule.kind == "veto":
        grades = [b.grade for b in model.grades.bands]
        if rule.effect == "force_grade" and rule.grade not in grades:
            bad(f"{where}.rule.grade", f"{named}: force_grade needs 'grade', one of {', '.join(grades)}")
        if rule.effect == "bar_top_grade" and rule.grade is not None:
            bad(f"{where}.rule.grade", f"{named}: bar_top_grade always bars {grades[0]!r}; leave 'grade' out")
    if isinstance(rule, (LinearRule, TiersRule)):
        _check_points_range(ind, rule, where, bad)
    if ind.normalise is not None:
        _check_frontier(ind, where, bad)


def _check_points_range(ind: Indicator, rule: LinearRule | TiersRule, where: str, bad: Report) -> None:
    if isinstance(rule, LinearRule):
        items = [(f"{where}.rule.thresholds[{k}].points", a.points) for k, a in enumerate(rule.thresholds)]
    else:
        items = [(f"{where}.rule.tiers[{k}].points", t.points) for k, t in enumerate(rule.tiers)]
        items.append((f"{where}.rule.otherwise", rule.otherwise))
    for key, points in items:
        if not 0 <= points <= ind.max:
            bad(key, f"indicator {ind.key!r}: points {points} outside 0..max ({ind.max})")


def _check_frontier(ind: Indicator, where: str, bad: Report) -> None:
    f = ind.normalise
    assert f is not None
    if ind.rule.kind not in ("linear", "tiers"):
        bad(
            f"{where}.normalise",
            f"indicator {ind.key!r}: normalisation feeds a linear or tiers rule, not {ind.rule.kind!r}",
        )
    if f.best is not None and f.worst is not None:
        if f.best == f.worst:
            bad(f"{where}.normalise.best", f"indicator {ind.key!r}: best and worst are equal")
        elif (f.best > f.worst) != f.higher_is_better:
            bad(
                f"{where}.normalise.higher_is_better",
                f"indicator {ind.key!r}: best {f.best} and worst {f.worst} contradict higher_is_better = "
                f"{str(f.higher_is_better).lower()}",
            )
