"""The cross-field rules of a registry import, written once for a column and for a row.

A rule sees the parsed values of some rows as columns — `{field name: [value per row]}`, only the
fields the file has — and returns the problems it finds as `Flag(row index, field, reason)`. It may
also normalise values in place (a department name becomes its unit code, an empty status becomes
'active'). The row path (rows.RowValidator) gives it one row as columns of length 1; the column
path (columns.ColumnValidator) gives it a whole block and keeps the block only if no flag comes
back. Rules are pure: no database, files or clock (the unit table is read by the caller).

Per-field parsing (a date, a credit class, a status word) is not here: it is `Field.parse` in
registry.schema. Whether a conflict's inspector and entity exist is asked of the database, per
chunk, by writers.ConflictWriter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Callable, MutableMapping, NamedTuple, Sequence

from inspect_kit.registry import uscc

Columns = MutableMapping[str, Sequence[Any]]


class Flag(NamedTuple):
    row: int  # index of the row within the columns
    field: str  # the field the reason is about (its column is named in the report)
    reason: str


@dataclass(frozen=True)
class RuleContext:
    """What the rules need beyond the values: the settings and the configured units."""

    present: frozenset[str]  # fields the file has
    units: dict[str, str]  # department cell (a unit's code or name) → unit code; empty: accept any
    known_categories: frozenset[str] | None  # None: accept any category
    id_scheme: str  # uscc | other
    other_id_pattern: str  # for id_scheme 'other'
    own_unit: str | None = None  # every row must belong to this unit (a coordinator's import)

    @property
    def other_id_re(self) -> re.Pattern[str]:
        return _compiled(self.other_id_pattern)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = re.compile(pattern)
    return _PATTERNS[pattern]


Rule = Callable[[RuleContext, Columns], list[Flag]]


def uscc_problem(code: str) -> str | None:
    """uscc.problem, with the quick check first (most codes are valid)."""
    return None if uscc.is_valid(code) else uscc.problem(code)


def identifier(ctx: RuleContext, cols: Columns) -> list[Flag]:
    ids = cols["identifier"]
    if ctx.id_scheme == "uscc":
        if uscc.all_valid(ids):
            return []
        return [Flag(i, "identifier", why) for i, code in enumerate(ids) if (why := uscc_problem(code))]
    match = ctx.other_id_re.match
    if all(map(match, ids)):
        return []
    return [
        Flag(i, "identifier", f"identifier {code!r} does not match the configured pattern {ctx.other_id_pattern}")
        for i, code in enumerate(ids)
        if not match(code)
    ]


def category(ctx: RuleContext, cols: Columns) -> list[Flag]:
    cats = ctx.known_categories
    if cats is None or all(map(cats.__contains__, cols["category"])):
        return []
    known = ", ".join(sorted(cats))
    return [
        Flag(i, "category", f"unknown category {c!r}; configured categories: {known}")
        for i, c in enumerate(cols["category"])
        if c not in cats
    ]


def department(ctx: RuleContext, cols: Columns) -> list[Flag]:
    """A department cell names a configured unit (by code or name); it is stored as the code."""
    deps = cols.get("department")
    if deps is None or not ctx.units:
        return []
    given = set(deps)
    given.discard(None)
    if not given.issubset(ctx.units.keys()):
        units = ", ".join(sorted(set(ctx.units.values())))
        return [
            Flag(i, "department", f"unknown department {d!r}; configured units: {units}")
            for i, d in enumerate(deps)
            if d is not None and d not in ctx.units
        ]
    cols["department"] = list(map(ctx.units.get, deps, deps))
    return []


def own_unit(ctx: RuleContext, cols: Columns) -> list[Flag]:
    """With `own_unit` set (a coordinator importing), every row's department is that unit; runs
    after `department`, which turned names into codes. A file without the column names no unit."""
    unit = ctx.own_unit
    if unit is None:
        return []
    deps = cols.get("department")
    if deps is not None and all(d == unit for d in deps):
        return []
    n = len(next(iter(cols.values()), ()))
    reason = f"you import for unit {unit} only: the department must be {unit}"
    if deps is None:
        return [Flag(i, "department", reason + " (the file has no department column)") for i in range(n)]
    return [Flag(i, "department", f"{reason}, got {d!r}") for i, d in enumerate(deps) if d != unit]


def exemption(ctx: RuleContext, cols: Columns) -> list[Flag]:
    """An exemption ends no earlier than it starts, and has a reason if the file has that column."""
    if "exempt_from" not in cols and "exempt_to" not in cols:
        return []
    none = repeat(None)
    reason_col = "exempt_reason" in ctx.present
    out: list[Flag] = []
    for i, (f, t, r) in enumerate(
        zip(
            cols.get("exempt_from", none),
            cols.get("exempt_to", none),
            cols.get("exempt_reason", none) if reason_col else none,
        )
    ):
        if f and t and t < f:
            out.append(Flag(i, "exempt_to", f"exemption ends ({t}) before it starts ({f})"))
        if (f or t) and reason_col and not r:
            out.append(Flag(i, "exempt_reason", "exemption dates given without a reason"))
    return out


def certificate(ctx: RuleContext, cols: Columns) -> list[Flag]:
    if "cert_valid_from" not in cols or "cert_valid_to" not in cols:
        return []
    return [
        Flag(i, "cert_valid_to", f"certificate expires ({t}) before it is valid ({f})")
        for i, (f, t) in enumerate(zip(cols["cert_valid_from"], cols["cert_valid_to"]))
        if f and t and t < f
    ]


def default(name: str, value: str) -> Rule:
    """An empty cell of column `name` means `value`."""

    def fill(ctx: RuleContext, cols: Columns) -> list[Flag]:
        col = cols.get(name)
        if col is not None and None in col:
            cols[name] = [value if v is None else v for v in col]
        return []

    fill.__name__ = f"default_{name}"
    return fill


# The rules of each registry, in the order their problems are reported for a row.
RULES: dict[str, tuple[Rule, ...]] = {
    "entities": (identifier, category, department, own_unit, exemption, default("status", "active")),
    "inspectors": (department, own_unit, certificate, default("status", "active"), default("kind", "officer")),
    "conflicts": (),  # existence of both sides is checked against the database, per chunk
}


def check(rules: Sequence[Rule], ctx: RuleContext, cols: Columns) -> list[Flag]:
    """All flags of `rules` on `cols`, rule by rule (normalising `cols` in place)."""
    out: list[Flag] = []
    for rule in rules:
        out += rule(ctx, cols)
    return out


def passes(rules: Sequence[Rule], ctx: RuleContext, cols: Columns) -> bool:
    """True if no rule flags any row of `cols` (a block: stops at the first rule that flags)."""
    return not any(rule(ctx, cols) for rule in rules)
