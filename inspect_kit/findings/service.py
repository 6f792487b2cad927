"""Findings in the database: record them (every change kept as a revision), import a filled-in
spreadsheet, write the template, and read them back with their deadlines.

Library first: every function takes an Engine and plain values and returns dataclasses; the clock
is the caller's (`now` for timestamps, `as_of` for "today"), so the CLI is a thin wrapper and tests
are reproducible. The pure rules live next door (validate, codes, calendar, deadlines).

One write path. `add_finding` (one task, the CLI) and `import_findings` (a file) both go through
`_apply`, which for each row:
  1. merges the row into the task's existing finding — only the fields the source HAS replace the
     stored ones (an empty cell or `--notes ""` clears a field; a column the file lacks keeps it);
  2. validates the merged row with `validate.validate_row` (as_of given by the caller);
  3. checks it against the database: the task exists, belongs to the CURRENT draw of its matter and
     period (tasks of superseded draws are refused), the inspection did not start before the draw,
     the same task is not in two rows; a template row whose finding changed after the file was
     written (its hidden 版本号 is not the latest revision) and that differs from it is a conflict;
  4. writes nothing unless every row passed; then inserts or updates the findings and appends one
     `finding_revisions` row per finding that changed, holding only the changed fields as
     field → [old, new]. A row equal to the stored finding writes nothing (re-importing a file is a
     no-op). All in ONE transaction.

Several writers at once (optimistic concurrency). Every finding carries `revision`, the number of
its latest revision (see inspect_kit.storage.models.findings for the triggers that keep the row
and its history in step and refuse DELETE). A write of a finding read at revision N appends
revision N+1 (unique per finding) and updates `… WHERE revision = N`; a new finding is inserted at
revision 1 (task_id is unique). If another writer got there first — committed before, or still
in flight (PostgreSQL then makes this writer wait for it) — the unique key or the revision check
fails, the WHOLE transaction is rolled back and the user reads "task X was changed by someone else
since you read it (revision N → M); nothing was written". So exactly one of two concurrent writers
wins, and the history never records an old value that was not the stored one.

Stored form: categories and follow-ups as codes in code-list order; empty texts as NULL; the
rectification status as declared (open | closed | overdue, or NULL). Status as reported
(`FindingRecord.status`) is recomputed from the dates by `deadlines.rectification_status`.

Published: a task counts as published once a results notice lists it in `notices.task_ids`
(and not in that notice's `pending_task_ids`); the publish stage writes those.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from inspect_kit.draw.tasks import TaskInfo, current_draw_ids, current_tasks, task_by_no
from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.findings.calendar import WorkingCalendar, default_calendar
from inspect_kit.findings.codes import DEFAULT_CODEBOOK, Codebook, CodeList
from inspect_kit.findings.deadlines import (
    DEFAULT_HORIZON,
    PUBLICITY_WORKING_DAYS,
    due_items,
    effective_rectification_deadline,
    publicity_deadline,
    rectification_status,
)
from inspect_kit.findings.template import CANONICAL_HEADERS, STATUS_LABELS, SourceRow, TemplateSheet
from inspect_kit.findings.validate import FindingInput, validate_row
from inspect_kit.periods import parse_period
from inspect_kit.storage.db import ConcurrentWrite
from inspect_kit.storage.helpers import insert_id
from inspect_kit.storage.models import (
    Draw,
    Finding,
    FindingRevision,
    Inspector,
    Matter,
    Notice,
    Task,
    TeamMember,
)
from inspect_kit.text import check_text, clean_cell, clean_code, text_problem
from inspect_kit.transparency.store import append_pending

__all__ = [
    "FIELDS", "DueReport", "DueRow", "FindingRecord", "FindingsPolicy", "ImportSummary", "Revision",
    "RowOutcome", "TaskResult", "TemplateSummary",
    "add_finding", "check_finding", "due", "finding_history", "finding_row", "get_finding", "import_findings",
    "list_findings", "policy_from_config", "published_on", "task_results", "write_template",
]

# The stored fields of a finding, in display order; revisions name these.
FIELDS: tuple[str, ...] = ("inspection_start", "inspection_end", "results", "problems", "follow_ups",
                           "rectification_deadline", "rectification_status", "recheck_date", "recheck_outcome",
                           "case_no", "recorded_by", "notes")
_MAX_LEN = {"case_no": 64, "recorded_by": 64}  # String(64) columns
_CHUNK = 1000  # IN (...) lists stay under every backend's parameter limit


# -- policy: code lists, calendar and publicity days from settings ---------------------------------


@dataclass(frozen=True)
class FindingsPolicy:
    """What the rules depend on besides the data: code lists, holiday calendar, publicity days."""

    codebook: Codebook = DEFAULT_CODEBOOK
    calendar: WorkingCalendar = field(default_factory=default_calendar)
    publicity_days: int = PUBLICITY_WORKING_DAYS
    roll_to_working_day: bool = True  # a rectification deadline on a holiday moves to the next working day


def policy_from_config(config: Any, codes: Mapping[str, Any] | None = None) -> FindingsPolicy:
    """The policy of a loaded Config: settings.findings (publicity_working_days, extra_holidays,
    extra_workdays) and code lists from `codes` or, once settings has it, settings.findings.codes
    (a dict for `Codebook.from_dict`); without either the default code lists."""
    fs = config.settings.findings
    try:
        calendar = WorkingCalendar(fs.extra_holidays, fs.extra_workdays)
    except ValueError as exc:
        raise InspectError(f"settings.toml [findings] extra_holidays / extra_workdays: {exc} (use YYYY-MM-DD)") from None
    if codes is None:
        codes = getattr(fs, "codes", None)
        if codes is not None and hasattr(codes, "model_dump"):
            codes = codes.model_dump(exclude_none=True)
    codebook = Codebook.from_dict(codes, key_prefix="findings.codes.") if codes else DEFAULT_CODEBOOK
    return FindingsPolicy(codebook=codebook, calendar=calendar, publicity_days=fs.publicity_working_days)


DEFAULT_POLICY = FindingsPolicy()


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowOutcome:
    task_no: str
    action: str  # added | updated | unchanged
    changes: dict[str, list[Any]]  # field → [old, new], JSON-ready; empty when unchanged
    file: str | None = None
    row: int | None = None


@dataclass
class ImportSummary:
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
        s = (f"findings: {self.rows} rows read — {self.added} added, {self.updated} updated, "
             f"{self.unchanged} unchanged; {self.revisions} revisions written")
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


# -- conversions ---------------------------------------------------------------------------------


def _jsonable(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, tuple):
        return list(v)
    return v


def _ordered(codes: Iterable[str], code_list: CodeList[Any]) -> list[str]:
    """Codes in code-list order (unknown codes, from an older code list, last as given)."""
    position = {item.code: i for i, item in enumerate(code_list)}
    return sorted(dict.fromkeys(codes), key=lambda c: position.get(c, len(position)))


def _stored(fi: FindingInput, codebook: Codebook) -> dict[str, Any]:
    return {
        "inspection_start": fi.inspection_start, "inspection_end": fi.inspection_end,
        "results": _ordered(fi.results, codebook.categories), "problems": fi.problems or None,
        "follow_ups": _ordered(fi.follow_ups, codebook.follow_ups),
        "rectification_deadline": fi.rectification_deadline, "rectification_status": fi.rectification_status,
        "recheck_date": fi.recheck_date, "recheck_outcome": fi.recheck_outcome or None,
        "case_no": fi.case_no or None, "recorded_by": fi.recorded_by, "notes": fi.notes or None,
    }


def _labels(codes: Iterable[str], code_list: CodeList[Any]) -> list[str]:
    return [item.label if (item := code_list.get(c)) is not None else c for c in codes]


def stored_to_row(stored: Mapping[str, Any], codebook: Codebook = DEFAULT_CODEBOOK) -> dict[str, Any]:
    """A stored finding as a row of validate's keys (labels, Chinese status), ready to re-validate."""
    status: str = stored.get("rectification_status") or ""
    return {
        "inspection_start": stored["inspection_start"], "inspection_end": stored["inspection_end"],
        "results": "；".join(_labels(stored["results"], codebook.categories)),
        "problems": stored.get("problems") or "",
        "follow_up": "；".join(_labels(stored["follow_ups"], codebook.follow_ups)),
        "rectification_deadline": stored.get("rectification_deadline"),
        "rectification_status": STATUS_LABELS.get(status, status),
        "recheck_date": stored.get("recheck_date"), "recheck_outcome": stored.get("recheck_outcome") or "",
        "case_no": stored.get("case_no") or "", "recorded_by": stored.get("recorded_by") or "",
        "notes": stored.get("notes") or "",
    }


