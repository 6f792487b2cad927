"""The results notice (抽查结果公示) of a period, built from the database: every current task with
its finding (or 待录入 when allowed), the stratum sizes and the transparency log excerpt it relies
on; writes nothing (publish.service renders and records it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from inspect_kit.config import Config
from inspect_kit.errors import InspectError
from inspect_kit.findings.codes import Codebook, CodeList
from inspect_kit.findings.items import items_of
from inspect_kit.findings.review import approved_task_ids
from inspect_kit.findings.service import policy_from_config
from inspect_kit.periods import Period, parse_period
from inspect_kit.publish import notices as nt
from inspect_kit.publish.build_draw import bundle_bytes
from inspect_kit.publish.guard import public_select
from inspect_kit.publish.sources import (
    BuiltNotice,
    authority,
    check_identifiers,
    current_draws,
    issuer_of,
    period_label,
    select_unit,
)
from inspect_kit.storage.helpers import chunks
from inspect_kit.storage.models import Draw, Entity, Finding, Frame, Task, Unsealing
from inspect_kit.transparency import store as log_store
from inspect_kit.transparency.store import head_text as log_head_text


def codebook_of(config: Config) -> Codebook:
    return policy_from_config(config).codebook


def _labels(code_list: CodeList[Any], codes: Sequence[str]) -> list[str]:
    out = []
    for code in codes or []:
        item = code_list.get(code)
        out.append(item.label if item is not None else str(code))
    return out


def _still_sealed(conn: Connection, draw_id: int, on: dt.date) -> bool:
    """Whether the draw is sealed and not unsealed on or before ``on``."""
    from inspect_kit.storage.models import Commitment

    row = conn.execute(
        public_select(Commitment.sealed, Unsealing.unsealed_at)
        .join(Draw, Draw.commitment_id == Commitment.id)
        .outerjoin(Unsealing, Unsealing.commitment_id == Commitment.id)
        .where(Draw.id == draw_id)
    ).first()
    return bool(row and row.sealed and (row.unsealed_at is None or row.unsealed_at.date() > on))


def _joint_visits(engine: Engine, task_ids: Sequence[int]) -> dict[int, str]:
    """task id → number of the joint visit (综合查一次) it is part of."""
    from inspect_kit.storage.models import JointVisit, JointVisitTask

    out: dict[int, str] = {}
    with engine.connect() as conn:
        for k in range(0, len(task_ids), 500):
            rows = conn.execute(
                public_select(JointVisitTask.task_id, JointVisit.visit_no)
                .join(JointVisit, JointVisit.id == JointVisitTask.joint_visit_id)
                .where(JointVisitTask.task_id.in_(task_ids[k : k + 500]))
            )
            out.update((task_id, visit_no) for task_id, visit_no in rows)
    return out


def build_results_notice(
    engine: Engine,
    config: Config,
    period: Period | str,
    *,
    issue_date: dt.date,
    unit: str | None = None,
    matters: Sequence[str] | None = None,
    allow_incomplete: bool = False,
    codebook: Any = None,
    doc_number: str | None = None,
) -> BuiltNotice:
    """The results NoticeDocument and what its record will say; writes nothing.

    Refuses (InspectError) while a task has no finding, unless ``allow_incomplete`` — then those
    tasks print as 待录入 and are recorded as pending. Refuses a finding whose inspection ends after
    the issue date. "Rectified" counts rectification orders declared closed and re-checked (if a
    re-check date is given) on or before the issue date.
    """
    label = period_label(period)
    codebook = codebook or codebook_of(config)
    with engine.connect() as conn:
        unit, draws = select_unit(config, current_draws(conn, config, label, matters), label, unit)
        by_draw: dict[int, list] = {d.draw_id: [] for d in draws}
        for t in conn.execute(
            public_select(
                Task.id, Task.draw_id, Task.task_no, Task.identifier, Entity.name, Entity.category, Task.stratum
            )
            .join(Entity, Entity.id == Task.entity_id)
            .where(Task.draw_id.in_(list(by_draw)))
            .order_by(Task.task_no, Task.id)
        ):
            by_draw[t.draw_id].append(t)
        sealed = [d.matter.code for d in draws if _still_sealed(conn, d.draw_id, issue_date)]
        if sealed:
            raise InspectError(
                f"the draw of {', '.join(sealed)} for {label} is sealed (保密抽查): unseal it first "
                "(`inspect draw unseal`), after the inspections, then publish its results"
            )
        head = log_head_text(conn)
        frame_strata = (
            dict(
                conn.execute(
                    public_select(Frame.id, Frame.strata).where(Frame.id.in_([d.frame_id for d in draws]))
                ).all()
            )
            if draws
            else {}
        )
        ids = [t.id for ts in by_draw.values() for t in ts]
        relied = [("draw", d.draw_id) for d in draws] + log_store.latest_revisions(conn, ids)
        log_bytes = bundle_bytes(log_store.excerpt(conn, relied))
        findings: dict[int, Any] = {}
        for part in chunks(ids):
            for row in conn.execute(
                public_select(
                    Finding.task_id,
                    Finding.inspection_start,
                    Finding.inspection_end,
                    Finding.results,
                    Finding.problems,
                    Finding.follow_ups,
                    Finding.rectification_deadline,
                    Finding.rectification_status,
                    Finding.recheck_date,
                    Finding.item_results,
                ).where(Finding.task_id.in_(list(part)))
            ):
                findings[row.task_id] = row
        review = config.settings.findings.review == "required"
        if review:  # only approved results are published; the others count as not yet recorded
            approved = approved_task_ids(conn, findings)
            findings = {tid: f for tid, f in findings.items() if tid in approved}
    pending_nos = [t.task_no for d in draws for t in by_draw[d.draw_id] if t.id not in findings]
    if pending_nos and not allow_incomplete:
        shown = ", ".join(pending_nos[:10]) + (f" … ({len(pending_nos) - 10} more)" if len(pending_nos) > 10 else "")
        raise InspectError(
            f"{len(pending_nos)} of {len(ids)} tasks of {label} have no {'approved ' if review else ''}finding yet ({shown}): "
            f"{'review' if review else 'record'} them first, or pass --allow-incomplete to publish the others and list these as 待录入"
        )
    late = sorted(
        t.task_no
        for ts in by_draw.values()
        for t in ts
        if t.id in findings and findings[t.id].inspection_end > issue_date
    )
    if late:
        raise InspectError(
            f"the issue date {issue_date} is before the end of the inspection of {', '.join(late[:10])}"
            f"{' …' if len(late) > 10 else ''}: results are published after the inspection"
        )
    joint = _joint_visits(engine, [t.id for ts in by_draw.values() for t in ts])
    matter_results = []
    for d in draws:
        outcomes = []
        for t in by_draw[d.draw_id]:
            f = findings.get(t.id)
            if f is None:
                outcomes.append(
                    nt.TaskOutcome(
                        t.task_no, t.identifier, t.name, recorded=False, category=t.category, stratum=t.stratum
                    )
                )
                continue
            results, follow_ups = list(f.results or []), list(f.follow_ups or [])
            problem = any(c.problem for code in results if (c := codebook.categories.get(code)) is not None)
            ordered = f.rectification_deadline is not None or any(
                u.rectification for code in follow_ups if (u := codebook.follow_ups.get(code)) is not None
            )
            rectified = (
                ordered
                and f.rectification_status == "closed"
                and (f.recheck_date is None or f.recheck_date <= issue_date)
            )
            outcomes.append(
                nt.TaskOutcome(
                    t.task_no,
                    t.identifier,
                    t.name,
                    recorded=True,
                    category=t.category,
                    inspection_start=f.inspection_start,
                    inspection_end=f.inspection_end,
                    results=_labels(codebook.categories, results),
                    problems=f.problems,
                    follow_ups=_labels(codebook.follow_ups, follow_ups),
                    problem_found=problem,
                    rectification_ordered=ordered,
                    rectification_deadline=f.rectification_deadline,
                    rectified=rectified,
                    stratum=t.stratum,
                    items=items_of(f.item_results),
                )
            )
        outcomes = [dataclasses.replace(o, joint_visit=joint.get(t.id)) for o, t in zip(outcomes, by_draw[d.draw_id])]
        sizes = {str(s["stratum"]): int(s["N"]) for s in frame_strata.get(d.frame_id) or []}
        spec = next((m for m in config.matters if m.code == d.matter.code), None)
        checklist = [(i.code, i.content) for i in spec.checklist] if spec is not None else []
        matter_results.append(
            nt.MatterResults(d.matter.code, d.matter.name, authority(config, d.matter), outcomes, sizes, checklist)
        )
    check_identifiers((t.identifier for m in matter_results for t in m.tasks), f"the tasks of {label}")
    issuer = issuer_of(config, unit)
    notice = nt.results_notice(
        issuer,
        parse_period(label),
        matter_results,
        issue_date,
        id_scheme=config.settings.registry.id_scheme,
        doc_number=doc_number,
        log_head=head,
    )
    notice = dataclasses.replace(notice, files=[(nt.log_file_name("results", label), log_bytes)])
    pending_ids = [t.id for d in draws for t in by_draw[d.draw_id] if t.id not in findings]
    estimates = [
        {"matter": m.matter_code, "period": label} | e.to_dict()
        for m in matter_results
        if (e := m.estimate()) is not None
    ]
    return BuiltNotice(
        notice, unit, issuer, label, [d.matter.code for d in draws], ids, pending_ids, pending_nos, estimates
    )
