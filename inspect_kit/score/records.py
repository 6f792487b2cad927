"""The records the metrics count, read once into a snapshot as of one day.

`load_snapshot` reads, in chunked queries, everything the metrics of one year need: units,
matters, the current draws with their frames' strata (and, for annual-coverage matters, the
frames' members), the draws' tasks and entities, findings, the results notices that published
them, the current teams with their inspectors and qualifications, and declared conflicts. The
metrics (metric_values.py) then work on these plain dataclasses without a connection, and every
unit is measured from the same reading.

Definitions the metrics rely on:
- "On or before `as_of`" for a timestamp: strictly before midnight after `as_of`.
- Current draw of (matter, period): the latest draw id among the draws made on or before `as_of`;
  only its tasks count. Draws of the year and of the year before are read (the previous period
  matters for 回避, late results of last year for publicity).
- A unit's matters (`Snapshot.matters_of`): those with `matter.unit == unit`, plus joint matters
  whose `team` names the unit.
- Planned periods of a matter (`Snapshot.planned`): the periods of the year, by the matter's
  period kind, that have started by `as_of`.
- A task's team: the members of the latest assignment (by id) holding the task, made by `as_of`,
  with substitutes applied. Declared conflicts count when recorded by `as_of`.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from inspect_kit.avoidance import AvoidanceRules
from inspect_kit.errors import InspectError
from inspect_kit.periods import Period, parse_period
from inspect_kit.storage.helpers import chunks


def _cutoff(as_of: dt.date) -> dt.datetime:
    """Timestamps strictly before this are 'on or before as_of'."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min)


@dataclass(frozen=True)
class MatterSpec:
    """A matter as configured, with what the metrics derive from its spec (departments, team
    demand, annual coverage, qualifications, its own 回避 rules)."""

    code: str
    name: str
    unit: str
    kind: str  # period kind: quarter | month | year
    spec: Mapping[str, Any]

    @property
    def team(self) -> dict[str, int]:
        return dict(self.spec.get("team") or {})

    @property
    def departments(self) -> set[str]:
        return {self.unit} | set(self.team)

    @property
    def demand(self) -> dict[str, int]:
        return self.team or {self.unit: int(self.spec.get("team_size") or 2)}

    @property
    def annual(self) -> bool:
        return self.spec.get("coverage") == "annual"

    @property
    def qualifications(self) -> set[str]:
        q = self.spec.get("qualification") or []
        return ({q} if isinstance(q, str) else set(q)) | {self.code}

    def conflict_rules(self, default: AvoidanceRules) -> AvoidanceRules:
        own = self.spec.get("conflicts")
        return AvoidanceRules.of(own) if own else default


@dataclass(frozen=True)
class _Draw:
    id: int
    matter: str
    period: Period
    drawn_at: dt.datetime
    frame_id: int


@dataclass(frozen=True)
class DrawnTask:
    """A task of a current draw, with its entity's identifier and township."""

    id: int
    no: str
    period: Period
    entity_id: int
    identifier: str
    township: str | None
    stratum: str


@dataclass(frozen=True)
class TaskFinding:
    """The parts of a task's finding the metrics count: dates, result and follow-up codes."""

    inspection_start: dt.date
    inspection_end: dt.date
    results: tuple[str, ...]
    follow_ups: tuple[str, ...]
    rectification_deadline: dt.date | None
    recheck_date: dt.date | None
    items: int = 0  # results per checklist item recorded (findings.item_results), 0: none
    items_failed: int = 0  # of which 不符合


@dataclass(frozen=True)
class _Member:
    id: int
    assignment_id: int
    inspector_id: int
    role: str
    replaces_id: int | None


@dataclass(frozen=True)
class TaskTeam:
    """A task's current team: the day it was assigned and its members, substitutes applied."""

    assigned_on: dt.date
    members: tuple[_Member, ...]


@dataclass(frozen=True)
class _Inspector:
    id: int
    cert_no: str
    name: str
    department: str
    home_township: str | None
    kind: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    qualifications: frozenset[str]


