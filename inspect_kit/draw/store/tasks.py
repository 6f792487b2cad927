"""The current tasks of a period: what assignment, findings and notices work on.

Draws are append-only; the current draw of (matter, period) is the latest one, and its tasks are
the current tasks. Tasks of superseded draws stay in the database, visible, but are not worked on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Unpack

from sqlalchemy import Connection, Select, func, select

from inspect_kit.storage.models import Draw, Entity, Task


@dataclass(frozen=True)
class TaskInfo:
    task_id: int
    task_no: str
    draw_id: int
    matter_code: str
    period: str
    entity_id: int
    identifier: str
    entity_name: str
    category: str
    township: str | None
    credit_class: str | None
    stratum: str
    ticket: str
    rank: int


def current_draw_ids(
    conn: Connection, period: str | None = None, matter: str | None = None
) -> dict[tuple[str, str], int]:
    """(matter_code, period) → id of its latest draw."""
    stmt = select(Draw.matter_code, Draw.period, func.max(Draw.id)).group_by(Draw.matter_code, Draw.period)
    if period is not None:
        stmt = stmt.where(Draw.period == period)
    if matter is not None:
        stmt = stmt.where(Draw.matter_code == matter)
    return {(m, p): i for m, p, i in conn.execute(stmt)}


def current_tasks(conn: Connection, period: str | None = None, matter: str | None = None) -> list[TaskInfo]:
    """Tasks of the current draws, ordered by matter, stratum and rank."""
    ids = list(current_draw_ids(conn, period, matter).values())
    if not ids:
        return []
    stmt = _task_select().where(Task.draw_id.in_(ids)).order_by(Draw.matter_code, Task.stratum, Task.rank)
    return [TaskInfo(*r) for r in conn.execute(stmt)]


def task_by_no(conn: Connection, task_no: str) -> TaskInfo | None:
    row = conn.execute(_task_select().where(Task.task_no == task_no)).first()
    return TaskInfo(*row) if row else None


def _task_select() -> Select[Unpack[tuple[Any, ...]]]:
    """The TaskInfo columns, in field order, of tasks joined to their draw and entity."""
    return (
        select(
            Task.id,
            Task.task_no,
            Task.draw_id,
            Draw.matter_code,
            Draw.period,
            Task.entity_id,
            Task.identifier,
            Entity.name,
            Entity.category,
            Entity.township,
            Entity.credit_class,
            Task.stratum,
            Task.ticket,
            Task.rank,
        )
        .join(Draw, Draw.id == Task.draw_id)
        .join(Entity, Entity.id == Task.entity_id)
    )
