"""The one write path of findings: check rows against the stored findings and the draw, then write.

`add_finding` (one task, the CLI) and `import_findings` (a file) both go through `check_rows` and
`write_checked`, in one transaction (`_run`); the rules are in the facade's docstring
(inspect_kit.findings.service).

One module over 400 lines on purpose: it is the one write path; checking and writing are separate
functions here, and must stay in step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.findings import records
from inspect_kit.findings.codes import Codebook
from inspect_kit.findings.items import check_item_results, in_checklist_order, item_key, items_from_row
from inspect_kit.findings.model import FindingsImportSummary, RowOutcome
from inspect_kit.findings.policy import DEFAULT_POLICY, FindingsPolicy
from inspect_kit.findings.records import TaskRef
from inspect_kit.findings.stored import diff, jsonable, merge, stored_form, stored_to_row
from inspect_kit.findings.template import CANONICAL_HEADERS, SourceRow
from inspect_kit.findings.validate import FindingInput, validate_row
from inspect_kit.storage.db import ConcurrentWrite
from inspect_kit.storage.helpers import chunks, insert_id, transaction
from inspect_kit.storage.models import Finding, FindingRevision, Task
from inspect_kit.text import check_text, clean_cell, clean_code, text_problem
from inspect_kit.transparency.store import append_pending

_MAX_LEN = {"case_no": 64, "recorded_by": 64}  # String(64) columns


@dataclass
class Checked:
    """What `check_rows` found: the rows that passed and the problems of the others, with the stored
    findings it read (task id → stored values, revision included)."""

    accepted: list[tuple[SourceRow, TaskRef, FindingInput]]
    problems: list[Problem]
    existing: dict[int, dict[str, Any]]


def check_rows(conn: Connection, rows: Sequence[SourceRow], *, as_of: dt.date, policy: FindingsPolicy) -> Checked:
    """Merge every row into its task's stored finding, validate it and check it against the database
    (nothing is written)."""
    codebook = policy.codebook
    tasks = records.task_refs(conn, (clean_code(r.values.get("task_no")) for r in rows))
    existing = records.stored_findings(conn, [t.id for t in tasks.values()])
    latest = (
        records.latest_revisions(conn, [f["id"] for f in existing.values()])
        if any("revision" in r.present for r in rows)
        else {}
    )
    lists = records.checklists(conn, (t.matter_code for t in tasks.values()))
    checked = Checked([], [], existing)
    first_seen: dict[str, str] = {}  # task no → where its first row is
    for r in rows:
        task = tasks.get(clean_code(r.values.get("task_no")))
        old = existing.get(task.id) if task else None
        merged = merge(stored_to_row(old, codebook) if old else None, r.values, r.present)
        result = validate_row(merged, as_of=as_of, row_no=r.row_no, codebook=codebook, columns=r.columns)
        if task is not None:
            result = _with_items(r, merged, result, lists.get(task.matter_code, ()), codebook)
        found = _row_problems(r, task, old, result, first_seen, latest, codebook)
        checked.problems.extend(dataclasses.replace(p, file=r.file) for p in found)
        if not found:
            assert task is not None and isinstance(result, FindingInput)
            checked.accepted.append((r, task, result))
    return checked


def _where(r: SourceRow, key: str, reason: str) -> Problem:
    return Problem(reason, row=r.row_no, column=r.columns.get(key, key))


def _with_items(
    r: SourceRow,
    merged: Mapping[str, Any],
    result: FindingInput | list[Problem],
    checklist: Sequence[str],
    codebook: Codebook,
) -> FindingInput | list[Problem]:
    """The row's item results (keys ``item:CODE``) read and checked against the matter's checklist
    and the finding's results (inspect_kit.findings.items): the FindingInput with its items, or
    every problem (the row's own first)."""
    found, unreadable = items_from_row(merged, codebook)
    problems = [_where(r, key, why) for key, why in unreadable]
    if isinstance(result, FindingInput):
        codes = {i.code for i in found}
        missing = [c for c in checklist if c not in codes]
        for p in check_item_results(checklist, found, result.results, codebook):
            key = p.key or ""
            if key.startswith("item "):
                key = item_key(key[len("item ") :])
            elif key == "items":
                key = item_key(missing[0]) if missing else "results"
            problems.append(_where(r, key, p.reason))
        if not problems:
            return dataclasses.replace(result, items=tuple(in_checklist_order(found, checklist)))
        return problems
    return list(result) + problems


def _row_problems(
    r: SourceRow,
    task: TaskRef | None,
    old: Mapping[str, Any] | None,
    result: FindingInput | Sequence[Problem],
    first_seen: dict[str, str],
    latest: Mapping[int, tuple[int, dt.datetime, str]],
    codebook: Codebook,
) -> list[Problem]:
    """The problems of one row (validation's, then the database's), without the file."""
    # Control and bidirectional characters are refused in every text (inspect_kit.text); files
    # are checked by their reader already, values given to `findings add` here.
    bad_text = [_where(r, k, why) for k, v in r.values.items() if (why := text_problem(v)) is not None]
    if bad_text:
        return bad_text
    found = [] if isinstance(result, FindingInput) else list(result)
    no = clean_code(r.values.get("task_no"))
    if no:
        found += _task_problems(r, no, task, result, first_seen)
    if isinstance(result, FindingInput):
        if "revision" in r.present and not found:
            found += _conflict(r, old, latest.get(old["id"]) if old else None, stored_form(result, codebook))
        for key, limit in _MAX_LEN.items():
            value = getattr(result, key)
            if value and len(value) > limit:
                found.append(_where(r, key, f"is longer than {limit} characters"))
    return found


def _task_problems(
    r: SourceRow, no: str, task: TaskRef | None, result: FindingInput | Sequence[Problem], first_seen: dict[str, str]
) -> list[Problem]:
    """The task exists, is of the current draw, has no earlier row, and was drawn before the inspection."""
    found: list[Problem] = []
    here = f"row {r.row_no}" if r.row_no is not None else "an earlier entry"
    if r.file:
        here += f" ({r.file})"
    if task is None:
        found.append(
            _where(
                r,
                "task_no",
                f"no task {no}: task numbers are those of the draw (see "
                "`inspect findings template` or the draw notice)",
            )
        )
    elif task.current_draw != task.draw_id:
        found.append(
            _where(
                r,
                "task_no",
                f"task {no} belongs to draw {task.draw_id} of {task.matter_code} "
                f"{task.period}, which was superseded by draw {task.current_draw}; "
                "record results for the current draw's tasks",
            )
        )
    elif no in first_seen:
        found.append(_where(r, "task_no", f"task {no} already has a finding in {first_seen[no]}"))
    if no not in first_seen:
        first_seen[no] = here
    if task is not None and isinstance(result, FindingInput) and result.inspection_start < task.drawn_on:
        key = "inspection_date" if "inspection_date" in r.present else "inspection_start"
        found.append(
            _where(
                r, key, f"the inspection starts ({result.inspection_start}) before the task was drawn ({task.drawn_on})"
            )
        )
    return found


def write_checked(
    conn: Connection,
    checked: Checked,
    *,
    now: dt.datetime,
    source: str,
    by: str | None,
    policy: FindingsPolicy,
    reads: dict[str, tuple[int, int]] | None = None,
) -> list[RowOutcome]:
    """Insert or update the accepted findings and append their revisions. `reads` gets task_no →
    (task id, revision read) of every finding written; a write that finds its finding changed since
    it was read raises _Stale (the caller rolls back)."""
    check_text(by, "--by")
    if by is not None and len(by) > 64:
        raise InspectError(f"--by {by!r} is longer than 64 characters")
    existing = checked.existing
    outcomes: list[RowOutcome] = []
    f_table, rev_table = Finding.__table__, FindingRevision.__table__
    revisions: list[dict[str, Any]] = []
    updates: list[tuple[str, int, int, dict[str, Any]]] = []  # task_no, finding id, revision read, new values
    for r, task, fi in checked.accepted:
        new = stored_form(fi, policy.codebook)
        old = existing.get(task.id)
        read = old["revision"] if old is not None else 0
        if reads is not None:
            reads[task.task_no] = (task.id, read)
        if old is None:
            try:
                fid = insert_id(conn, f_table, task_id=task.id, **new, revision=1, created_at=now, updated_at=now)
            except IntegrityError:  # someone else recorded this task's first finding meanwhile
                raise _Stale(task.task_no, 0) from None
            changes = {k: [None, jsonable(v)] for k, v in new.items() if v not in (None, [], "")}
            action = "added"
            existing[task.id] = {**new, "id": fid, "task_id": task.id, "revision": 1}
        else:
            changes = diff(old, new)
            if not changes:
                outcomes.append(RowOutcome(task.task_no, "unchanged", {}, r.file, r.row_no))
                continue
            fid = old["id"]
            updates.append((task.task_no, fid, read, {k: new[k] for k in changes}))
            action = "updated"
            existing[task.id] = {**old, **new, "revision": read + 1}
        revisions.append(
            {
                "finding_id": fid,
                "revision": read + 1,
                "at": now,
                "by": by or fi.recorded_by,
                "source": source,
                "changes": changes,
            }
        )
        outcomes.append(RowOutcome(task.task_no, action, changes, r.file, r.row_no))
    # The history first (revision N+1 is unique per finding: a concurrent writer that appended it
    # already makes this fail), then each row, only if it is still at the revision read.
    if revisions:
        conn.execute(insert(rev_table), revisions)
    for task_no, fid, read, values in updates:
        done = conn.execute(
            update(f_table)
            .where(f_table.c.id == fid, f_table.c.revision == read)
            .values(**values, revision=read + 1, updated_at=now)
        )
        if done.rowcount != 1:
            raise _Stale(task_no, read)
    return outcomes


def _conflict(
    r: SourceRow, old: Mapping[str, Any] | None, latest: tuple[int, dt.datetime, str] | None, new: Mapping[str, Any]
) -> list[Problem]:
    """A row of a file written before the finding's latest change, that would overwrite it."""
    written = clean_cell(r.values.get("revision"))
    now_at = str(latest[0]) if latest else ""
    if written == now_at or (old is not None and not diff(old, new)):
        return []
    if old is None:
        return []  # the finding was never recorded: nothing to overwrite
    what = f"revision {latest[0]} of {latest[1]:%Y-%m-%d %H:%M} by {latest[2]}" if latest else "a later change"
    return [
        Problem(
            f"the finding was changed after this file was written ({what}); write a new template with "
            "`inspect findings template` and enter the changes there",
            row=r.row_no,
            column=r.columns.get("revision", "revision"),
        )
    ]


class _Stale(Exception):
    """A finding changed between this writer's read and its write."""

    def __init__(self, task_no: str, read: int):
        super().__init__(task_no, read)
        self.task_no, self.read = task_no, read


def _stale_error(engine: Engine, task_no: str, read: int) -> InspectError:
    with engine.connect() as conn:
        now_at = conn.execute(
            select(Finding.revision).join(Task, Task.id == Finding.task_id).where(Task.task_no == task_no)
        ).scalar()
    return InspectError(
        f"task {task_no} was changed by someone else since you read it (revision {read} → "
        f"{now_at if now_at is not None else read}); nothing was written. See it with "
        f"`inspect findings show {task_no}` and run the command again"
    )


def _run(
    engine: Engine,
    rows: Sequence[SourceRow],
    summary: str,
    *,
    as_of: dt.date,
    now: dt.datetime,
    source: str,
    by: str | None,
    policy: FindingsPolicy,
    dry_run: bool,
) -> list[RowOutcome]:
    """`check_rows` then `write_checked`, in one transaction. Optimistic concurrency: the revision
    each finding was read at is checked when it is written; the loser of two concurrent writers is
    rolled back whole and told which task changed under it (revision read → revision now)."""
    result: list[RowOutcome] = []
    reads: dict[str, tuple[int, int]] = {}
    try:
        with transaction(engine, dry_run=dry_run) as conn:  # a dry run is rolled back at the end
            checked = check_rows(conn, rows, as_of=as_of, policy=policy)
            if checked.problems:
                raise ValidationFailed(summary, checked.problems)
            result = write_checked(conn, checked, now=now, source=source, by=by, policy=policy, reads=reads)
            if not dry_run:
                append_pending(conn, now)
    except _Stale as stale:
        raise _stale_error(engine, stale.task_no, stale.read) from None
    except (IntegrityError, ConcurrentWrite) as exc:
        # A revision number another writer appended first, or a deadlock with it: whose finding moved on?
        now_at: dict[int, int] = {}
        with engine.connect() as conn:
            for part in chunks([tid for tid, _ in reads.values()]):
                now_at.update(
                    conn.execute(select(Finding.task_id, Finding.revision).where(Finding.task_id.in_(part))).all()
                )
        for task_no, (tid, read) in reads.items():
            if now_at.get(tid, 0) != read:
                raise _stale_error(engine, task_no, read) from None
        if isinstance(exc, ConcurrentWrite):
            raise
        raise InspectError(
            "findings were changed by someone else at the same time; nothing was written, run the command again"
        ) from None
    return result


def _single(task_no: str, values: Mapping[str, Any], columns: Mapping[str, str] | None) -> SourceRow:
    given = {k: v for k, v in values.items() if v is not None and k != "task_no"}
    given["task_no"] = task_no
    return SourceRow("", None, given, frozenset(given), {**CANONICAL_HEADERS, **(columns or {})})


def add_finding(
    engine: Engine,
    task_no: str,
    values: Mapping[str, Any],
    *,
    as_of: dt.date,
    now: dt.datetime,
    by: str | None = None,
    source: str = "cli",
    policy: FindingsPolicy = DEFAULT_POLICY,
    columns: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> RowOutcome:
    """Record or change one task's finding. `values` uses validate's row keys; only keys given (not
    None) change, "" clears. Raises ValidationFailed naming `columns[key]` (default: Chinese headers)."""
    row = _single(task_no, values, columns)
    (outcome,) = _run(
        engine,
        [row],
        f"cannot record the finding of task {clean_code(task_no)}",
        as_of=as_of,
        now=now,
        source=source,
        by=by,
        policy=policy,
        dry_run=dry_run,
    )
    return outcome


def check_finding(
    engine: Engine,
    task_no: str,
    values: Mapping[str, Any],
    *,
    as_of: dt.date,
    policy: FindingsPolicy = DEFAULT_POLICY,
    columns: Mapping[str, str] | None = None,
) -> list[Problem]:
    """The problems `add_finding` would report for these values (nothing is written)."""
    with engine.connect() as conn:
        return check_rows(conn, [_single(task_no, values, columns)], as_of=as_of, policy=policy).problems


def finding_row(engine: Engine, task_no: str, policy: FindingsPolicy = DEFAULT_POLICY) -> dict[str, Any] | None:
    """The task's stored finding as a row of validate's keys, or None; InspectError if no such task."""
    no = clean_code(task_no)
    with engine.connect() as conn:
        ref = records.task_refs(conn, [no]).get(no)
        if ref is None:
            raise InspectError(f"no task {no}")
        old = records.stored_findings(conn, [ref.id]).get(ref.id)
    return stored_to_row(old, policy.codebook) if old else None


def import_findings(
    engine: Engine,
    path: Path | str,
    *,
    as_of: dt.date,
    now: dt.datetime,
    policy: FindingsPolicy = DEFAULT_POLICY,
    by: str | None = None,
    dry_run: bool = False,
    encoding: str | None = None,
) -> FindingsImportSummary:
    """Import a filled-in .xlsx (every sheet with a 任务编号 column) or .csv: all rows validated, then
    written in one transaction, or none (ValidationFailed lists file, row, column and reason of
    every problem). Revisions name `by`, else each row's 录入人, and the file's name as source."""
    from inspect_kit.findings.template import read_findings_file

    path = Path(path)
    ff = read_findings_file(path, encoding=encoding)
    if ff.problems:
        raise ValidationFailed(f"{path}: cannot read the findings", ff.problems)
    summary = FindingsImportSummary(
        str(path),
        ff.encoding,
        ff.sheets,
        len(ff.rows),
        ff.blank_rows,
        ignored_columns=ff.ignored_columns,
        skipped_sheets=ff.skipped_sheets,
        dry_run=dry_run,
    )
    outcomes = _run(
        engine,
        ff.rows,
        f"{path}: the import was refused",
        as_of=as_of,
        now=now,
        source=path.name,
        by=by,
        policy=policy,
        dry_run=dry_run,
    )
    summary.outcomes = outcomes
    for o in outcomes:
        setattr(summary, o.action, getattr(summary, o.action) + 1)
    summary.revisions = summary.added + summary.updated
    return summary
