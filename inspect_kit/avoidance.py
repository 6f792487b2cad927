"""Who may inspect what: the one home of the eligibility and 回避 (avoidance) rules.

Pure: plain values in, reason codes out. Two stages apply the same rules at two moments:
``inspect_kit.assign`` before teams are drawn (who is eligible), and ``inspect_kit.score`` after
the inspections (was every team lawful). Both call these functions and word the reasons from
``WORDING``, so a rule is written once and its English (CLI) and Chinese (reports) text live in
one table.

An officer may inspect a task when he or she
  * holds one of the matter's qualifications (or the matter's code)          — NOT_QUALIFIED;
  * is on duty (status 'active'; checked when teams are drawn, not afterwards)  — NOT_ACTIVE;
  * holds a certificate valid on every day of the window (a missing bound
    does not restrict)                                                      — CERT_INVALID;
  * is below the per-period task cap (assignment only)                        — AT_CAP;
and is not kept away from the entity by
  * a declared conflict (always)                                            — DECLARED;
  * ``same_township``: home township = the entity's township                  — TOWNSHIP;
  * ``previous_periods = N``: on the entity's team in one of the last N periods — PREVIOUS.
``repeat_pair`` (two officers who were one team last period are not paired again) is applied by
the assignment core, which sees teams, not single officers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Reason(str, Enum):
    NOT_QUALIFIED = "not_qualified"
    NOT_ACTIVE = "not_active"
    CERT_INVALID = "cert_invalid"
    AT_CAP = "at_cap"
    DECLARED = "declared"
    TOWNSHIP = "township"
    PREVIOUS = "previous"


# reason → (English, as the CLI explains eligibility; Chinese template for reports, with
# {name} {cert} and the reason's own fields: {on} {span} {reason} {township} {period})
WORDING: Mapping[Reason, tuple[str, str]] = {
    Reason.NOT_QUALIFIED: ("not qualified for the matter", "{name}（{cert}）无本事项执法资格"),
    Reason.NOT_ACTIVE: ("not on duty", "{name}（{cert}）不在岗"),
    Reason.CERT_INVALID: (
        "certificate not valid on the inspection dates",
        "{name}（{cert}）执法证于{on}不在有效期内（{span}）",
    ),
    Reason.AT_CAP: ("at the per-period task cap", "{name}（{cert}）已达本期任务上限"),
    Reason.DECLARED: (
        "declared conflict with the entity",
        "{name}（{cert}）与检查对象存在利害关系（{reason}），未回避",
    ),
    Reason.TOWNSHIP: (
        "home township is the entity's township",
        "{name}（{cert}）户籍乡镇与检查对象同为{township}，未回避",
    ),
    Reason.PREVIOUS: ("inspected the entity in a previous period", "{name}（{cert}）在{period}检查过该对象，未回避"),
}


def english(reason: Reason) -> str:
    return WORDING[reason][0]


def chinese(code: Reason, /, **fields: Any) -> str:
    return WORDING[code][1].format(**fields)


@dataclass(frozen=True)
class AvoidanceRules:
    """The configurable 回避 rules (declared conflicts always apply): settings.assign.conflicts, or
    a matter's own ``conflicts``."""

    same_township: bool = False
    previous_periods: int = 0
    repeat_pair: bool = False

    @classmethod
    def of(cls, value: Any) -> "AvoidanceRules":
        """From the config model (or its stored dict form); None gives the defaults."""
        if value is None:
            return cls()
        get = value.get if isinstance(value, Mapping) else (lambda k, d=None: getattr(value, k, d))
        return cls(
            bool(get("same_township", False)), int(get("previous_periods", 0) or 0), bool(get("repeat_pair", False))
        )


def qualified(held: Collection[str], needed: Collection[str]) -> bool:
    return bool(set(held) & set(needed))


def cert_valid(valid_from: dt.date | None, valid_to: dt.date | None, window: tuple[dt.date, dt.date]) -> bool:
    """Valid on every day of ``window`` (first, last)."""
    lo, hi = window
    return (valid_from is None or valid_from <= lo) and (valid_to is None or valid_to >= hi)


def officer_reason(
    *,
    held: Collection[str],
    needed: Collection[str],
    status: str | None,
    valid_from: dt.date | None,
    valid_to: dt.date | None,
    window: tuple[dt.date, dt.date],
    check_status: bool = True,
) -> Reason | None:
    """Why the officer may not inspect any task of the matter (the first rule that fails), or None."""
    if not qualified(held, needed):
        return Reason.NOT_QUALIFIED
    if check_status and status != "active":
        return Reason.NOT_ACTIVE
    if not cert_valid(valid_from, valid_to, window):
        return Reason.CERT_INVALID
    return None


def task_reasons(
    rules: AvoidanceRules,
    *,
    declared: bool,
    home_township: str | None,
    township: str | None,
    previous_periods_on: Collection[int] = (),
) -> list[Reason]:
    """Every 回避 rule that keeps the officer away from this entity. ``previous_periods_on``: the
    k (1 = the previous period) of the periods in which the officer was on the entity's team."""
    out = []
    if declared:
        out.append(Reason.DECLARED)
    if rules.same_township and home_township and township and home_township == township:
        out.append(Reason.TOWNSHIP)
    if any(1 <= k <= rules.previous_periods for k in previous_periods_on):
        out.append(Reason.PREVIOUS)
    return out
