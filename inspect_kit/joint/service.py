"""`inspect merge`: store the joint visits of a period (one transaction, logged), read them back,
and write their notification letters. The rules are in inspect_kit.joint.core."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from inspect_kit.config import Config
from inspect_kit.errors import InspectError
from inspect_kit.joint.core import PlannedVisit, VisitTask, joint_paper, plan_visits
from inspect_kit.periods import parse_period
from inspect_kit.storage.helpers import insert_id
from inspect_kit.storage.models import JointVisit, JointVisitTask
from inspect_kit.transparency.store import append_pending


@dataclass(frozen=True)
class Visit:
    id: int
    visit_no: str
    period: str
    identifier: str
    lead_unit: str
    units: list[str]
    rule: str
    tasks: list[dict[str, Any]]  # task_no, matter, period (each result stays on its task)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _task_refs(conn: Connection, config: Config, label: str) -> list[VisitTask]:
    from inspect_kit.draw.store.tasks import current_tasks

    labels = [label] + ([label[:4]] if label != label[:4] else [])  # a yearly matter may join any period's visit
    return [
        VisitTask(t.task_id, t.task_no, t.entity_id, t.identifier, t.matter_code, config.matter(t.matter_code).unit)
        for lab in labels
        for t in current_tasks(conn, lab)
    ]


def merge(engine: Engine, config: Config, period: str, *, now: dt.datetime) -> list[Visit]:
    """Group the period's current tasks of different matters on one entity into joint visits;
    tasks already merged stay where they are. Returns the visits made now."""
    from inspect_kit.draw.store.locking import write

    label = parse_period(period).label

    def work(conn: Connection) -> list[int]:
        refs = _task_refs(conn, config, label)
        if not refs:
            raise InspectError(f"no tasks for {label}: draw the period first")
        merged = set(conn.execute(select(JointVisitTask.task_id)).scalars())
        done = conn.execute(select(func.count()).select_from(JointVisit).where(JointVisit.period == label)).scalar_one()
        planned = plan_visits(label, refs, config.settings.joint.lead_order, merged, done + 1)
        ids = [_store(conn, v, label, now) for v in planned]
        append_pending(conn, now)
        return ids

    ids = write(engine, f"merged {label}", work)
    return [v for v in visits(engine, label) if v.id in set(ids)]


def _store(conn: Connection, v: PlannedVisit, label: str, now: dt.datetime) -> int:
    visit_id = insert_id(
        conn,
        JointVisit.__table__,
        visit_no=v.visit_no,
        period=label,
        entity_id=v.entity_id,
        identifier=v.identifier,
        lead_unit=v.lead_unit,
        units=list(v.units),
        rule=v.rule,
        created_at=now,
    )
    conn.execute(
        insert(JointVisitTask.__table__), [{"joint_visit_id": visit_id, "task_id": t.task_id} for t in v.tasks]
    )
    return visit_id


def visits(engine: Engine, period: str | None = None) -> list[Visit]:
    from inspect_kit.storage.models import Draw, Task

    with engine.connect() as conn:
        stmt = select(JointVisit.__table__).order_by(JointVisit.id)
        if period is not None:
            stmt = stmt.where(JointVisit.period == parse_period(period).label)
        rows = conn.execute(stmt).all()
        members = conn.execute(
            select(JointVisitTask.joint_visit_id, Task.task_no, Draw.matter_code, Draw.period)
            .join(Task, Task.id == JointVisitTask.task_id)
            .join(Draw, Draw.id == Task.draw_id)
            .order_by(Task.task_no)
        ).all()
    by_visit: dict[int, list[dict[str, Any]]] = {}
    for vid, no, matter, period in members:
        by_visit.setdefault(vid, []).append({"task_no": no, "matter": matter, "period": period})
    return [
        Visit(r.id, r.visit_no, r.period, r.identifier, r.lead_unit, list(r.units), r.rule, by_visit.get(r.id, []))
        for r in rows
    ]


def write_letters(
    engine: Engine, config: Config, period: str, out_dir: Path, *, issue_date: dt.date, force: bool = False
) -> list[Path]:
    """One 检查通知书 per joint visit of the period (teams must be assigned)."""
    from inspect_kit.paper.service import issuer_name, render_paper, task_papers

    label = parse_period(period).label
    found = visits(engine, label)
    if not found:
        return []
    labels = sorted({t["period"] for v in found for t in v.tasks})
    papers = {p.task_no: p for lab in labels for p in task_papers(engine, config, period=lab, with_code=True)}
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for v in found:
        paper = joint_paper(v.visit_no, issuer_name(config, v.lead_unit), [papers[t["task_no"]] for t in v.tasks])
        path = out_dir / f"{v.visit_no}-联合检查通知书.pdf"
        if path.exists() and not force:
            raise InspectError(f"{path} exists: give --force to replace it")
        path.write_bytes(render_paper("notice", paper, issue_date))
        written.append(path)
    return written
