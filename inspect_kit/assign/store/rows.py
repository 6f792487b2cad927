"""The database read into plain rows for the pure core (`inspect_kit.assign.core.eligibility`).

The inspector registry, a draw's tasks, declared conflicts, the team members of tasks (with a
task's current team: its latest assignment, substitutes applied) and the history the conflict
rules need: earlier teams of the entities, last period's pairs, this period's loads elsewhere.
Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from sqlalchemy import Connection, select

from inspect_kit.assign.core.eligibility import History, InspectorRow, Rules, TaskRow
from inspect_kit.config.models import Matter
from inspect_kit.draw.store.tasks import current_draw_ids, current_tasks
from inspect_kit.errors import InspectError
from inspect_kit.periods import Period
from inspect_kit.storage.helpers import chunks  # noqa: E402  (re-exported for the assign modules)
from inspect_kit.storage.models import Conflict, Inspector, InspectorQualification, TeamMember


def inspector_rows(conn: Connection) -> list[InspectorRow]:
    quals: dict[int, set[str]] = defaultdict(set)
    for iid, q in conn.execute(select(InspectorQualification.inspector_id, InspectorQualification.qualification)):
        quals[iid].add(q)
    i = Inspector
    stmt = select(
        i.id,
        i.cert_no,
        i.name,
        i.department,
        i.kind,
        i.status,
        i.home_township,
        i.cert_valid_from,
        i.cert_valid_to,
        i.max_tasks_per_period,
    )
    return [
        InspectorRow(
            r.id,
            r.cert_no,
            r.name,
            r.department,
            r.kind,
            r.status,
            r.home_township,
            r.cert_valid_from,
            r.cert_valid_to,
            frozenset(quals.get(r.id, ())),
            r.max_tasks_per_period,
        )
        for r in conn.execute(stmt)
    ]


@dataclass(frozen=True)
class MemberRow:
    id: int
    task_id: int
    assignment_id: int
    inspector_id: int
    role: str
    probability: float | None
    replaces_id: int | None
    reason: str | None
    added_at: dt.datetime


def member_rows(conn: Connection, task_ids: Sequence[int]) -> dict[int, list[MemberRow]]:
    out: dict[int, list[MemberRow]] = defaultdict(list)
    tm = TeamMember
    for part in chunks(list(task_ids)):
        for r in conn.execute(
            select(
                tm.id,
                tm.task_id,
                tm.assignment_id,
                tm.inspector_id,
                tm.role,
                tm.probability,
                tm.replaces_id,
                tm.reason,
                tm.added_at,
            )
            .where(tm.task_id.in_(part))
            .order_by(tm.id)
        ):
            out[r.task_id].append(MemberRow(*r))
    return out


def effective_team(rows: list[MemberRow]) -> tuple[int | None, list[MemberRow], list[MemberRow]]:
    """(assignment id, current members, replaced members) of one task: the rows of its latest
    assignment with substitutes applied (the same reading as findings and scoring)."""
    base = [r for r in rows if r.role != "substitute"]
    if not base:
        return None, [], []
    aid = max(r.assignment_id for r in base)
    members = {r.id: r for r in rows if r.assignment_id == aid}
    grown = True
    while grown:
        grown = False
        for r in rows:
            if r.id not in members and r.replaces_id in members:
                members[r.id] = r
                grown = True
    replaced = {r.replaces_id for r in members.values() if r.replaces_id is not None}
    ordered = sorted(members.values(), key=lambda r: r.id)
    return aid, [r for r in ordered if r.id not in replaced], [r for r in ordered if r.id in replaced]


def _current_teams(
    conn: Connection, period_label: str, exclude_matters: Iterable[str] = ()
) -> dict[int, tuple[int, list[int]]]:
    """Task id → (entity id, inspector ids of its current team) for the current tasks of a period."""
    skip = set(exclude_matters)
    tasks = [t for t in current_tasks(conn, period_label) if t.matter_code not in skip]
    rows = member_rows(conn, [t.task_id for t in tasks])
    out = {}
    for t in tasks:
        _, current, _ = effective_team(rows.get(t.task_id, []))
        if current:
            out[t.task_id] = (t.entity_id, [r.inspector_id for r in current])
    return out


def read_history(
    conn: Connection,
    period: Period,
    run: Iterable[str],
    rules: Rules,
    tasks: list[TaskRow],
    kinds: Mapping[int, str],
    extra_loads: Mapping[int, int],
) -> History:
    """Declared conflicts, earlier teams and this period's loads elsewhere. `run`: the matters being
    assigned now (their loads come from `extra_loads`, not from their earlier records)."""
    entity_ids = sorted({t.entity_id for t in tasks})
    conflicts = declared_conflicts(conn, entity_ids)
    previous: dict[int, set[int]] = defaultdict(set)
    wanted = set(entity_ids)
    for k in range(1, rules.previous_periods + 1):
        for entity_id, members in _current_teams(conn, period.previous(k).label).values():
            if entity_id in wanted:
                previous[entity_id].update(members)
    last_teams = []
    if rules.repeat_pair:
        for _, members in _current_teams(conn, period.previous(1).label).values():
            officers = frozenset(i for i in members if kinds.get(i) == "officer")
            if len(officers) > 1:
                last_teams.append(officers)
    loads: Counter[int] = Counter(extra_loads)
    for _, members in _current_teams(conn, period.label, exclude_matters=run).values():
        loads.update(i for i in members if kinds.get(i) == "officer")
    return History(
        conflicts=frozenset(conflicts),
        previous_teams={e: frozenset(s) for e, s in previous.items()},
        last_period_teams=tuple(last_teams),
        other_loads=dict(loads),
    )


def declared_conflicts(conn: Connection, entity_ids: Sequence[int]) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for part in chunks(sorted(set(entity_ids))):
        out.update(
            conn.execute(select(Conflict.inspector_id, Conflict.entity_id).where(Conflict.entity_id.in_(part))).all()
        )
    return out


def task_rows(conn: Connection, period: Period, matter: Matter) -> tuple[int, list[TaskRow]]:
    ids = current_draw_ids(conn, period.label, matter.code)
    if not ids:
        raise InspectError(
            f"{matter.code} {period}: nothing drawn yet; run `inspect draw --period {period} "
            f"--matter {matter.code} ...` first"
        )
    draw_id = ids[(matter.code, period.label)]
    tasks = [
        TaskRow(t.task_id, t.task_no, t.entity_id, t.identifier, t.entity_name, t.township)
        for t in current_tasks(conn, period.label, matter.code)
    ]
    if not tasks:
        raise InspectError(f"{matter.code} {period}: draw #{draw_id} selected no entity; there is nothing to assign")
    return draw_id, tasks