def _merge(base: Mapping[str, Any] | None, given: Mapping[str, Any], present: Iterable[str]) -> dict[str, Any]:
    """The stored row with the source's present fields laid over it."""
    present = set(present)
    out = dict(base or {})
    if "inspection_date" in present and clean_cell(given.get("inspection_date")):
        # A single date (or range) replaces the stored start and end.
        out.pop("inspection_start", None)
        out.pop("inspection_end", None)
    out.update({k: v for k, v in given.items() if k in present})
    return out


# -- database look-ups ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _TaskRef:
    id: int
    task_no: str
    draw_id: int
    matter_code: str
    period: str
    drawn_on: dt.date
    current_draw: int | None


def _chunks(seq: Sequence[Any], n: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _task_refs(conn: Connection, task_nos: Iterable[str]) -> dict[str, _TaskRef]:
    nos = sorted(set(task_nos))
    if not nos:
        return {}
    current = current_draw_ids(conn)
    out: dict[str, _TaskRef] = {}
    for part in _chunks(nos):
        stmt = (select(Task.id, Task.task_no, Task.draw_id, Draw.matter_code, Draw.period, Draw.drawn_at)
                .join(Draw, Draw.id == Task.draw_id).where(Task.task_no.in_(part)))
        for tid, no, draw_id, matter, period, drawn_at in conn.execute(stmt):
            out[no] = _TaskRef(tid, no, draw_id, matter, period, drawn_at.date(), current.get((matter, period)))
    return out


def _stored_findings(conn: Connection, task_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = sorted(set(task_ids))
    out: dict[int, dict[str, Any]] = {}
    for part in _chunks(ids):
        for r in conn.execute(select(Finding).where(Finding.task_id.in_(part))):
            d = r._asdict()
            d["results"], d["follow_ups"] = list(d["results"] or []), list(d["follow_ups"] or [])
            out[d["task_id"]] = d
    return out


def _latest_revisions(conn: Connection, finding_ids: Iterable[int]) -> dict[int, tuple[int, dt.datetime, str]]:
    """Finding id → (id, at, by) of its latest revision."""
    ids = sorted(set(finding_ids))
    out: dict[int, tuple[int, dt.datetime, str]] = {}
    for part in _chunks(ids):
        latest = (select(FindingRevision.finding_id, func.max(FindingRevision.id).label("rid"))
                  .where(FindingRevision.finding_id.in_(part)).group_by(FindingRevision.finding_id).subquery())
        stmt = (select(FindingRevision.finding_id, FindingRevision.id, FindingRevision.at, FindingRevision.by)
                .join(latest, latest.c.rid == FindingRevision.id))
        for fid, rid, at, by in conn.execute(stmt):
            out[fid] = (rid, at, by)
    return out


def published_on(conn: Connection, task_ids: Iterable[int] | None = None) -> dict[int, dt.date]:
    """Task id → issue date of the first results notice that publishes it (pending ids excluded)."""
    wanted = None if task_ids is None else set(task_ids)
    out: dict[int, dt.date] = {}
    stmt = select(Notice.task_ids, Notice.pending_task_ids, Notice.issued_on).where(Notice.kind == "results")
    for ids, pending, issued in conn.execute(stmt):
        skip = {int(i) for i in (pending or [])}
        for tid in ids or []:
            tid = int(tid)
            if tid in skip or (wanted is not None and tid not in wanted):
                continue
            if tid not in out or issued < out[tid]:
                out[tid] = issued
    return out


def _teams(conn: Connection, task_ids: Sequence[int]) -> dict[int, str]:
    """Task id → current team (names, 、-joined; experts marked), from each task's latest assignment."""
    if not task_ids:
        return {}
    out: dict[int, str] = {}
    for part in _chunks(list(task_ids)):
        rows = conn.execute(
            select(TeamMember.id, TeamMember.task_id, TeamMember.assignment_id, TeamMember.role,
                   TeamMember.replaces_id, Inspector.name, Inspector.kind)
            .join(Inspector, Inspector.id == TeamMember.inspector_id)
            .where(TeamMember.task_id.in_(part)).order_by(TeamMember.id)).all()
        latest: dict[int, int] = {}
        for r in rows:
            if r.role != "substitute":
                latest[r.task_id] = max(latest.get(r.task_id, 0), r.assignment_id)
        replaced = {r.replaces_id for r in rows if r.replaces_id is not None}
        names: dict[int, list[str]] = {}
        for r in rows:
            if r.assignment_id != latest.get(r.task_id) or r.id in replaced:
                continue
            names.setdefault(r.task_id, []).append(f"{r.name}（专家）" if r.kind == "expert" or r.role == "expert" else r.name)
        out.update({tid: "、".join(ns) for tid, ns in names.items()})
    return out


# -- the one write path --------------------------------------------------------------------------


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [_jsonable(old.get(k)), _jsonable(new[k])] for k in FIELDS
            if _jsonable(old.get(k)) != _jsonable(new[k])}


def _apply(conn: Connection, rows: Sequence[SourceRow], *, as_of: dt.date, now: dt.datetime | None,
           source: str, by: str | None, policy: FindingsPolicy, write: bool,
           reads: dict[str, tuple[int, int]] | None = None) -> tuple[list[RowOutcome], list[Problem]]:
    """Merge, validate and check every row; write only if all passed (and `write`). `reads` gets
    task_no → (task id, revision read) of every finding written; a write that finds its finding
    changed since it was read raises _Stale (the caller rolls back)."""
    codebook = policy.codebook
    tasks = _task_refs(conn, (clean_code(r.values.get("task_no")) for r in rows))
    existing = _stored_findings(conn, [t.id for t in tasks.values()])
    latest = _latest_revisions(conn, [f["id"] for f in existing.values()]) if any(
        "revision" in r.present for r in rows) else {}
    problems: list[Problem] = []
    accepted: list[tuple[SourceRow, _TaskRef, FindingInput]] = []
    first_seen: dict[str, str] = {}
    for r in rows:
        no = clean_code(r.values.get("task_no"))
        task = tasks.get(no)
        old = existing.get(task.id) if task else None
        merged = _merge(stored_to_row(old, codebook) if old else None, r.values, r.present)
        result = validate_row(merged, as_of=as_of, row_no=r.row_no, codebook=codebook, columns=r.columns)
        found = [] if isinstance(result, FindingInput) else list(result)

        def where(key: str, reason: str) -> Problem:
            return Problem(reason, row=r.row_no, column=r.columns.get(key, key))

        # Control and bidirectional characters are refused in every text (inspect_kit.text); files
        # are checked by their reader already, values given to `findings add` here.
        bad_text = [where(k, why) for k, v in r.values.items() if (why := text_problem(v)) is not None]
        if bad_text:
            problems.extend(dataclasses.replace(p, file=r.file) for p in bad_text)
            continue

        if no:
            here = f"row {r.row_no}" if r.row_no is not None else "an earlier entry"
            if r.file:
                here += f" ({r.file})"
            if task is None:
                found.append(where("task_no", f"no task {no}: task numbers are those of the draw (see "
                                              "`inspect findings template` or the draw notice)"))
            elif task.current_draw != task.draw_id:
                found.append(where("task_no", f"task {no} belongs to draw {task.draw_id} of {task.matter_code} "
                                              f"{task.period}, which was superseded by draw {task.current_draw}; "
                                              "record results for the current draw's tasks"))
            elif no in first_seen:
                found.append(where("task_no", f"task {no} already has a finding in {first_seen[no]}"))
            if no not in first_seen:
                first_seen[no] = here
            if task is not None and isinstance(result, FindingInput) and result.inspection_start < task.drawn_on:
                key = "inspection_date" if "inspection_date" in r.present else "inspection_start"
                found.append(where(key, f"the inspection starts ({result.inspection_start}) before the task was "
                                        f"drawn ({task.drawn_on})"))
        if isinstance(result, FindingInput) and "revision" in r.present and not found:
            found += _conflict(r, old, latest.get(old["id"]) if old else None, _stored(result, codebook))
        if isinstance(result, FindingInput):
            for key, limit in _MAX_LEN.items():
                value = getattr(result, key)
                if value and len(value) > limit:
                    found.append(where(key, f"is longer than {limit} characters"))
        problems.extend(dataclasses.replace(p, file=r.file) for p in found)
        if not found:
            assert task is not None and isinstance(result, FindingInput)
            accepted.append((r, task, result))
    if problems or not write:
        return [], problems
    assert now is not None
    check_text(by, "--by")
    if by is not None and len(by) > 64:
        raise InspectError(f"--by {by!r} is longer than 64 characters")
    outcomes: list[RowOutcome] = []
    f_table, rev_table = Finding.__table__, FindingRevision.__table__
    revisions: list[dict[str, Any]] = []
    updates: list[tuple[str, int, int, dict[str, Any]]] = []  # task_no, finding id, revision read, new values
    for r, task, fi in accepted:
        new = _stored(fi, codebook)
        old = existing.get(task.id)
        read = old["revision"] if old is not None else 0
        if reads is not None:
            reads[task.task_no] = (task.id, read)
        if old is None:
            try:
                fid = insert_id(conn, f_table, task_id=task.id, **new, revision=1, created_at=now, updated_at=now)
            except IntegrityError:  # someone else recorded this task's first finding meanwhile
                raise _Stale(task.task_no, 0) from None
            changes = {k: [None, _jsonable(v)] for k, v in new.items() if v not in (None, [], "")}
            action = "added"
            existing[task.id] = {**new, "id": fid, "task_id": task.id, "revision": 1}
        else:
            changes = _diff(old, new)
            if not changes:
                outcomes.append(RowOutcome(task.task_no, "unchanged", {}, r.file, r.row_no))
                continue
            fid = old["id"]
            updates.append((task.task_no, fid, read, {k: new[k] for k in changes}))
            action = "updated"
            existing[task.id] = {**old, **new, "revision": read + 1}
        revisions.append({"finding_id": fid, "revision": read + 1, "at": now, "by": by or fi.recorded_by,
                          "source": source, "changes": changes})
        outcomes.append(RowOutcome(task.task_no, action, changes, r.file, r.row_no))
    # The history first (revision N+1 is unique per finding: a concurrent writer that appended it
    # already makes this fail), then each row, only if it is still at the revision read.
    if revisions:
        conn.execute(insert(rev_table), revisions)
    for task_no, fid, read, values in updates:
        done = conn.execute(update(f_table).where(f_table.c.id == fid, f_table.c.revision == read)
                            .values(**values, revision=read + 1, updated_at=now))
        if done.rowcount != 1:
            raise _Stale(task_no, read)
    return outcomes, []


def _conflict(r: SourceRow, old: Mapping[str, Any] | None, latest: tuple[int, dt.datetime, str] | None,
              new: Mapping[str, Any]) -> list[Problem]:
    """A row of a file written before the finding's latest change, that would overwrite it."""
    written = clean_cell(r.values.get("revision"))
    now_at = str(latest[0]) if latest else ""
    if written == now_at or (old is not None and not _diff(old, new)):
        return []
    if old is None:
        return []  # the finding was never recorded: nothing to overwrite
    what = f"revision {latest[0]} of {latest[1]:%Y-%m-%d %H:%M} by {latest[2]}" if latest else "a later change"
    return [Problem(f"the finding was changed after this file was written ({what}); write a new template with "
                    "`inspect findings template` and enter the changes there", row=r.row_no,
                    column=r.columns.get("revision", "revision"))]


class _Stale(Exception):
    """A finding changed between this writer's read and its write."""

    def __init__(self, task_no: str, read: int):
        super().__init__(task_no, read)
        self.task_no, self.read = task_no, read


def _stale_error(engine: Engine, task_no: str, read: int) -> InspectError:
    with engine.connect() as conn:
        now_at = conn.execute(select(Finding.revision).join(Task, Task.id == Finding.task_id)
                              .where(Task.task_no == task_no)).scalar()
    return InspectError(f"task {task_no} was changed by someone else since you read it (revision {read} → "
                        f"{now_at if now_at is not None else read}); nothing was written. See it with "
                        f"`inspect findings show {task_no}` and run the command again")


def _run(engine: Engine, rows: Sequence[SourceRow], summary: str, **kw: Any) -> list[RowOutcome]:
    """`_apply` in one transaction. Optimistic concurrency: the revision each finding was read at
    is checked when it is written; the loser of two concurrent writers is rolled back whole and
    told which task changed under it (revision read → revision now)."""
    dry_run = kw.pop("dry_run", False)

    class _Rollback(Exception):
        pass

    result: list[RowOutcome] = []
    reads: dict[str, tuple[int, int]] = {}
    try:
        with engine.begin() as conn:
            result, problems = _apply(conn, rows, write=True, reads=reads, **kw)
            if problems:
                raise ValidationFailed(summary, problems)
            if dry_run:
                raise _Rollback
            append_pending(conn, kw["now"])
    except _Rollback:
        pass
    except _Stale as stale:
        raise _stale_error(engine, stale.task_no, stale.read) from None
    except (IntegrityError, ConcurrentWrite) as exc:
        # A revision number another writer appended first, or a deadlock with it: whose finding moved on?
        now_at: dict[int, int] = {}
        with engine.connect() as conn:
            for part in _chunks([tid for tid, _ in reads.values()]):
                now_at.update(conn.execute(select(Finding.task_id, Finding.revision)
                                           .where(Finding.task_id.in_(part))).all())
        for task_no, (tid, read) in reads.items():
            if now_at.get(tid, 0) != read:
                raise _stale_error(engine, task_no, read) from None
        if isinstance(exc, ConcurrentWrite):
            raise
        raise InspectError("findings were changed by someone else at the same time; nothing was written, "
                           "run the command again") from None
    return result


# -- recording -----------------------------------------------------------------------------------


def _single(task_no: str, values: Mapping[str, Any], columns: Mapping[str, str] | None) -> SourceRow:
    given = {k: v for k, v in values.items() if v is not None and k != "task_no"}
    given["task_no"] = task_no
    return SourceRow("", None, given, frozenset(given), {**CANONICAL_HEADERS, **(columns or {})})


def add_finding(engine: Engine, task_no: str, values: Mapping[str, Any], *, as_of: dt.date, now: dt.datetime,
                by: str | None = None, source: str = "cli", policy: FindingsPolicy = DEFAULT_POLICY,
                columns: Mapping[str, str] | None = None, dry_run: bool = False) -> RowOutcome:
    """Record or change one task's finding. `values` uses validate's row keys; only keys given (not
    None) change, "" clears. Raises ValidationFailed naming `columns[key]` (default: Chinese headers)."""
    row = _single(task_no, values, columns)
    (outcome,) = _run(engine, [row], f"cannot record the finding of task {clean_code(task_no)}", as_of=as_of,
                      now=now, source=source, by=by, policy=policy, dry_run=dry_run)
    return outcome


def check_finding(engine: Engine, task_no: str, values: Mapping[str, Any], *, as_of: dt.date,
                  policy: FindingsPolicy = DEFAULT_POLICY, columns: Mapping[str, str] | None = None) -> list[Problem]:
    """The problems `add_finding` would report for these values (nothing is written)."""
    with engine.connect() as conn:
        _, problems = _apply(conn, [_single(task_no, values, columns)], as_of=as_of, now=None, source="check",
                             by=None, policy=policy, write=False)
    return problems


def finding_row(engine: Engine, task_no: str, policy: FindingsPolicy = DEFAULT_POLICY) -> dict[str, Any] | None:
    """The task's stored finding as a row of validate's keys, or None; InspectError if no such task."""
    no = clean_code(task_no)
    with engine.connect() as conn:
        ref = _task_refs(conn, [no]).get(no)
        if ref is None:
            raise InspectError(f"no task {no}")
        old = _stored_findings(conn, [ref.id]).get(ref.id)
    return stored_to_row(old, policy.codebook) if old else None


def import_findings(engine: Engine, path: Path | str, *, as_of: dt.date, now: dt.datetime,
                    policy: FindingsPolicy = DEFAULT_POLICY, by: str | None = None, dry_run: bool = False,
                    encoding: str | None = None) -> ImportSummary:
    """Import a filled-in .xlsx (every sheet with a 任务编号 column) or .csv: all rows validated, then
    written in one transaction, or none (ValidationFailed lists file, row, column and reason of
    every problem). Revisions name `by`, else each row's 录入人, and the file's name as source."""
    from inspect_kit.findings.template import read_findings_file

    path = Path(path)
    ff = read_findings_file(path, encoding=encoding)
    if ff.problems:
        raise ValidationFailed(f"{path}: cannot read the findings", ff.problems)
    summary = ImportSummary(str(path), ff.encoding, ff.sheets, len(ff.rows), ff.blank_rows,
                            ignored_columns=ff.ignored_columns, skipped_sheets=ff.skipped_sheets, dry_run=dry_run)
    outcomes = _run(engine, ff.rows, f"{path}: the import was refused", as_of=as_of, now=now, source=path.name,
                    by=by, policy=policy, dry_run=dry_run)
    summary.outcomes = outcomes
    for o in outcomes:
        setattr(summary, o.action, getattr(summary, o.action) + 1)
    summary.revisions = summary.added + summary.updated
    return summary


# -- reading -------------------------------------------------------------------------------------


def _record(task: TaskInfo, f: Mapping[str, Any], current: bool, published: dt.date | None, as_of: dt.date,
            policy: FindingsPolicy) -> FindingRecord:
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
        task_id=task.task_id, task_no=task.task_no, matter_code=task.matter_code, period=task.period,
        draw_id=task.draw_id, current=current, identifier=task.identifier, entity_name=task.entity_name,
        township=task.township, inspection_start=f["inspection_start"], inspection_end=f["inspection_end"],
        results=results, result_labels=tuple(_labels(results, cb.categories)), problems=f["problems"],
        follow_ups=follow_ups, follow_up_labels=tuple(_labels(follow_ups, cb.follow_ups)),
        rectification_deadline=f["rectification_deadline"], rectification_status=f["rectification_status"],
        recheck_date=f["recheck_date"], recheck_outcome=f["recheck_outcome"], case_no=f["case_no"],
        recorded_by=f["recorded_by"], notes=f["notes"], created_at=f["created_at"], updated_at=f["updated_at"],
        as_of=as_of, problem_found=any(c.problem for c in cats),
        rectification_ordered=any(x.rectification for x in fus), case_opened=any(x.case for x in fus),
        status=status, rectification_due=due, recheck_on_time=recheck_ok, publicity_deadline=pub_deadline,
        published_on=published, warning=warning)


