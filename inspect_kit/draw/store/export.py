"""A stored draw as a verification bundle, and its verification against the database.

`export_bundle` writes everything needed to re-derive the draw without the database (format in
inspect_kit.draw.core.bundle and inspect_kit.draw.core.record): the frame, quotas and sample; the public seed,
its structured source and evidence, the derivation of the per-draw seed; the commitment; every
frame frozen for the period; for annual coverage the earlier samples of the year; and the
transparency-log entries from the draw's first record to the current head, with the contents of
the records the draw relies on. A sealed draw is refused until it is unsealed (the salt and the
sample are secret until then); `verify_draw` uses the kept salt.
"""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from inspect_kit.draw.core.bundle import BUNDLE_FORMAT, BUNDLE_VERSION, DrawVerifyReport, verify_bundle
from inspect_kit.draw.core.record import commitment_document
from inspect_kit.draw.core.seeds import SEED_RULE
from inspect_kit.errors import InspectError
from inspect_kit.periods import parse_period
from inspect_kit.storage.models import Commitment, Draw, Frame, SealSalt, Task, Unsealing
from inspect_kit.transparency import store as log


def frame_rows_from_blob(blob: bytes) -> list[tuple[str, str]]:
    text = zlib.decompress(blob).decode("utf-8")
    return [tuple(line.split("\t")) for line in text.splitlines()]  # type: ignore[misc]


def _frames_of_period(conn: Connection, matter: str, period: str) -> list[dict[str, Any]]:
    stmt = (
        select(
            Frame.id,
            Frame.prepared_at,
            Frame.n_rows,
            Frame.frame_sha256,
            Commitment.committed_at,
            Commitment.source,
            Commitment.one_step,
            Draw.id.label("draw_id"),
        )
        .outerjoin(Commitment, Commitment.frame_id == Frame.id)
        .outerjoin(Draw, Draw.frame_id == Frame.id)
        .where(Frame.matter_code == matter, Frame.period == period)
        .order_by(Frame.id)
    )
    return [
        {
            "frame_id": r.id,
            "prepared_at": r.prepared_at.isoformat(),
            "N": r.n_rows,
            "sha256": r.frame_sha256,
            "committed_at": r.committed_at.isoformat() if r.committed_at else None,
            "source": r.source,
            "one_step": r.one_step,
            "drawn": r.draw_id,
        }
        for r in conn.execute(stmt)
    ]


def _coverage_history(conn: Connection, matter: str, period: str, frozen_at: Any) -> list[dict[str, Any]]:
    """The samples the frame left out: the latest draw of each earlier period of the year, as of freezing."""
    this = parse_period(period)
    latest = (
        select(Draw.period, func.max(Draw.id))
        .where(Draw.matter_code == matter, Draw.drawn_at <= frozen_at)
        .group_by(Draw.period)
    )
    out = []
    for p, draw_id in sorted(conn.execute(latest).all(), key=lambda x: parse_period(x[0])):
        pp = parse_period(p)
        if pp.year != this.year or not pp < this:
            continue
        sample = sorted(
            [i, s] for i, s in conn.execute(select(Task.identifier, Task.stratum).where(Task.draw_id == draw_id))
        )
        out.append({"period": p, "draw_id": draw_id, "sample": sample})
    return out


