"""Tasks as the field sees them (执法检查人员): the tasks of the teams an officer is on, each with its
entity, matter, team, deadline (the end of its period: inspections are done within it) and the
review state of its result (inspect_kit.findings.review).

An officer is on a task's team when their 执法证号 (``inspectors.cert_no``) is among the members of
the task's CURRENT team (latest assignment, substitutes in place of those they replace): an
officer replaced by a substitute no longer sees the task. Only tasks of current draws are listed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from inspect_kit.draw.service import current_draw_ids
from inspect_kit.findings import records
from inspect_kit.findings.review import ReviewState, states_of
from inspect_kit.periods import parse_period
from inspect_kit.storage.models import Draw, Entity, Inspector, Matter, Task, TeamMember
from inspect_kit.text import clean_code


@dataclass(frozen=True)
class FieldTask:
    task_id: int
    task_no: str
    matter_code: str
    matter_name: str
    unit_code: str | None
    period: str
    deadline: dt.date
    entity_name: str
    identifier: str
    team: tuple[records.CurrentMember, ...]
    review: ReviewState

    def on_team(self, cert_no: str | None) -> bool:
        return bool(cert_no) and any(m.cert_no == cert_no for m in self.team)


def _field_tasks(conn: Connection, where: object) -> list[FieldTask]:
    current = sorted(current_draw_ids(conn).values())
    stmt = (
        select(
            Task.id,
            Task.task_no,
            Draw.matter_code,
            Matter.name,
            Matter.unit_code,
            Draw.period,
            Entity.name,
            Task.identifier,
        )
        .join(Draw, Draw.id == Task.draw_id)
        .join(Entity, Entity.id == Task.entity_id)
        .outerjoin(Matter, Matter.code == Draw.matter_code)
        .where(Task.draw_id.in_(current), where)  # type: ignore[arg-type]
        .order_by(Task.task_no)
    )
    rows = conn.execute(stmt).all()
    ids = [r[0] for r in rows]
    teams = records.current_members(conn, ids)
    states = states_of(conn, ids)
    return [
        FieldTask(
            tid,
            no,
            m,
            mname or m,
            unit,
            period,
            parse_period(period).end,
            ename,
            ident,
            tuple(teams.get(tid, ())),
            states[tid],
        )
        for tid, no, m, mname, unit, period, ename, ident in rows
    ]


def officer_tasks(engine: Engine, cert_no: str, today: dt.date | None = None) -> list[FieldTask]:
    """The tasks of the teams the officer is on (current draws), of the period holding ``today``
    (every period when None)."""
    with engine.connect() as conn:
        candidates = (
            select(TeamMember.task_id)
            .join(Inspector, Inspector.id == TeamMember.inspector_id)
            .where(Inspector.cert_no == cert_no)
        )
        tasks = [t for t in _field_tasks(conn, Task.id.in_(candidates)) if t.on_team(cert_no)]
    if today is not None:
        tasks = [t for t in tasks if parse_period(t.period).start <= today <= t.deadline]
    return tasks


def field_task(engine: Engine, task_no: str) -> FieldTask | None:
    """One task of a current draw, or None."""
    with engine.connect() as conn:
        found = _field_tasks(conn, Task.task_no == clean_code(task_no))
    return found[0] if found else None
