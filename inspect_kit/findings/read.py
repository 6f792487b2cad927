"""Findings read back with what follows from them as of a day: deadlines, rectification status,
publication, teams; the due list; a finding's history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from inspect_kit.draw.store.tasks import TaskInfo, current_draw_ids, current_tasks, task_by_no
from inspect_kit.errors import InspectError
from inspect_kit.findings.deadlines import (
    DEFAULT_HORIZON,
    due_items,
    effective_rectification_deadline,
    publicity_deadline,
    rectification_status,
)
from inspect_kit.findings.items import items_of
from inspect_kit.findings.model import DueReport, DueRow, FindingRecord, Revision, TaskResult
from inspect_kit.findings.policy import DEFAULT_POLICY, FindingsPolicy
from inspect_kit.findings.records import current_teams, published_on, stored_findings
from inspect_kit.findings.stored import labels
from inspect_kit.periods import parse_period
from inspect_kit.storage.models import Finding, FindingRevision, Task
from inspect_kit.text import clean_code


def _record(
    task: TaskInfo,
    f: Mapping[str, Any],
    current: bool,
    published: dt.date | None,
    as_of: dt.date,
    policy: FindingsPolicy,
) -> FindingRecord:
    cb, cal = policy.codebook, policy.calendar
    results, follow_ups = tuple(f["results"]), tuple(f["follow_ups"])
    cats = [c for code in results if (c := cb.categories.get(code)) is not None]
    fus = [x for code in follow_ups if (x := cb.follow_ups.get(code)) is not None]
    warning = None
    pub_deadline = due = status = recheck_ok = None
    view = _View(task.task_no, f["inspection_end"], f["rectification_deadline"], f["rectification_status"])
    try:
        pub_deadline = publicity_deadline(f["inspection_end"], cal, policy.publicity_days)
    except InspectError as exc:
        warning = str(exc)
    try:
        due = effective_rectification_deadline(view, cal, roll_to_working_day=policy.roll_to_working_day)
        status = rectification_status(view, as_of, cal, roll_to_working_day=policy.roll_to_working_day)
    except InspectError as exc:
        warning = warning or str(exc)
        due = f["rectification_deadline"]
    if due is not None:
        recheck = f["recheck_date"]
        if recheck is not None:
            recheck_ok = recheck <= due
        elif as_of > due:
            recheck_ok = False
    return FindingRecord(
        task_id=task.task_id,
        task_no=task.task_no,
        matter_code=task.matter_code,
        period=task.period,
        draw_id=task.draw_id,
        current=current,
        identifier=task.identifier,
        entity_name=task.entity_name,
        township=task.township,
        inspection_start=f["inspection_start"],
        inspection_end=f["inspection_end"],
        results=results,
        result_labels=tuple(labels(results, cb.categories)),
        problems=f["problems"],
        follow_ups=follow_ups,
        follow_up_labels=tuple(labels(follow_ups, cb.follow_ups)),
        rectification_deadline=f["rectification_deadline"],
        rectification_status=f["rectification_status"],
        recheck_date=f["recheck_date"],
        recheck_outcome=f["recheck_outcome"],
        case_no=f["case_no"],
        recorded_by=f["recorded_by"],
        notes=f["notes"],
        created_at=f["created_at"],
        updated_at=f["updated_at"],
        as_of=as_of,
        problem_found=any(c.problem for c in cats),
        rectification_ordered=any(x.rectification for x in fus),
        case_opened=any(x.case for x in fus),
        status=status,
        rectification_due=due,
        recheck_on_time=recheck_ok,
        publicity_deadline=pub_deadline,
        published_on=published,
        warning=warning,
        item_results=items_of(f.get("item_results")),
    )


@dataclass(frozen=True)
class _View:
    """What the deadline functions read (deadlines.FindingLike)."""

    task_no: str
    inspection_end: dt.date
    rectification_deadline: dt.date | None
    rectification_status: str | None


def select_tasks(conn: Connection, period: str | None, year: int | None, matter: str | None) -> list[TaskInfo]:
    label = parse_period(period).label if period else None
    tasks = current_tasks(conn, label, matter)
    if year is not None:
        tasks = [t for t in tasks if parse_period(t.period).year == year]
    return tasks


def task_results(
    engine: Engine,
    *,
    as_of: dt.date,
    policy: FindingsPolicy = DEFAULT_POLICY,
    period: str | None = None,
    year: int | None = None,
    matter: str | None = None,
) -> list[TaskResult]:
    """Every current task (of `period` exactly, or of any period in `year`) with its finding or None
    and its team. What the publish and score stages read."""
    with engine.connect() as conn:
        tasks = select_tasks(conn, period, year, matter)
        ids = [t.task_id for t in tasks]
        stored = stored_findings(conn, ids)
        published = published_on(conn, ids)
        teams = current_teams(conn, ids)
    return [
        TaskResult(
            t,
            _record(t, stored[t.task_id], True, published.get(t.task_id), as_of, policy)
            if t.task_id in stored
            else None,
            teams.get(t.task_id, ""),
        )
        for t in tasks
    ]


def list_findings(
    engine: Engine,
    *,
    as_of: dt.date,
    policy: FindingsPolicy = DEFAULT_POLICY,
    period: str | None = None,
    year: int | None = None,
    matter: str | None = None,
    status: str | None = None,
) -> list[FindingRecord]:
    """Recorded findings of current tasks; `status` (open | closed | overdue) filters on the
    rectification status as of `as_of`."""
    if status is not None and status not in ("open", "closed", "overdue"):
        raise InspectError(f"unknown status {status!r}; use open, closed or overdue")
    out = [
        r.finding
        for r in task_results(engine, as_of=as_of, policy=policy, period=period, year=year, matter=matter)
        if r.finding is not None
    ]
    return [f for f in out if status is None or f.status == status]


def get_finding(
    engine: Engine, task_no: str, *, as_of: dt.date, policy: FindingsPolicy = DEFAULT_POLICY
) -> tuple[TaskInfo, FindingRecord | None]:
    """A task (current or superseded) and its finding; InspectError if there is no such task."""
    no = clean_code(task_no)
    with engine.connect() as conn:
        task = task_by_no(conn, no)
        if task is None:
            raise InspectError(f"no task {no}")
        current = current_draw_ids(conn, task.period, task.matter_code).get((task.matter_code, task.period))
        stored = stored_findings(conn, [task.task_id]).get(task.task_id)
        published = published_on(conn, [task.task_id]).get(task.task_id)
    if stored is None:
        return task, None
    return task, _record(task, stored, current == task.draw_id, published, as_of, policy)


def finding_history(engine: Engine, task_no: str) -> list[Revision]:
    """Every revision of the task's finding, oldest first ([] if none); InspectError if no such task."""
    no = clean_code(task_no)
    with engine.connect() as conn:
        tid = conn.execute(select(Task.id).where(Task.task_no == no)).scalar()
        if tid is None:
            raise InspectError(f"no task {no}")
        rows = conn.execute(
            select(FindingRevision)
            .join(Finding, Finding.id == FindingRevision.finding_id)
            .where(Finding.task_id == tid)
            .order_by(FindingRevision.id)
        ).all()
    return [Revision(r.id, no, r.at, r.by, r.source, dict(r.changes), r.revision) for r in rows]


