"""Verification against the database: `export_bundle` (everything needed to re-derive an assignment
without the database; it holds the teams, so it is confidential until the entities are notified)
and `verify_assignment(s)` (the bundle checked by core/bundle.py's `verify_bundle`, and against the
draw).
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

from sqlalchemy import Engine, select

from inspect_kit.assign.core.bundle import BUNDLE_FORMAT, BUNDLE_VERSION, AssignmentVerifyReport, verify_bundle
from inspect_kit.assign.core.record import (
    ALGORITHM_NAME,
    default_substitute_seed,
    split_reason,
)
from inspect_kit.assign.store.records import assignment_row
from inspect_kit.assign.store.rows import chunks, member_rows
from inspect_kit.storage.models import Assignment as AssignmentRow
from inspect_kit.storage.models import Draw, Inspector, Task


def export_bundle(engine: Engine, assignment_id: int) -> dict[str, Any]:
    """Everything needed to re-derive and check an assignment without the database.

    Holds the teams: confidential until the entities are notified.
    """
    with engine.connect() as conn:
        a = assignment_row(conn, assignment_id)
        d = conn.execute(select(Draw.matter_code, Draw.period, Draw.drawn_at).where(Draw.id == a.draw_id)).first()
        tasks = dict(conn.execute(select(Task.id, Task.task_no).where(Task.draw_id == a.draw_id)).all())
        rows = [r for rs in member_rows(conn, list(tasks)).values() for r in rs if r.assignment_id == a.id]
        rows.sort(key=lambda r: r.id)
        people = {}
        for part in chunks(sorted({r.inspector_id for r in rows})):
            people.update(
                {
                    r.id: r
                    for r in conn.execute(
                        select(Inspector.id, Inspector.cert_no, Inspector.kind).where(Inspector.id.in_(part))
                    )
                }
            )
    by_id = {r.id: r for r in rows}
    teams: dict[str, dict[str, list[Any]]] = {}  # officers, experts: cert_nos; probabilities: floats
    subs = []
    for r in rows:
        cert = people[r.inspector_id].cert_no
        if r.role in ("officer", "expert"):
            team = teams.setdefault(tasks[r.task_id], {"officers": [], "experts": [], "probabilities": []})
            team["officers" if r.role == "officer" else "experts"].append(cert)
            if r.role == "officer":
                team["probabilities"].append(r.probability)
            continue
        old = by_id.get(r.replaces_id) if r.replaces_id is not None else None
        reason, meta = split_reason(r.reason)
        leaving = people[old.inspector_id].cert_no if old is not None else None
        kind = (
            "expert"
            if old is not None and (people[old.inspector_id].kind != "officer" or old.role == "expert")
            else "officer"
        )
        subs.append(
            {
                "task": tasks[r.task_id],
                "leaving": leaving,
                "substitute": cert,
                "kind": kind,
                "probability": r.probability,
                "seed": meta.get("seed")
                or (default_substitute_seed(a.seed, tasks[r.task_id], leaving) if leaving else None),
                "unavailable": meta.get("unavailable", []),
                "reason": reason,
                "added_at": r.added_at.isoformat(),
            }
        )
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "algorithm": {"name": a.algorithm, "version": a.algorithm_version},
        "matter": a.matter_code,
        "period": a.period,
        "seed": a.seed,
        "seed_source": a.seed_source,
        "inputs_sha256": a.inputs_sha256,
        "inputs": a.inputs,
        "fractional_sha256": a.fractional_sha256,
        "fractional": zlib.decompress(a.fractional_blob).decode("utf-8"),
        "teams": [{"task": t, **teams[t]} for t in sorted(teams)],
        "substitutions": subs,
        "record": {
            "assignment_id": a.id,
            "draw_id": a.draw_id,
            "created_at": a.created_at.isoformat(),
            "pair_cap": a.pair_cap,
            "reassignment_of": a.reassignment_of,
            "reason": a.reason,
            "draw": {"matter": d.matter_code, "period": d.period, "drawn_at": d.drawn_at.isoformat()} if d else None,
            "draw_tasks": sorted(tasks.values()),
        },
    }


def verify_assignment(engine: Engine, assignment_id: int, resolve: bool = False) -> AssignmentVerifyReport:
    """Re-derive one stored assignment (see verify_bundle) and check it against its draw."""
    bundle = export_bundle(engine, assignment_id)
    rep = verify_bundle(bundle, resolve)
    rec = bundle["record"]
    rep.what = f"assignment #{assignment_id} ({bundle['matter']} {bundle['period']})"
    inputs = bundle["inputs"]
    if bundle["algorithm"]["name"] != ALGORITHM_NAME:
        rep.fail(f"unknown algorithm {bundle['algorithm']['name']!r}")
    if (inputs.get("matter"), inputs.get("period"), inputs.get("draw_id")) != (
        bundle["matter"],
        bundle["period"],
        rec["draw_id"],
    ):
        rep.fail("the inputs name another matter, period or draw than the record")
    draw = rec["draw"]
    if draw is None or (draw["matter"], draw["period"]) != (bundle["matter"], bundle["period"]):
        rep.fail(f"draw #{rec['draw_id']} is not a draw of {bundle['matter']} {bundle['period']}")
    elif dt.datetime.fromisoformat(rec["created_at"]) < dt.datetime.fromisoformat(draw["drawn_at"]):
        rep.fail(f"the assignment ({rec['created_at']}) predates its draw ({draw['drawn_at']})")
    if sorted(t["id"] for t in inputs.get("tasks", [])) != rec["draw_tasks"]:
        rep.fail(f"the inputs' tasks are not the tasks of draw #{rec['draw_id']}")
    if abs(float(inputs.get("pair_cap", -1)) - rec["pair_cap"]) > 1e-12:
        rep.fail("the record's pair cap is not the inputs' pair cap")
    for s in bundle["substitutions"]:
        if dt.datetime.fromisoformat(s["added_at"]) < dt.datetime.fromisoformat(rec["created_at"]):
            rep.fail(f"substitute {s['substitute']} on {s['task']} predates the assignment")
    return rep


def verify_assignments(engine: Engine) -> list[tuple[str, bool, list[str]]]:
    """Every stored assignment, re-derived: (what, ok, problems) each (what `inspect verify` prints)."""
    with engine.connect() as conn:
        ids = list(conn.execute(select(AssignmentRow.id).order_by(AssignmentRow.id)).scalars())
    out = []
    for i in ids:
        rep = verify_assignment(engine, i)
        out.append((rep.what, rep.ok, rep.problems))
    return out