@dataclass
class Snapshot:
    """Everything the metrics of one year count, as of `as_of`; `warnings` collects the records
    the metrics could not count."""

    year: int
    as_of: dt.date
    units: list[tuple[str, str, str]]  # (code, name, kind), in database order
    matters: dict[str, MatterSpec]
    draws: dict[tuple[str, str], _Draw]  # current draw per (matter, period label)
    strata: dict[int, list[dict[str, Any]]]  # frame id → strata entries
    frame_ids: dict[int, list[str]]  # frame id → identifiers (annual-coverage matters only)
    entity_names: dict[str, str]  # identifier → name (frame members of annual matters)
    tasks: dict[int, list[DrawnTask]]  # draw id → tasks
    findings: dict[int, TaskFinding]  # task id → finding
    published: dict[int, dt.date]  # task id → first results notice issued by as_of
    teams: dict[int, TaskTeam]  # task id → current team
    inspectors: dict[int, _Inspector]
    conflicts: dict[tuple[int, int], str]  # (inspector id, entity id) → reason
    warnings: list[str] = field(default_factory=list)

    def matters_of(self, unit: str) -> list[MatterSpec]:
        return sorted((m for m in self.matters.values() if unit in m.departments), key=lambda m: m.code)

    def planned(self, matter: MatterSpec) -> list[Period]:
        n = {"quarter": 4, "month": 12, "year": 1}.get(matter.kind, 0)
        return [p for p in (Period(self.year, matter.kind, i) for i in range(n)) if p.start <= self.as_of]

    def current_tasks(self, matter: MatterSpec, years: Iterable[int]) -> list[DrawnTask]:
        wanted = set(years)
        out: list[DrawnTask] = []
        for (code, _), d in self.draws.items():
            if code == matter.code and d.period.year in wanted:
                out.extend(self.tasks.get(d.id, ()))
        return sorted(out, key=lambda t: t.no)


def _period_or_none(label: str) -> Period | None:
    try:
        return parse_period(label)
    except InspectError:
        return None


