"""What scoring depends on besides the records, and the day it is scored as of.

The metrics read code lists, a working calendar, the publicity period and 回避 (conflict) rules
from the findings and assignment settings. `ScorePolicy` carries them as one value, built from a
loaded Config by `policy_from_config`, so the metric code never reads the config and a test can
hand in its own. The as-of helpers hold the one date rule every entry point shares: a year is
scored as of a day within it (its last day once the year is over).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from inspect_kit.avoidance import AvoidanceRules
from inspect_kit.errors import InspectError
from inspect_kit.findings.calendar import WorkingCalendar, default_calendar
from inspect_kit.findings.codes import DEFAULT_CODEBOOK, Codebook
from inspect_kit.findings.deadlines import PUBLICITY_WORKING_DAYS


@dataclass(frozen=True)
class ScorePolicy:
    """What the metrics depend on besides the records: code lists, calendar, publicity days, 回避 rules (inspect_kit.avoidance)."""

    codebook: Codebook = DEFAULT_CODEBOOK
    calendar: WorkingCalendar = field(default_factory=default_calendar)
    publicity_days: int = PUBLICITY_WORKING_DAYS
    roll_to_working_day: bool = True
    conflicts: AvoidanceRules = AvoidanceRules()


DEFAULT_POLICY = ScorePolicy()


def policy_from_config(config: Any) -> ScorePolicy:
    """The policy of a loaded Config: settings.findings (calendar, publicity days, code lists, via
    the findings stage's own reading of them) and settings.assign.conflicts."""
    try:
        from inspect_kit.findings.service import policy_from_config as findings_policy
    except ImportError:  # findings stage absent: read the settings directly
        fs = config.settings.findings
        codebook, days = DEFAULT_CODEBOOK, fs.publicity_working_days
        calendar = WorkingCalendar(fs.extra_holidays, fs.extra_workdays)
        roll = True
    else:
        fp = findings_policy(config)
        codebook, calendar, days, roll = fp.codebook, fp.calendar, fp.publicity_days, fp.roll_to_working_day
    return ScorePolicy(
        codebook=codebook,
        calendar=calendar,
        publicity_days=days,
        roll_to_working_day=roll,
        conflicts=AvoidanceRules.of(config.settings.assign.conflicts),
    )


def default_as_of(year: int, today: dt.date) -> dt.date:
    """`today`, but no later than the last day of `year` (scoring a past year uses its year end)."""
    return min(today, dt.date(year, 12, 31))


def check_as_of(year: int, as_of: dt.date) -> None:
    """Refuse an as-of date before the scored year begins: nothing of the year could count."""
    if as_of < dt.date(year, 1, 1):
        raise InspectError(f"as-of date {as_of} is before the year {year} begins")
