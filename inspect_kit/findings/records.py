"""Findings and what they hang on, read from the database: tasks by number, stored findings, latest
revisions, publication dates and teams. Each takes an open Connection and returns plain values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from inspect_kit.draw.store.tasks import current_draw_ids
from inspect_kit.storage.helpers import chunks
from inspect_kit.storage.models import Draw, Finding, FindingRevision, Inspector, Matter, Notice, Task, TeamMember


@dataclass(frozen=True)
class TaskRef:
    id: int
    task_no: str
    draw_id: int
    matter_code: str
    period: str
    drawn_on: dt.date
    current_draw: int | None


def task_refs(conn: Connection, task_nos: Iterable[str]) -> dict[str, TaskRef]:
    nos = sorted(set(task_nos))
    if not nos:
        return {}
    current = current_draw_ids(conn)
    out: dict[str, TaskRef] = {}
    for part in chunks(nos):
        stmt = (
            select(Task.id, Task.task_no, Task.draw_id, Draw.matter_code, Draw.period, Draw.drawn_at)
            .join(Draw, Draw.id == Task.draw_id)
            .where(Task.task_no.in_(part))
        )
        for tid, no, draw_id, matter, period, drawn_at in conn.execute(stmt):
            out[no] = TaskRef(tid, no, draw_id, matter, period, drawn_at.date(), current.get((matter, period)))
    return out


def checklists(conn: Connection, matter_codes: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Matter code → its checklist's item codes, from the matters as loaded (`inspect config load`:
    the ``matters`` table's spec); a matter without a checklist maps to ()."""
    codes = sorted(set(matter_codes))
    out: dict[str, tuple[str, ...]] = dict.fromkeys(codes, ())
    for part in chunks(codes):
        for code, spec in conn.execute(select(Matter.code, Matter.spec).where(Matter.code.in_(part))):
            out[code] = tuple(str(i["code"]) for i in (spec or {}).get("checklist") or [])
    return out


def task_checklist(conn: Connection, task_no: str) -> list[tuple[str, str]]:
    """(item code, content) of the checklist of the task's matter, as loaded; [] without one (or
    without such a task)."""
    spec = conn.execute(
        select(Matter.spec)
        .join(Draw, Draw.matter_code == Matter.code)
        .join(Task, Task.draw_id == Draw.id)
        .where(Task.task_no == task_no)
    ).scalar()
    return [(str(i["code"]), str(i.get("content") or "")) for i in (spec or {}).get("checklist") or []]


def stored_findings(conn: Connection, task_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = sorted(set(task_ids))
    out: dict[int, dict[str, Any]] = {}
    for part in chunks(ids):
        for r in conn.execute(select(Finding).where(Finding.task_id.in_(part))):
            d = r._asdict()
            d["results"], d["follow_ups"] = list(d["results"] or []), list(d["follow_ups"] or [])
            out[d["task_id"]] = d
    return out


def latest_revisions(conn: Connection, finding_ids: Iterable[int]) -> dict[int, tuple[int, dt.datetime, str]]:
    """Finding id → (id, at, by) of its latest revision."""
    ids = sorted(set(finding_ids))
    out: dict[int, tuple[int, dt.datetime, str]] = {}
    for part in chunks(ids):
        latest = (
            select(FindingRevision.finding_id, func.max(FindingRevision.id).label("rid"))
            .where(FindingRevision.finding_id.in_(part))
            .group_by(FindingRevision.finding_id)
            .subquery()
        )
        stmt = select(FindingRevision.finding_id, FindingRevision.id, FindingRevision.at, FindingRevision.by).join(
            latest, latest.c.rid == FindingRevision.id
        )
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


@dataclass(frozen=True)
class CurrentMember:
    cert_no: str
    name: str
    expert: bool

    @property
    def label(self) -> str:
        return f"{self.name}（专家）" if self.expert else self.name


def current_members(conn: Connection, task_ids: Sequence[int]) -> dict[int, list[CurrentMember]]:
    """Task id → the members of its current team, from its latest assignment (substitutes in place
    of those they replace)."""
    if not task_ids:
        return {}
    out: dict[int, list[CurrentMember]] = {}
    for part in chunks(list(task_ids)):
        rows = conn.execute(
            select(
                TeamMember.id,
                TeamMember.task_id,
                TeamMember.assignment_id,
                TeamMember.role,
                TeamMember.replaces_id,
                Inspector.cert_no,
                Inspector.name,
                Inspector.kind,
            )
            .join(Inspector, Inspector.id == TeamMember.inspector_id)
            .where(TeamMember.task_id.in_(part))
            .order_by(TeamMember.id)
        ).all()
        latest: dict[int, int] = {}
        for r in rows:
            if r.role != "substitute":
                latest[r.task_id] = max(latest.get(r.task_id, 0), r.assignment_id)
        replaced = {r.replaces_id for r in rows if r.replaces_id is not None}
        for r in rows:
            if r.assignment_id != latest.get(r.task_id) or r.id in replaced:
                continue
            out.setdefault(r.task_id, []).append(
                CurrentMember(r.cert_no, r.name, r.kind == "expert" or r.role == "expert")
            )
    return out


def current_teams(conn: Connection, task_ids: Sequence[int]) -> dict[int, str]:
    """Task id → current team (names, 、-joined; experts marked), from each task's latest assignment."""
    return {tid: "、".join(m.label for m in ms) for tid, ms in current_members(conn, task_ids).items()}