def export_bundle(engine: Engine, draw_id: int, *, include_secret: bool = False) -> dict[str, Any]:
    """The draw's bundle (module docstring). ``include_secret`` admits a sealed draw (for verify)."""
    with engine.connect() as conn:
        d = conn.execute(select(Draw.__table__).where(Draw.id == draw_id)).first()
        if d is None:
            raise InspectError(f"no draw #{draw_id}")
        f = conn.execute(select(Frame.__table__).where(Frame.id == d.frame_id)).one()
        com = (
            conn.execute(select(Commitment.__table__).where(Commitment.id == d.commitment_id)).first()
            if d.commitment_id is not None
            else None
        )
        unsealing = (
            conn.execute(select(Unsealing.__table__).where(Unsealing.commitment_id == com.id)).first()
            if com is not None
            else None
        )
        if com is not None and com.sealed and unsealing is None and not include_secret:
            raise InspectError(
                f"draw #{draw_id} ({d.matter_code} {d.period}) is sealed until "
                f"`inspect draw unseal --period {d.period} --matter {d.matter_code}`: its seed and "
                "list stay secret until the inspections are done"
            )
        sample = [
            {"stratum": s, "identifier": i, "ticket": t, "rank": r}
            for s, i, t, r in conn.execute(
                select(Task.stratum, Task.identifier, Task.ticket, Task.rank)
                .where(Task.draw_id == draw_id)
                .order_by(Task.id)
            )
        ]
        strata = [{k: v for k, v in s.items() if k != "on_duty_inspectors"} for s in f.strata]
        bundle: dict[str, Any] = {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION if com is not None else 1,
            "algorithm": {"name": d.algorithm, "version": d.algorithm_version},
            "seed": d.derived_seed or d.seed,
            "seed_source": d.seed_source,
            "matter": d.matter_code,
            "period": d.period,
            "frame": {"sha256": f.frame_sha256, "rows": [list(r) for r in frame_rows_from_blob(f.frame_blob)]},
            "strata": strata,
            "sample": sample,
        }
        on_duty = {s.get("on_duty_inspectors") for s in f.strata} - {None}
        if on_duty:
            bundle["on_duty_inspectors"] = on_duty.pop()
        if com is not None:
            derivation: dict[str, Any] = {
                "rule": SEED_RULE,
                "public_seed": d.seed,
                "ticket_group": com.ticket_group,
                "period": d.period,
            }
            if com.sealed:
                salt = (
                    unsealing.salt
                    if unsealing is not None
                    else conn.execute(select(SealSalt.salt).where(SealSalt.commitment_id == com.id)).scalar_one()
                )
                derivation["salt"] = salt
            bundle["seed_derivation"] = derivation
            bundle["seed_source"] = {**com.source, "evidence": d.seed_evidence or {}}
            doc = commitment_document(
                matter=com.matter_code,
                period=com.period,
                frame_sha256=com.frame_sha256,
                committed_at=com.committed_at,
                source=com.source,
                ticket_group=com.ticket_group,
                sealed=com.sealed,
                salt_sha256=com.salt_sha256,
                one_step=com.one_step,
                redraw_reason=com.redraw_reason,
            )
            if com.coordination is not None:
                doc["coordination"] = com.coordination
                bundle["coordination"] = com.coordination
            bundle["commitment"] = {**doc, "sha256": com.commitment_sha256}
            bundle["frames_of_period"] = _frames_of_period(conn, d.matter_code, d.period)
            if any("coverage" in s for s in strata):
                bundle["coverage_history"] = _coverage_history(conn, d.matter_code, d.period, f.prepared_at)
        bundle["record"] = {
            "draw_id": d.id,
            "frame_id": f.id,
            "frame_prepared_at": f.prepared_at.isoformat(),
            "drawn_at": d.drawn_at.isoformat(),
            "frame_as_of": f.as_of.isoformat(),
            "redraw_of": d.redraw_of,
            "reason": d.reason,
            "excluded": f.excluded,
            "matter_spec_sha256": f.matter_spec_sha256,
            "sample_sha256": d.sample_sha256,
        }
        if f.cap_excluded:
            bundle["record"]["cap_excluded"] = f.cap_excluded
        if com is not None:
            relied = [("frame", f.id), ("commitment", com.id), ("draw", d.id)]
            if unsealing is not None:
                relied.append(("unsealing", unsealing.id))
            block = log.excerpt(conn, relied, contents=True)
            bundle["log"] = {"head": block["head"], "entries": block["entries"], "records": block["records"]}
    return bundle


def verify_draw(engine: Engine, draw_id: int) -> DrawVerifyReport:
    """Re-derive the draw from the database: frame hash, sizes, sample, tickets, seed, record."""
    bundle = export_bundle(engine, draw_id, include_secret=True)
    report = verify_bundle(bundle)
    rec = bundle["record"]
    if rec["drawn_at"] < rec["frame_prepared_at"]:
        report.problems.append(f"the draw ({rec['drawn_at']}) predates its frame ({rec['frame_prepared_at']})")
    if bundle.get("version") == 1:
        report.notes.append("drawn before commitments and per-draw seeds: its seed was not committed in advance")
    detail = rec.get("cap_excluded") or []
    if detail:
        from inspect_kit.draw.core.caps import cap_detail_problems
        from inspect_kit.draw.store.caps import recount

        with engine.connect() as conn:
            counts = recount(conn, {src for e in detail for src in e["sources"]})
        report.problems += [f"cap exclusion: {p}" for p in cap_detail_problems(detail, counts)]
        report.notes.append(
            f"{len(detail)} entities left out at their yearly cap, each re-counted from the logged records"
        )
    report.ok = not report.problems
    return report
