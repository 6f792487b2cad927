"""What an account may see of the draws and tasks (row-level scoping), in the queries.

- admin and assessor: every unit's draws and tasks;
- coordinator and reviewer: the draws and tasks of matters of their own unit;
- inspector: the tasks of the teams they are on now (their 执法证号 in the task's current team —
  its latest assignment, substitutes applied), and the draws those tasks belong to.

Teams (who inspects whom) are shown only inside the unit: to the coordinator and reviewer of the
matter's unit and to the officers on the team; admin and assessor see the task without its team.

Library first: an Engine, an Account and plain values in, the draw stage's TaskInfo / DrawInfo
out. Something outside the account's scope is answered as if it did not exist (None), so that a
caller can say 404 without revealing it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from inspect_kit.accounts.service import Account
from inspect_kit.assign.service import effective_team, member_rows
from inspect_kit.draw.service import DrawInfo, TaskInfo, current_tasks, list_draws, task_by_no
from inspect_kit.storage.models import Inspector, Matter
from inspect_kit.text import clean_code

ALL_UNITS = frozenset({"admin", "assessor"})
ONE_UNIT = frozenset({"coordinator", "reviewer"})


@dataclass(frozen=True)
class VisibleMember:
    cert_no: str
    name: str
    role: str  # officer | expert | substitute


def _matter_units(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(select(Matter.code, Matter.unit_code)).all())


def _teams(conn: Connection, task_ids: list[int]) -> dict[int, list[VisibleMember]]:
    """Task id → its current team (latest assignment, substitutes applied)."""
    rows = member_rows(conn, task_ids)
    people = {
        r.id: (r.cert_no, r.name)
        for r in conn.execute(
            select(Inspector.id, Inspector.cert_no, Inspector.name).where(
                Inspector.id.in_(sorted({m.inspector_id for ms in rows.values() for m in ms}))
            )
        )
    }
    out: dict[int, list[VisibleMember]] = {}
    for task_id, members in rows.items():
        _, current, _ = effective_team(members)
        out[task_id] = [VisibleMember(*people[m.inspector_id], m.role) for m in current]
    return out


def _keep(conn: Connection, account: Account, tasks: list[TaskInfo]) -> list[TaskInfo]:
    if account.role in ALL_UNITS:
        return tasks
    if account.role in ONE_UNIT:
        units = _matter_units(conn)
        return [t for t in tasks if account.unit_code and units.get(t.matter_code) == account.unit_code]
    if account.role == "inspector" and account.cert_no:
        teams = _teams(conn, [t.task_id for t in tasks])
        return [t for t in tasks if any(m.cert_no == account.cert_no for m in teams.get(t.task_id, []))]
    return []


def visible_tasks(engine: Engine, account: Account, period: str | None = None) -> list[TaskInfo]:
    """The current tasks (of `period`, if given) the account may see."""
    with engine.connect() as conn:
        return _keep(conn, account, current_tasks(conn, period))


def visible_task(engine: Engine, account: Account, task_no: str) -> TaskInfo | None:
    """One task by number, or None when it does not exist or is outside the account's scope."""
    with engine.connect() as conn:
        task = task_by_no(conn, clean_code(task_no))
        if task is None:
            return None
        kept = _keep(conn, account, [task])
    return kept[0] if kept else None


def sees_teams(account: Account) -> bool:
    """Whether the account may see the teams of the tasks in its scope (inside the unit only)."""
    return account.role in ONE_UNIT or account.role == "inspector"


def task_team(engine: Engine, account: Account, task: TaskInfo) -> list[VisibleMember] | None:
    """The task's current team, or None when the account may not see teams (admin, assessor).
    `task` must come from visible_task / visible_tasks for this account."""
    if not sees_teams(account):
        return None
    with engine.connect() as conn:
        return _teams(conn, [task.task_id]).get(task.task_id, [])


def visible_draws(
    engine: Engine, account: Account, *, year: int | None = None, period: str | None = None, matter: str | None = None
) -> list[DrawInfo]:
    """Every draw on record (as `list_draws`) that the account may see: all for admin and assessor,
    the own unit's for coordinator and reviewer, and for an inspector the draws of their tasks."""
    draws = list_draws(engine, period=period, matter=matter, year=year)
    if account.role in ALL_UNITS:
        return draws
    if account.role in ONE_UNIT:
        with engine.connect() as conn:
            units = _matter_units(conn)
        return [d for d in draws if account.unit_code and units.get(d.matter) == account.unit_code]
    mine = {t.draw_id for t in visible_tasks(engine, account, period)}
    return [d for d in draws if d.id in mine]
