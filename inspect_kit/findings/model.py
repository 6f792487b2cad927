"""What the findings service returns: plain dataclasses (no database here)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from inspect_kit.draw.store.tasks import TaskInfo
from inspect_kit.findings.items import ItemResult


@dataclass(frozen=True)
class RowOutcome:
    task_no: str
    action: str  # added | updated | unchanged
    changes: dict[str, list[Any]]  # field → [old, new], JSON-ready; empty when unchanged
    file: str | None = None
    row: int | None = None


@dataclass
class FindingsImportSummary:
    file: str
    encoding: str | None = None
    sheets: list[str] = field(default_factory=list)
    rows: int = 0  # rows with a result filled in
    blank_rows: int = 0  # task rows left blank (not inspected yet): skipped
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    revisions: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)
    dry_run: bool = False
    outcomes: list[RowOutcome] = field(default_factory=list)

    def line(self) -> str:
        s = (
            f"findings: {self.rows} rows read — {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged; {self.revisions} revisions written"
        )
        if self.blank_rows:
            s += f"; {self.blank_rows} task rows without a result skipped"
        if self.dry_run:
            s += " (dry run: nothing written)"
        return s


@dataclass(frozen=True)
class FindingRecord:
    """A stored finding with its task, and what follows from it as of `as_of`."""

    task_id: int
    task_no: str
    matter_code: str
    period: str
    draw_id: int
    current: bool  # the task belongs to the current draw of its matter and period
    identifier: str
    entity_name: str
    township: str | None
    inspection_start: dt.date
    inspection_end: dt.date
    results: tuple[str, ...]  # category codes
    result_labels: tuple[str, ...]
    problems: str | None
    follow_ups: tuple[str, ...]
    follow_up_labels: tuple[str, ...]
    rectification_deadline: dt.date | None  # as written
    rectification_status: str | None  # as declared
    recheck_date: dt.date | None
    recheck_outcome: str | None
    case_no: str | None
    recorded_by: str
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    # derived, as of `as_of`
    as_of: dt.date
    problem_found: bool  # a result category counts as a problem (发现问题)
    rectification_ordered: bool
    case_opened: bool
    status: str | None  # open | closed | overdue (recomputed from dates), None without rectification
    rectification_due: dt.date | None  # the deadline as enforced (rolled to a working day)
    recheck_on_time: bool | None  # re-checked by the deadline; None: no order, or not yet due
    publicity_deadline: dt.date | None  # None only when the holiday calendar cannot count it (see warning)
    published_on: dt.date | None  # issue date of the first results notice listing the task
    warning: str | None = None
    item_results: tuple[ItemResult, ...] = ()  # per checklist item, in checklist order (findings.items)

    @property
    def published(self) -> bool:
        return self.published_on is not None

    @property
    def published_on_time(self) -> bool | None:
        """True/False once published or past the deadline; None while still within it, unpublished."""
        if self.publicity_deadline is None:
            return None
        if self.published_on is not None:
            return self.published_on <= self.publicity_deadline
        return False if self.as_of > self.publicity_deadline else None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(published=self.published, published_on_time=self.published_on_time)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass(frozen=True)
class TaskResult:
    """A current task and its finding (None: not recorded yet), for notices and scoring."""

    task: TaskInfo
    finding: FindingRecord | None
    team: str  # current team members' names joined by 、 ("" before assignment)


@dataclass(frozen=True)
class Revision:
    id: int
    task_no: str
    at: dt.datetime
    by: str
    source: str
    changes: dict[str, list[Any]]
    revision: int = 0  # 1, 2, 3 … per finding: the number a concurrent-change message names


@dataclass(frozen=True)
class DueRow:
    task_no: str
    kind: str  # publicity | rectification
    deadline: dt.date
    overdue: bool
    working_days: int  # left, or (when overdue) elapsed
    calendar_days: int
    matter_code: str
    period: str
    entity_name: str
    identifier: str


@dataclass
class DueReport:
    as_of: dt.date
    items: list[DueRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # findings whose deadline the calendar cannot count


@dataclass
class TemplateSummary:
    path: str
    sheets: list[tuple[str, int, int]]  # (matter, tasks, prefilled findings)

    @property
    def tasks(self) -> int:
        return sum(n for _, n, _ in self.sheets)

    @property
    def prefilled(self) -> int:
        return sum(p for _, _, p in self.sheets)
