"""Stored assignments read back: `AssignmentInfo` with its teams (`Team`, `Member`), and what may
be published of it (`AssignmentInfo.public()`, `CONFIDENTIAL_NOTE`).

A team is the assignment's own rows with its substitutes applied; a later assignment of the same
task does not change an earlier record. A substitute row's reason may end with the draw record
(`DRAW_MARK`, read by `split_reason`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select

from inspect_kit.assign.core.record import split_reason
from inspect_kit.assign.store.rows import MemberRow, chunks, effective_team, member_rows
from inspect_kit.draw.store.tasks import current_draw_ids
from inspect_kit.errors import InspectError
from inspect_kit.storage.helpers import filter_periods
from inspect_kit.storage.models import Assignment as AssignmentRow
from inspect_kit.storage.models import Entity, Inspector, Task

CONFIDENTIAL_NOTE = (
    "检查组名单在告知检查对象前保密 — the teams are confidential until the entities are notified; "
    "only the inputs' SHA-256 and the seed may be published (`inspect assign show --public`)."
)


@dataclass(frozen=True)
class Member:
    member_id: int
    cert_no: str  # 执法证号
    name: str
    department: str
    kind: str  # the registry's kind: officer | expert
    role: str  # officer | expert | substitute
    probability: float | None
    replaces: str | None  # cert_no of the member this one replaced
    reason: str | None
    added_at: dt.datetime

    @property
    def is_expert(self) -> bool:
        return self.kind != "officer" or self.role == "expert"


@dataclass(frozen=True)
class Team:
    task_id: int
    task_no: str
    identifier: str
    entity_name: str
    township: str | None
    officers: tuple[Member, ...]  # current enforcement officers, substitutes applied
    experts: tuple[Member, ...]
    replaced: tuple[Member, ...] = ()  # members who were replaced by a substitute

    def row(self) -> dict[str, Any]:
        """The export form: entity identifier, certificate numbers and names."""
        return {
            "task_no": self.task_no,
            "identifier": self.identifier,
            "entity_name": self.entity_name,
            "township": self.township,
            "officers": [
                {"cert_no": m.cert_no, "name": m.name, "department": m.department, "role": m.role}
                for m in self.officers
            ],
            "experts": [{"cert_no": m.cert_no, "name": m.name, "role": m.role} for m in self.experts],
        }


@dataclass(frozen=True)
class AssignmentInfo:
    id: int
    matter: str
    period: str
    draw_id: int
    seed: str
    seed_source: str | None
    algorithm: str
    algorithm_version: str
    created_at: dt.datetime
    pair_cap: float
    inputs_sha256: str
    fractional_sha256: str
    reassignment_of: int | None
    reason: str | None
    teams: list[Team] = field(default_factory=list)

    @property
    def loads(self) -> dict[str, int]:
        """cert_no → tasks on this assignment (current officers)."""
        return dict(sorted(Counter(m.cert_no for t in self.teams for m in t.officers).items()))

    def public(self) -> dict[str, Any]:
        """What may be published before the entities are notified."""
        return {
            "assignment": self.id,
            "matter": self.matter,
            "period": self.period,
            "inputs_sha256": self.inputs_sha256,
            "seed": self.seed,
            "seed_source": self.seed_source,
        }

    def rows(self) -> list[dict[str, Any]]:
        return [{"assignment": self.id, "matter": self.matter, "period": self.period, **t.row()} for t in self.teams]


def assignment_row(conn: Connection, assignment_id: int) -> Row[Any]:
    row = conn.execute(select(AssignmentRow.__table__).where(AssignmentRow.id == assignment_id)).first()
    if row is None:
        raise InspectError(f"no assignment #{assignment_id}")
    return row


def _teams_of(conn: Connection, a: Row[Any]) -> list[Team]:
    tasks = conn.execute(
        select(Task.id, Task.task_no, Task.identifier, Entity.name, Entity.township)
        .join(Entity, Entity.id == Task.entity_id)
        .where(Task.draw_id == a.draw_id)
        .order_by(Task.task_no)
    ).all()
    rows = member_rows(conn, [t.id for t in tasks])
    inspector_ids = sorted({r.inspector_id for rs in rows.values() for r in rs})
    people = {}
    for part in chunks(inspector_ids):
        for r in conn.execute(
            select(Inspector.id, Inspector.cert_no, Inspector.name, Inspector.department, Inspector.kind).where(
                Inspector.id.in_(part)
            )
        ):
            people[r.id] = r
    teams = []
    for t in tasks:
        mine = [r for r in rows.get(t.id, []) if r.assignment_id == a.id]
        if not any(r.role != "substitute" for r in mine):
            continue
        # this assignment's rows, with its substitutes applied (a later assignment does not change it)
        _, current, replaced = effective_team(mine)
        cert_of = {r.id: people[r.inspector_id].cert_no for r in mine}

        def member(r: MemberRow, cert_of: dict[int, str] = cert_of) -> Member:
            p = people[r.inspector_id]
            return Member(
                r.id,
                p.cert_no,
                p.name,
                p.department,
                p.kind,
                r.role,
                r.probability,
                cert_of.get(r.replaces_id) if r.replaces_id else None,
                split_reason(r.reason)[0],
                r.added_at,
            )

        ms = [member(r) for r in current]
        teams.append(
            Team(
                t.id,
                t.task_no,
                t.identifier,
                t.name,
                t.township,
                officers=tuple(m for m in ms if not m.is_expert),
                experts=tuple(m for m in ms if m.is_expert),
                replaced=tuple(member(r) for r in replaced),
            )
        )
    return teams


def _info(a: Row[Any], teams: list[Team]) -> AssignmentInfo:
    return AssignmentInfo(
        a.id,
        a.matter_code,
        a.period,
        a.draw_id,
        a.seed,
        a.seed_source,
        a.algorithm,
        a.algorithm_version,
        a.created_at,
        a.pair_cap,
        a.inputs_sha256,
        a.fractional_sha256,
        a.reassignment_of,
        a.reason,
        teams,
    )


def get_assignment(engine: Engine, assignment_id: int, with_teams: bool = True) -> AssignmentInfo:
    with engine.connect() as conn:
        a = assignment_row(conn, assignment_id)
        return _info(a, _teams_of(conn, a) if with_teams else [])


def _current_ids(conn: Connection, period: str | None, matter: str | None) -> list[int]:
    draws = current_draw_ids(conn, period, matter)
    if not draws:
        return []
    stmt = (
        select(func.max(AssignmentRow.id))
        .where(AssignmentRow.draw_id.in_(list(draws.values())))
        .group_by(AssignmentRow.draw_id)
    )
    return sorted(conn.execute(stmt).scalars())


def current_assignments(engine: Engine, period: str | None = None, matter: str | None = None) -> list[AssignmentInfo]:
    """The latest assignment of each current draw (of the period / matter if given), with teams."""
    with engine.connect() as conn:
        ids = _current_ids(conn, period, matter)
    return [get_assignment(engine, i) for i in ids]


def list_assignments(
    engine: Engine, period: str | None = None, matter: str | None = None, year: int | None = None
) -> list[AssignmentInfo]:
    """Every assignment on record, re-assignments included (without teams); ``year`` takes all of
    its periods (the year's own, its quarters and its months), as `draw list --year` does."""
    stmt = select(AssignmentRow.__table__).order_by(AssignmentRow.period, AssignmentRow.matter_code, AssignmentRow.id)
    stmt = filter_periods(
        stmt, AssignmentRow.period, AssignmentRow.matter_code, period=period, matter=matter, year=year
    )
    with engine.connect() as conn:
        return [_info(a, []) for a in conn.execute(stmt)]
