"""Substitutes: a member who drops out of a task's team is replaced by a new `team_members` row
(role 'substitute') naming the row it replaces.

Officers are drawn by the core's `draw_substitute` with the seed
"{assignment seed}:substitute:{task_no}:{cert_no}" (`default_substitute_seed`) unless another is
given, among the officers still available today; experts uniformly among the task's other
eligible experts. When the seed is not the default or someone was excluded, the stored reason
ends with the draw record (`records.DRAW_MARK`).
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from sqlalchemy import Connection, Engine, Row, insert, select

from inspect_kit.assign.core.eligibility import History, InspectorRow, Rules, TaskRow, build_eligibility
from inspect_kit.assign.core.experts import draw_expert_substitute
from inspect_kit.assign.core.record import DRAW_MARK, core_assignment, default_substitute_seed
from inspect_kit.assign.store.records import assignment_row
from inspect_kit.assign.store.rows import declared_conflicts, effective_team, inspector_rows, member_rows
from inspect_kit.config import Config
from inspect_kit.draw.store.tasks import current_draw_ids
from inspect_kit.errors import InspectError
from inspect_kit.storage.models import Task, TeamMember
from inspect_kit.transparency.store import append_pending

if TYPE_CHECKING:
    from inspect_kit.assign.core.fractional import Fractional


@dataclass(frozen=True)
class SubstitutionInfo:
    assignment_id: int
    task_no: str
    leaving: str  # cert_no
    leaving_name: str
    substitute: str
    substitute_name: str
    probability: float
    candidates: dict[str, float]  # cert_no → chance of being drawn
    seed: str
    excluded: list[str]  # cert_nos unavailable since the assignment
    team: list[str]  # cert_nos after the substitution


def _eligible_now(
    conn: Connection, a: Row[Any], task: TaskRow, people: Iterable[InspectorRow], on: dt.date | None
) -> tuple[set[str], set[str]]:
    """The stored rules re-applied to today's registry for one task: who is eligible now (officers, experts)."""
    stored = a.inputs.get("rules", {})
    window = (on, on) if on else tuple(dt.date.fromisoformat(d) for d in stored["window"])
    demand: dict[str, int] = next((t["demand"] for t in a.inputs["tasks"] if t["id"] == task.task_no), {})
    rules = Rules(
        qualifications=frozenset(stored["qualifications"]),
        demand=demand,
        window=window,  # type: ignore[arg-type]
        same_township=bool(stored.get("same_township")),
    )
    history = History(conflicts=frozenset(declared_conflicts(conn, [task.entity_id])))
    el = build_eligibility(people, [task], rules, history)
    return set(el.eligible[task.task_no]), set(el.experts[task.task_no])


