"""The review of a task's result (结果审核): submitted by the field, approved or returned by a reviewer.

State of a task's result, derived from its finding and the append-only ``finding_reviews`` rows (no
state is stored; each step names the finding revision it is about):

  none       未录入  no finding recorded
  draft      草稿    recorded, not submitted for its CURRENT revision (a change after a submission
                     or an approval moves the revision on: the result is a draft again)
  submitted  待审核  the last step about the current revision is a submission
  returned   退回    … is a return, with its reason
  approved   已审核  … is an approval
  published  已公示  a results notice lists the task (``records.published_on``), whatever the steps

Steps (``submit``, ``approve``, ``return_``) each append one ``finding_reviews`` row and its
transparency-log entry (kind ``finding_review``) in one transaction. Illegal steps are refused with
InspectError (``step_problem``, pure): submit without a finding or twice; approve or return what is
not submitted for the current revision (``revision`` given by a reviewer who read an older one is
stale); return without a reason; approve or return by an inspector's account, by the person who
submitted, or by a reviewer/coordinator of another unit. Two reviewers at once: the transaction
takes the write lock (SQLite) or locks the finding's row (PostgreSQL) before it reads the steps,
so the second sees the first's step and is refused — never two approvals of one revision.

``approved_task_ids`` is what the results notice publishes when ``[findings] review = "required"``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select

from inspect_kit.draw.service import current_draw_ids
from inspect_kit.errors import InspectError
from inspect_kit.findings import records
from inspect_kit.storage.helpers import chunks, write_transaction
from inspect_kit.storage.models import Draw, Entity, Finding, FindingReview, Matter, Task, User
from inspect_kit.text import check_text, clean_code
from inspect_kit.transparency.store import append_pending

LABELS: dict[str, str] = {
    "none": "未录入",
    "draft": "草稿",
    "submitted": "待审核",
    "returned": "退回",
    "approved": "已审核",
    "published": "已公示",
}
_AFTER: dict[str, str] = {"submit": "submitted", "return": "returned", "approve": "approved"}
REVIEWING_ROLES = frozenset({"reviewer", "coordinator", "admin"})


@dataclass(frozen=True)
class Step:
    action: str  # submit | return | approve
    revision: int
    reason: str | None
    by: str
    at: dt.datetime


@dataclass(frozen=True)
class ReviewState:
    task_id: int
    task_no: str
    unit_code: str | None
    finding_id: int | None
    revision: int | None
    state: str  # a key of LABELS
    steps: tuple[Step, ...]

    @property
    def label(self) -> str:
        return LABELS[self.state]

    @property
    def return_reason(self) -> str | None:
        """The reason of the latest return (shown to the field until the result is approved)."""
        if self.state in ("approved", "published"):
            return None
        returns = [s for s in self.steps if s.action == "return"]
        return returns[-1].reason if returns else None

    @property
    def submitted_by(self) -> str | None:
        current = [s for s in self.steps if s.revision == self.revision and s.action == "submit"]
        return current[-1].by if current else None


# -- pure rules -------------------------------------------------------------------------------------


def derive_state(revision: int | None, steps: Sequence[Step], published: bool) -> str:
    if revision is None:
        return "none"
    if published:
        return "published"
    current = [s for s in steps if s.revision == revision]
    return _AFTER[current[-1].action] if current else "draft"


def step_problem(
    action: str,
    state: ReviewState,
    *,
    by: str,
    by_role: str | None,
    by_unit: str | None,
    reason: str | None,
    revision: int | None,
) -> str | None:
    """Why ``by`` may not take this step now (None: it may). ``revision``: the one the reviewer read."""
    no = state.task_no
    if state.state == "none":
        return f"task {no} has no finding recorded yet"
    if state.state == "published":
        return f"the result of task {no} is already published"
    if action == "submit":
        if state.state == "submitted":
            return f"the result of task {no} is already submitted for review (revision {state.revision})"
        if state.state == "approved":
            return f"the result of task {no} is already approved (revision {state.revision})"
        return None
    if by_role is not None and by_role not in REVIEWING_ROLES:
        return f"{by} is an account of role {by_role}: only a reviewer may approve or return a result"
    if by_role in ("reviewer", "coordinator") and by_unit != state.unit_code:
        return f"{by} reviews for unit {by_unit}, task {no} belongs to {state.unit_code}"
    if revision is not None and revision != state.revision:
        return (
            f"the result of task {no} changed since you read it (revision {revision} → {state.revision}); read it again"
        )
    if state.state != "submitted":
        earlier = [s for s in state.steps if s.action == "submit"]
        if state.state == "draft" and earlier:
            return (
                f"the result of task {no} changed after it was submitted (revision {earlier[-1].revision} → "
                f"{state.revision}): it must be submitted again"
            )
        return f"the result of task {no} is not submitted for review (it is {state.state})"
    if by == state.submitted_by:
        return f"{by} submitted the result of task {no}: another person must review it"
    if action == "return" and not (reason or "").strip():
        return "a return needs a reason (what to correct)"
    return None


# -- reads --------------------------------------------------------------------------------------------


def steps_of(conn: Connection, task_ids: Iterable[int]) -> dict[int, list[Step]]:
    """Task id → its review steps, oldest first."""
    out: dict[int, list[Step]] = {}
    fr = FindingReview
    for part in chunks(sorted(set(task_ids))):
        stmt = (
            select(fr.task_id, fr.action, fr.revision, fr.reason, fr.by, fr.at)
            .where(fr.task_id.in_(part))
            .order_by(fr.id)
        )
        for r in conn.execute(stmt):
            out.setdefault(r.task_id, []).append(Step(r.action, r.revision, r.reason, r.by, r.at))
    return out


def states_of(conn: Connection, task_ids: Iterable[int]) -> dict[int, ReviewState]:
    """Task id → its review state (tasks that do not exist are left out)."""
    ids = sorted(set(task_ids))
    out: dict[int, ReviewState] = {}
    if not ids:
        return out
    steps = steps_of(conn, ids)
    published = records.published_on(conn, ids)
    for part in chunks(ids):
        stmt = (
            select(Task.id, Task.task_no, Matter.unit_code, Finding.id, Finding.revision)
            .join(Draw, Draw.id == Task.draw_id)
            .outerjoin(Matter, Matter.code == Draw.matter_code)
            .outerjoin(Finding, Finding.task_id == Task.id)
            .where(Task.id.in_(part))
        )
        for tid, no, unit, fid, rev in conn.execute(stmt):
            s = tuple(steps.get(tid, ()))
            out[tid] = ReviewState(tid, no, unit, fid, rev, derive_state(rev, s, tid in published), s)
    return out


def check_by(by: str) -> None:
    """``by`` names who writes (a ``String(64)`` column): not empty, no refused characters."""
    check_text(by, "by")
    if not by or len(by) > 64:
        raise InspectError("by: give who writes this (at most 64 characters)")


def task_id_of(conn: Connection, task_no: str) -> int:
    no = clean_code(task_no)
    tid = conn.execute(select(Task.id).where(Task.task_no == no)).scalar()
    if tid is None:
        raise InspectError(f"no task {no}")
    return int(tid)


def review_state(engine: Engine, task_no: str) -> ReviewState:
    with engine.connect() as conn:
        tid = task_id_of(conn, task_no)
        return states_of(conn, [tid])[tid]


def approved_task_ids(conn: Connection, task_ids: Iterable[int]) -> set[int]:
    """The tasks whose current finding revision is approved (what a results notice may publish)."""
    return {tid for tid, s in states_of(conn, task_ids).items() if s.state in ("approved", "published")}


@dataclass(frozen=True)
class QueueItem:
    task_no: str
    matter_code: str
    period: str
    entity_name: str
    revision: int
    submitted_by: str
    submitted_at: dt.datetime


def queue(engine: Engine, unit_code: str) -> list[QueueItem]:
    """The results submitted for review of the unit's matters (current draws), oldest submission first."""
    with engine.connect() as conn:
        current = sorted(current_draw_ids(conn).values())
        stmt = (
            select(Task.id, Draw.matter_code, Draw.period, Entity.name)
            .join(Draw, Draw.id == Task.draw_id)
            .join(Matter, Matter.code == Draw.matter_code)
            .join(Entity, Entity.id == Task.entity_id)
            .where(
                Matter.unit_code == unit_code,
                Task.draw_id.in_(current),
                Task.id.in_(select(FindingReview.task_id)),
            )
        )
        rows = {tid: (m, p, name) for tid, m, p, name in conn.execute(stmt)}
        items = []
        for tid, s in states_of(conn, rows).items():
            if s.state == "submitted" and s.revision is not None:
                last = s.steps[-1]
                m, p, name = rows[tid]
                items.append(QueueItem(s.task_no, m, p, name, s.revision, last.by, last.at))
    return sorted(items, key=lambda i: (i.submitted_at, i.task_no))