@dataclass(frozen=True)
class _View:
    """What the deadline functions read (deadlines.FindingLike)."""

    task_no: str
    inspection_end: dt.date
    rectification_deadline: dt.date | None
    rectification_status: str | None


def _select_tasks(conn: Connection, period: str | None, year: int | None, matter: str | None) -> list[TaskInfo]:
    label = parse_period(period).label if period else None
    tasks = current_tasks(conn, label, matter)
    if year is not None:
        tasks = [t for t in tasks if parse_period(t.period).year == year]
    return tasks


def task_results(engine: Engine, *, as_of: dt.date, policy: FindingsPolicy = DEFAULT_POLICY,
                 period: str | None = None, year: int | None = None, matter: str | None = None) -> list[TaskResult]:
    """Every current task (of `period` exactly, or of any period in `year`) with its finding or None
    and its team. What the publish and score stages read."""
    with engine.connect() as conn:
        tasks = _select_tasks(conn, period, year, matter)
        ids = [t.task_id for t in tasks]
        stored = _stored_findings(conn, ids)
        published = published_on(conn, ids)
        teams = _teams(conn, ids)
    return [TaskResult(t, _record(t, stored[t.task_id], True, published.get(t.task_id), as_of, policy)
                       if t.task_id in stored else None, teams.get(t.task_id, "")) for t in tasks]