def substitute(
    engine: Engine,
    config: Config,
    task_no: str,
    cert_no: str,
    *,
    reason: str,
    now: dt.datetime,
    seed: str | None = None,
    on: dt.date | None = None,
    by: str | None = None,
) -> SubstitutionInfo:
    """Replace an officer (or expert) who drops out of a task's team; records a new team member row
    (``by``: the web user who recorded it).

    Officers: the core's draw_substitute among the department's officers eligible for the task in
    the stored inputs, not on the team, below their cap, not forbidden to pair with the team, not
    replaced on this task before, and still available today (on duty, certificate valid on the
    inspection dates or `on`, qualified, no declared conflict, township rule). Experts: uniform
    among the task's other eligible experts.
    """
    from inspect_kit.assign import Fractional, draw_substitute
    from inspect_kit.draw.store.tasks import task_by_no

    if not (reason and reason.strip()):
        raise InspectError("a substitute needs --reason: it is kept with the record")
    with engine.begin() as conn:
        info = task_by_no(conn, task_no) or task_by_no(conn, task_no.strip().upper())
        if info is None:
            raise InspectError(f"no task {task_no!r}")
        if current_draw_ids(conn, info.period, info.matter_code).get((info.matter_code, info.period)) != info.draw_id:
            raise InspectError(f"task {info.task_no} belongs to a superseded draw; it is not worked on")
        task = TaskRow(info.task_id, info.task_no, info.entity_id, info.identifier, info.entity_name, info.township)
        aid, current, replaced = effective_team(member_rows(conn, [task.id]).get(task.id, []))
        if aid is None:
            raise InspectError(f"task {task.task_no} has no team yet: run `inspect assign` first")
        a = assignment_row(conn, aid)
        people = {r.id: r for r in inspector_rows(conn)}
        by_cert = {r.cert_no: r for r in people.values()}
        leaving = by_cert.get(cert_no.strip())
        leaving_row = next((r for r in current if leaving is not None and r.inspector_id == leaving.id), None)
        if leaving is None or leaving_row is None:
            team = "、".join(f"{people[r.inspector_id].cert_no} {people[r.inspector_id].name}" for r in current)
            raise InspectError(f"{cert_no} is not on the team of task {task.task_no} (team: {team})")
        default = default_substitute_seed(a.seed, task.task_no, leaving.cert_no)
        seed = seed.strip() if seed else default
        if not seed or any(c in seed for c in "\t\r\n"):
            raise InspectError("the seed must be non-empty, without tabs or line breaks")
        if now < a.created_at:
            raise InspectError(f"the substitution time {now} is before the assignment ({a.created_at})")

        officers_now, experts_now = _eligible_now(conn, a, task, people.values(), on)
        team_certs = {people[r.inspector_id].cert_no for r in current}
        left = {people[r.inspector_id].cert_no for r in replaced}  # who dropped out of this task does not come back
        officers_now -= left
        experts_now -= left
        if leaving.kind != "officer" or leaving_row.role == "expert":
            stored = set(a.inputs.get("experts", {}).get("eligible", {}).get(task.task_no, ()))
            unavailable = sorted(stored - experts_now - team_certs)
            pool = stored - team_certs - set(unavailable)
            chosen, p = draw_expert_substitute(pool, seed, task.task_no, leaving.cert_no)
            prob, candidates = float(p), {c: 1 / len(pool) for c in sorted(pool)}
        else:
            fractional = Fractional.from_canonical(zlib.decompress(a.fractional_blob))
            slot = set(_slot_officers(fractional, task.task_no, leaving.cert_no))
            unavailable = sorted(slot - officers_now - team_certs)
            state = core_assignment(fractional, _officer_teams(conn, a, people))
            sub = draw_substitute(fractional, state, task.task_no, leaving.cert_no, seed, unavailable)
            chosen, prob = sub.substitute, float(sub.probabilities[sub.substitute])
            candidates = {c: float(v) for c, v in sub.probabilities.items()}
        meta: dict[str, Any] = {}
        if seed != default:
            meta["seed"] = seed
        if unavailable:
            meta["unavailable"] = unavailable
        stored_reason = reason.strip() + (
            DRAW_MARK + json.dumps(meta, ensure_ascii=False, sort_keys=True) if meta else ""
        )
        conn.execute(
            insert(TeamMember.__table__).values(
                assignment_id=a.id,
                task_id=task.id,
                inspector_id=by_cert[chosen].id,
                role="substitute",
                probability=prob,
                replaces_id=leaving_row.id,
                reason=stored_reason,
                added_at=now,
                by=by,
            )
        )
        append_pending(conn, now)
    return SubstitutionInfo(
        a.id,
        task.task_no,
        leaving.cert_no,
        leaving.name,
        chosen,
        by_cert[chosen].name,
        prob,
        candidates,
        seed,
        unavailable,
        sorted(team_certs - {leaving.cert_no} | {chosen}),
    )


def _slot_officers(fractional: Fractional, task_no: str, leaving: str) -> list[str]:
    g = fractional.graph
    dept = g.officer_departments[g.officer_index[leaving]]
    out = []
    for s in g.task_slots.get(task_no, ()):
        if g.slot_departments[s] == dept:
            lo, hi = int(g.slot_start[s]), int(g.slot_start[s + 1])
            out += [g.officer_ids[o] for o in g.edge_officer[lo:hi].tolist()]
    return out


def _officer_teams(conn: Connection, a: Row[Any], people: Mapping[int, InspectorRow]) -> dict[str, list[str]]:
    """task_no → current officer cert_nos of every task of the assignment (its substitutes applied)."""
    tasks = dict(conn.execute(select(Task.id, Task.task_no).where(Task.draw_id == a.draw_id)).all())
    rows = member_rows(conn, list(tasks))
    out = {}
    for tid, rs in rows.items():
        mine = [r for r in rs if r.assignment_id == a.id]
        if not any(r.role != "substitute" for r in mine):
            continue
        _, current, _ = effective_team(mine)
        out[tasks[tid]] = [
            people[r.inspector_id].cert_no
            for r in current
            if people[r.inspector_id].kind == "officer" and r.role != "expert"
        ]
    return out