def load_snapshot(conn: Connection, year: int, as_of: dt.date) -> Snapshot:  # noqa: C901 - one query after another
    """Read the records of `year` (and of the year before, where the metrics look back) as of `as_of`."""
    from inspect_kit.storage.models import (
        Assignment,
        Conflict,
        Draw,
        Entity,
        Finding,
        Frame,
        Inspector,
        InspectorQualification,
        Matter,
        Notice,
        Task,
        TeamMember,
        Unit,
    )

    cutoff = _cutoff(as_of)
    units = [(r.code, r.name, r.kind) for r in conn.execute(select(Unit.code, Unit.name, Unit.kind).order_by(Unit.id))]
    matters = {
        r.code: MatterSpec(r.code, r.name, r.unit_code, r.period, r.spec or {})
        for r in conn.execute(select(Matter.code, Matter.name, Matter.unit_code, Matter.period, Matter.spec))
    }
    snap = Snapshot(year, as_of, units, matters, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})

    # Current draws: the latest id per (matter, period) among draws made by as_of, for the year
    # and the year before (the previous period matters for 回避; late results for publicity).
    latest = (
        select(Draw.matter_code, Draw.period, func.max(Draw.id).label("id"))
        .where(Draw.drawn_at < cutoff)
        .group_by(Draw.matter_code, Draw.period)
        .subquery()
    )
    rows = conn.execute(
        select(Draw.id, Draw.matter_code, Draw.period, Draw.drawn_at, Draw.frame_id).join(
            latest, latest.c.id == Draw.id
        )
    ).all()
    for r in rows:
        p = _period_or_none(r.period)
        if p is None or p.year not in (year - 1, year):
            continue
        snap.draws[(r.matter_code, r.period)] = _Draw(r.id, r.matter_code, p, r.drawn_at, r.frame_id)
    draw_ids = [d.id for d in snap.draws.values()]
    frame_ids = sorted({d.frame_id for d in snap.draws.values() if d.period.year == year})
    annual_frames = sorted(
        {
            d.frame_id
            for d in snap.draws.values()
            if d.period.year == year and d.matter in matters and matters[d.matter].annual
        }
    )
    for part in chunks(frame_ids):
        for fs in conn.execute(select(Frame.id, Frame.strata).where(Frame.id.in_(part))):
            snap.strata[fs.id] = list(fs.strata or [])
    for part in chunks(annual_frames):
        for fb in conn.execute(select(Frame.id, Frame.frame_blob).where(Frame.id.in_(part))):
            text = zlib.decompress(fb.frame_blob).decode("utf-8")
            snap.frame_ids[fb.id] = [line.split("\t", 1)[0] for line in text.splitlines() if line]
    members = sorted({i for ids in snap.frame_ids.values() for i in ids})
    for idents in chunks(members):
        snap.entity_names.update(
            conn.execute(select(Entity.identifier, Entity.name).where(Entity.identifier.in_(idents))).all()
        )

    draw_info = {d.id: d for d in snap.draws.values()}
    for part in chunks(draw_ids):
        task_stmt = (
            select(Task.id, Task.task_no, Task.draw_id, Task.entity_id, Task.identifier, Task.stratum, Entity.township)
            .join(Entity, Entity.id == Task.entity_id)
            .where(Task.draw_id.in_(part))
        )
        for t in conn.execute(task_stmt):
            d = draw_info[t.draw_id]
            snap.tasks.setdefault(t.draw_id, []).append(
                DrawnTask(t.id, t.task_no, d.period, t.entity_id, t.identifier, t.township, t.stratum)
            )
    task_ids = sorted(t.id for ts in snap.tasks.values() for t in ts)
    for part in chunks(task_ids):
        finding_stmt = select(
            Finding.task_id,
            Finding.inspection_start,
            Finding.inspection_end,
            Finding.results,
            Finding.follow_ups,
            Finding.rectification_deadline,
            Finding.recheck_date,
            Finding.item_results,
        ).where(Finding.task_id.in_(part))
        for f in conn.execute(finding_stmt):
            items = f.item_results or []
            snap.findings[f.task_id] = TaskFinding(
                f.inspection_start,
                f.inspection_end,
                tuple(f.results or ()),
                tuple(f.follow_ups or ()),
                f.rectification_deadline,
                f.recheck_date,
                len(items),
                sum(1 for i in items if i.get("result") == "不符合"),
            )

    wanted = set(task_ids)
    notice_stmt = select(Notice.task_ids, Notice.pending_task_ids, Notice.issued_on).where(
        Notice.kind == "results", Notice.issued_on <= as_of
    )
    for ids, pending, issued in conn.execute(notice_stmt):
        skip = {int(i) for i in (pending or [])}
        for tid in ids or []:
            tid = int(tid)
            if tid in wanted and tid not in skip and (tid not in snap.published or issued < snap.published[tid]):
                snap.published[tid] = issued

    by_task: dict[int, list[tuple[_Member, dt.datetime]]] = defaultdict(list)
    for part in chunks(task_ids):
        team_stmt = (
            select(
                TeamMember.id,
                TeamMember.task_id,
                TeamMember.assignment_id,
                TeamMember.inspector_id,
                TeamMember.role,
                TeamMember.replaces_id,
                Assignment.created_at,
            )
            .join(Assignment, Assignment.id == TeamMember.assignment_id)
            .where(TeamMember.task_id.in_(part), TeamMember.added_at < cutoff, Assignment.created_at < cutoff)
            .order_by(TeamMember.id)
        )
        for m in conn.execute(team_stmt):
            by_task[m.task_id].append(
                (_Member(m.id, m.assignment_id, m.inspector_id, m.role, m.replaces_id), m.created_at)
            )
    for tid, rows_ in by_task.items():
        team = _effective_team(rows_)
        if team is not None:
            snap.teams[tid] = team
    inspector_ids = sorted({m.inspector_id for t in snap.teams.values() for m in t.members})
    quals: dict[int, set[str]] = defaultdict(set)
    for part in chunks(inspector_ids):
        for iid, q in conn.execute(
            select(InspectorQualification.inspector_id, InspectorQualification.qualification).where(
                InspectorQualification.inspector_id.in_(part)
            )
        ):
            quals[iid].add(q)
        for i in conn.execute(select(Inspector.__table__).where(Inspector.id.in_(part))):
            snap.inspectors[i.id] = _Inspector(
                i.id,
                i.cert_no,
                i.name,
                i.department,
                i.home_township,
                i.kind,
                i.cert_valid_from,
                i.cert_valid_to,
                frozenset(),
            )
    for iid, ins in list(snap.inspectors.items()):
        snap.inspectors[iid] = _Inspector(**{**ins.__dict__, "qualifications": frozenset(quals.get(iid, ()))})
    for part in chunks(inspector_ids):
        for iid, eid, reason in conn.execute(
            select(Conflict.inspector_id, Conflict.entity_id, Conflict.reason).where(
                Conflict.inspector_id.in_(part), Conflict.updated_at < cutoff
            )
        ):
            snap.conflicts[(iid, eid)] = reason
    return snap


def _effective_team(rows: list[tuple[_Member, dt.datetime]]) -> TaskTeam | None:
    """The task's team: rows of its latest assignment (by id) with substitutes applied."""
    base = [(m, at) for m, at in rows if m.role != "substitute"]
    if not base:
        return None
    aid, assigned_at = max(((m.assignment_id, at) for m, at in base), key=lambda x: x[0])
    members = {m.id: m for m, _ in rows if m.assignment_id == aid}
    grown = True
    while grown:  # a substitute recorded under another assignment still replaces a member of this one
        grown = False
        for m, _ in rows:
            if m.id not in members and m.replaces_id in members:
                members[m.id] = m
                grown = True
    replaced = {m.replaces_id for m in members.values() if m.replaces_id is not None}
    kept = tuple(sorted((m for m in members.values() if m.id not in replaced), key=lambda m: m.id))
    return TaskTeam(assigned_at.date(), kept)