# -- steps --------------------------------------------------------------------------------------------


def _step(
    engine: Engine,
    action: str,
    task_no: str,
    by: str,
    now: dt.datetime,
    reason: str | None = None,
    revision: int | None = None,
) -> ReviewState:
    check_by(by)
    check_text(reason, "reason")
    with write_transaction(engine) as conn:
        tid = task_id_of(conn, task_no)
        if conn.dialect.name == "postgresql":  # a concurrent reviewer waits here, then reads our step
            conn.execute(select(Finding.id).where(Finding.task_id == tid).with_for_update())
        state = states_of(conn, [tid])[tid]
        account = conn.execute(select(User.role, User.unit_code).where(User.name == by)).first()
        problem = step_problem(
            action,
            state,
            by=by,
            by_role=account.role if account else None,
            by_unit=account.unit_code if account else None,
            reason=reason,
            revision=revision,
        )
        if problem:
            raise InspectError(problem)
        assert state.finding_id is not None and state.revision is not None
        conn.execute(
            insert(FindingReview.__table__).values(
                task_id=tid,
                finding_id=state.finding_id,
                revision=state.revision,
                action=action,
                reason=(reason or "").strip() or None,
                by=by,
                at=now,
            )
        )
        append_pending(conn, now)
        return states_of(conn, [tid])[tid]


def submit(engine: Engine, task_no: str, by: str, now: dt.datetime) -> ReviewState:
    """Submit the task's current result for review."""
    return _step(engine, "submit", task_no, by, now)


def approve(engine: Engine, task_no: str, by: str, now: dt.datetime, revision: int | None = None) -> ReviewState:
    """Approve the submitted result (``revision``: the one the reviewer read, refused if stale)."""
    return _step(engine, "approve", task_no, by, now, revision=revision)


def return_(
    engine: Engine, task_no: str, reason: str, by: str, now: dt.datetime, revision: int | None = None
) -> ReviewState:
    """Return the submitted result to the field with a reason (required)."""
    return _step(engine, "return", task_no, by, now, reason=reason, revision=revision)