def list_findings(engine: Engine, *, as_of: dt.date, policy: FindingsPolicy = DEFAULT_POLICY,
                  period: str | None = None, year: int | None = None, matter: str | None = None,
                  status: str | None = None) -> list[FindingRecord]:
    """Recorded findings of current tasks; `status` (open | closed | overdue) filters on the
    rectification status as of `as_of`."""
    if status is not None and status not in ("open", "closed", "overdue"):
        raise InspectError(f"unknown status {status!r}; use open, closed or overdue")
    out = [r.finding for r in task_results(engine, as_of=as_of, policy=policy, period=period, year=year,
                                           matter=matter) if r.finding is not None]
    return [f for f in out if status is None or f.status == status]


def get_finding(engine: Engine, task_no: str, *, as_of: dt.date,
                policy: FindingsPolicy = DEFAULT_POLICY) -> tuple[TaskInfo, FindingRecord | None]:
    """A task (current or superseded) and its finding; InspectError if there is no such task."""
    no = clean_code(task_no)
    with engine.connect() as conn:
        task = task_by_no(conn, no)
        if task is None:
            raise InspectError(f"no task {no}")
        current = current_draw_ids(conn, task.period, task.matter_code).get((task.matter_code, task.period))
        stored = _stored_findings(conn, [task.task_id]).get(task.task_id)
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
        rows = conn.execute(select(FindingRevision).join(Finding, Finding.id == FindingRevision.finding_id)
                            .where(Finding.task_id == tid).order_by(FindingRevision.id)).all()
    return [Revision(r.id, no, r.at, r.by, r.source, dict(r.changes), r.revision) for r in rows]