def due(
    engine: Engine,
    *,
    as_of: dt.date,
    policy: FindingsPolicy = DEFAULT_POLICY,
    period: str | None = None,
    year: int | None = None,
    matter: str | None = None,
    horizon: int | None = DEFAULT_HORIZON,
) -> DueReport:
    """Publicity deadlines of unpublished results and open rectification deadlines that are overdue or
    due within `horizon` working days (None: every pending one), most overdue first."""
    report = DueReport(as_of)
    for tr in task_results(engine, as_of=as_of, policy=policy, period=period, year=year, matter=matter):
        f = tr.finding
        if f is None:
            continue
        published = {f.task_no} if f.published else set()
        try:
            items = due_items(
                [f],
                as_of,
                policy.calendar,
                policy.publicity_days,
                horizon=horizon,
                published=published,
                roll_to_working_day=policy.roll_to_working_day,
            )
        except InspectError as exc:
            report.warnings.append(f"{f.task_no}: {exc}")
            continue
        report.items += [
            DueRow(
                i.task_no,
                i.kind,
                i.deadline,
                i.overdue,
                i.working_days,
                i.calendar_days,
                f.matter_code,
                f.period,
                f.entity_name,
                f.identifier,
            )
            for i in items
        ]
    report.items.sort(key=lambda i: (i.deadline, i.kind, i.task_no))
    return report
