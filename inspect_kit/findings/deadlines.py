"""Deadlines that follow a finding: publishing the result, and the rectification order.

Publicity: results are public within `publicity_days` (default 20, configurable) working days after
the inspection ends; the deadline is `calendar.add_working_days(inspection_end, publicity_days)`,
i.e. the 20th working day strictly after the end date, that day included.

Rectification: the deadline is the date the officer wrote. A period whose last day is a holiday
ends on the next working day (民法典 第二百零三条), so by default a deadline on a weekend or holiday
moves to the next working day; `roll_to_working_day=False` takes the date as written.

Boundaries, for both kinds: on the deadline day an item is still due (status "open", 0 working days
left); it is overdue from the next calendar day on. Working days overdue count the working days after
the deadline up to and including `as_of`, so the Saturday after a Friday deadline is overdue by 0
working days (1 calendar day) — `DueItem.calendar_days` carries the plain count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from inspect_kit.findings.calendar import WorkingCalendar

PUBLICITY_WORKING_DAYS = 20
DEFAULT_HORIZON = 5  # working days ahead that count as "due soon"

RectificationStatus = Literal["open", "closed", "overdue"]


class FindingLike(Protocol):
    """What the deadline functions read (read-only); FindingInput, the stored records and views fit."""

    @property
    def task_no(self) -> str: ...
    @property
    def inspection_end(self) -> dt.date: ...
    @property
    def rectification_deadline(self) -> dt.date | None: ...
    @property
    def rectification_status(self) -> str | None: ...


@dataclass(frozen=True)
class DueItem:
    task_no: str
    kind: Literal["publicity", "rectification"]
    deadline: dt.date
    overdue: bool
    working_days: int  # left until the deadline, or (when overdue) elapsed after it
    calendar_days: int  # the same in calendar days


def publicity_deadline(
    inspection_end: dt.date, calendar: WorkingCalendar, working_days: int = PUBLICITY_WORKING_DAYS
) -> dt.date:
    """Last day to publish the result: the n-th working day strictly after the inspection end."""
    return calendar.add_working_days(inspection_end, working_days)


def effective_rectification_deadline(
    finding: FindingLike, calendar: WorkingCalendar, *, roll_to_working_day: bool = True
) -> dt.date | None:
    """The rectification deadline as enforced, or None when no rectification was ordered."""
    written = finding.rectification_deadline
    if written is None or not roll_to_working_day:
        return written
    return calendar.on_or_after(written)


def rectification_status(
    finding: FindingLike,
    as_of: dt.date,
    calendar: WorkingCalendar,
    *,
    roll_to_working_day: bool = True,
) -> RectificationStatus | None:
    """closed if declared closed; else open up to the deadline day, overdue after; None if none."""
    deadline = effective_rectification_deadline(finding, calendar, roll_to_working_day=roll_to_working_day)
    if deadline is None:
        return None
    if finding.rectification_status == "closed":
        return "closed"
    # A declared "open" or "overdue" is only a snapshot of the day it was typed; dates decide.
    return "overdue" if as_of > deadline else "open"


def due_items(
    findings: Iterable[FindingLike],
    as_of: dt.date,
    calendar: WorkingCalendar,
    publicity_days: int = PUBLICITY_WORKING_DAYS,
    *,
    horizon: int | None = DEFAULT_HORIZON,
    published: Collection[str] = frozenset(),
    roll_to_working_day: bool = True,
) -> list[DueItem]:
    """Publicity and rectification deadlines overdue, or due within `horizon` working days.

    `published` holds the task numbers whose results are already public (the publish stage knows);
    closed rectifications are skipped. horizon=None lists every pending deadline. Sorted by
    deadline (most overdue first), then kind and task number.
    """
    items: list[DueItem] = []
    for f in findings:
        if f.task_no not in published:
            deadline = publicity_deadline(f.inspection_end, calendar, publicity_days)
            items.append(_item(f.task_no, "publicity", deadline, as_of, calendar))
        status = rectification_status(f, as_of, calendar, roll_to_working_day=roll_to_working_day)
        if status in ("open", "overdue"):
            due = effective_rectification_deadline(f, calendar, roll_to_working_day=roll_to_working_day)
            assert due is not None  # a status implies a deadline
            items.append(_item(f.task_no, "rectification", due, as_of, calendar))
    wanted = [i for i in items if i.overdue or horizon is None or i.working_days <= horizon]
    return sorted(wanted, key=lambda i: (i.deadline, i.kind, i.task_no))


def _item(
    task_no: str,
    kind: Literal["publicity", "rectification"],
    deadline: dt.date,
    as_of: dt.date,
    calendar: WorkingCalendar,
) -> DueItem:
    overdue = as_of > deadline
    working = calendar.working_days_between(as_of, deadline)  # negative when overdue
    return DueItem(task_no, kind, deadline, overdue, abs(working), abs((deadline - as_of).days))