def due(engine: Engine, *, as_of: dt.date, policy: FindingsPolicy = DEFAULT_POLICY, period: str | None = None,
        year: int | None = None, matter: str | None = None, horizon: int | None = DEFAULT_HORIZON) -> DueReport:
    """Publicity deadlines of unpublished results and open rectification deadlines that are overdue or
    due within `horizon` working days (None: every pending one), most overdue first."""
    report = DueReport(as_of)
    for tr in task_results(engine, as_of=as_of, policy=policy, period=period, year=year, matter=matter):
        f = tr.finding
        if f is None:
            continue
        published = {f.task_no} if f.published else set()
        try:
            items = due_items([f], as_of, policy.calendar, policy.publicity_days, horizon=horizon,
                              published=published, roll_to_working_day=policy.roll_to_working_day)
        except InspectError as exc:
            report.warnings.append(f"{f.task_no}: {exc}")
            continue
        report.items += [DueRow(i.task_no, i.kind, i.deadline, i.overdue, i.working_days, i.calendar_days,
                                f.matter_code, f.period, f.entity_name, f.identifier) for i in items]
    report.items.sort(key=lambda i: (i.deadline, i.kind, i.task_no))
    return report


# -- the template --------------------------------------------------------------------------------


def write_template(engine: Engine, path: Path | str, *, period: str, matter: str | None = None,
                   policy: FindingsPolicy = DEFAULT_POLICY) -> TemplateSummary:
    """Write the findings template of `period`'s current tasks (one sheet per matter), prefilled
    with the findings already recorded; see `inspect_kit.findings.template`."""
    from inspect_kit.findings.template import write_template as write_file

    label = parse_period(period).label
    with engine.connect() as conn:
        tasks = _select_tasks(conn, label, None, matter)
        if not tasks:
            which = f"matter {matter}" if matter else "any matter"
            raise InspectError(f"no drawn tasks of {which} for {label}; run the draw first")
        ids = [t.task_id for t in tasks]
        stored = _stored_findings(conn, ids)
        latest = _latest_revisions(conn, [f["id"] for f in stored.values()])
        teams = _teams(conn, ids)
        names = dict(conn.execute(select(Matter.code, Matter.name)).all())
    sheets: dict[str, TemplateSheet] = {}
    prefilled: dict[str, int] = {}
    for t in tasks:
        sheet = sheets.setdefault(t.matter_code, TemplateSheet(t.matter_code, names.get(t.matter_code, ""), t.period))
        row: dict[str, Any] = {"task_no": t.task_no, "ref_entity_name": t.entity_name, "ref_identifier": t.identifier,
                               "ref_township": t.township, "ref_team": teams.get(t.task_id, "")}
        if t.task_id in stored:
            row.update(stored_to_row(stored[t.task_id], policy.codebook))
            rev = latest.get(stored[t.task_id]["id"])
            row["revision"] = rev[0] if rev else None
            prefilled[t.matter_code] = prefilled.get(t.matter_code, 0) + 1
        sheet.rows.append(row)
    ordered = [sheets[k] for k in sorted(sheets)]
    write_file(path, ordered, policy.codebook)
    return TemplateSummary(str(path), [(s.matter_code, len(s.rows), prefilled.get(s.matter_code, 0)) for s in ordered])
