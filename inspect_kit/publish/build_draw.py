"""The drawn-list notice (抽查对象名单公示) of a period, built from the database: what it prints about
each current draw, with its bundle (free text scrubbed, private values masked) to embed; writes
nothing (publish.service renders and records it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from inspect_kit.config import Config
from inspect_kit.errors import InspectError
from inspect_kit.periods import Period, parse_period
from inspect_kit.publish import notices as nt
from inspect_kit.publish import privacy
from inspect_kit.publish.guard import private_values, public_select
from inspect_kit.publish.sources import (
    BuiltNotice,
    CurrentDraw,
    authority,
    check_identifiers,
    current_draws,
    issuer_of,
    period_label,
    select_unit,
)
from inspect_kit.storage.models import Draw, Entity, Frame, Task, Unsealing
from inspect_kit.transparency.store import head_text as log_head_text


def _scrubbed_bundle(bundle: dict[str, Any], private: privacy.PrivateValues | None = None) -> dict[str, Any]:
    """The bundle with its free text scrubbed (a version-1 seed source, the re-draw reason; the
    registries' private values masked too when given); the checks that read them (the commitment
    code, the log) cover the record as stored, so a bundle whose text had to be scrubbed says so."""
    out = dict(bundle)
    if isinstance(bundle.get("seed_source"), str):
        out["seed_source"] = nt.scrub(bundle["seed_source"], private) or bundle["seed_source"]
    if isinstance(bundle.get("record"), dict) and bundle["record"].get("reason"):
        out["record"] = {**bundle["record"], "reason": nt.scrub(bundle["record"]["reason"], private)}
    return out


def bundle_bytes(bundle: dict[str, Any]) -> bytes:
    """The bundle as embedded: UTF-8 JSON as `inspect draw` exports it (indent 1, the bundle's key order)."""
    return (json.dumps(bundle, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _draw_record(
    conn: Connection, engine: Engine, config: Config, d: CurrentDraw, period: str, issue_date: dt.date
) -> tuple[nt.DrawRecord, bytes | None, list[int]]:
    """What the notice prints about a draw, its bundle's bytes (None while sealed) and its task ids.

    A sealed draw is public only if it was unsealed on or before the issue date."""
    from inspect_kit.draw.core.seeds import SeedSource
    from inspect_kit.draw.store.export import export_bundle

    row = conn.execute(
        public_select(Draw.seed, Draw.seed_source, Draw.algorithm, Draw.algorithm_version, Draw.drawn_at).where(
            Draw.id == d.draw_id
        )
    ).one()
    frame = conn.execute(
        public_select(
            Frame.frame_sha256, Frame.n_rows, Frame.prepared_at, Frame.as_of, Frame.strata, Frame.excluded
        ).where(Frame.id == d.frame_id)
    ).one()
    steps = [
        nt.DrawStep(s.id, s.drawn_at, s.seed, s.seed_source, s.frame_sha256, s.n_selected, s.reason)
        for s in conn.execute(
            public_select(
                Draw.id, Draw.drawn_at, Draw.seed, Draw.seed_source, Frame.frame_sha256, Draw.n_selected, Draw.reason
            )
            .join(Frame, Frame.id == Draw.frame_id)
            .where(Draw.matter_code == d.matter.code, Draw.period == period)
            .order_by(Draw.id)
        )
    ]
    full = export_bundle(engine, d.draw_id, include_secret=True)
    commitment = full.get("commitment")
    unsealed_on = conn.execute(
        public_select(Unsealing.unsealed_at)
        .join(Draw, Draw.commitment_id == Unsealing.commitment_id)
        .where(Draw.id == d.draw_id)
    ).scalar()
    hidden = bool(commitment and commitment.get("sealed")) and (unsealed_on is None or unsealed_on.date() > issue_date)
    tasks = (
        []
        if hidden
        else conn.execute(
            public_select(
                Task.id,
                Task.task_no,
                Task.identifier,
                Task.stratum,
                Task.rank,
                Entity.name,
                Entity.township,
                Entity.category,
            )
            .join(Entity, Entity.id == Task.entity_id)
            .where(Task.draw_id == d.draw_id)
            .order_by(Task.stratum, Task.rank, Task.id)
        ).all()
    )
    entities = [
        nt.DrawEntity(t.task_no, t.identifier, t.name, t.township, t.stratum, t.rank, t.category) for t in tasks
    ]
    bundle = None if hidden else _scrubbed_bundle(full, private_values(conn))
    if bundle is not None:
        check_identifiers((r[0] for r in bundle["frame"]["rows"]), f"the frame of {d.matter.code} {period}")
    on_duty = {s.get("on_duty_inspectors") for s in frame.strata} - {None}
    source_text = None
    if commitment is not None:
        source_text = SeedSource.from_dict(commitment["source"]).describe_zh()
    record = nt.DrawRecord(
        matter_code=d.matter.code,
        matter_name=d.matter.name,
        period=period,
        authority=authority(config, d.matter),
        legal_basis=d.matter.legal_basis,
        method=d.matter.method,
        algorithm=row.algorithm,
        algorithm_version=row.algorithm_version,
        seed="" if hidden else full["seed"],
        seed_source=row.seed_source,
        frame_sha256=frame.frame_sha256,
        frame_rows=frame.n_rows,
        frame_prepared_at=frame.prepared_at,
        frame_as_of=frame.as_of,
        drawn_at=row.drawn_at,
        strata=full["strata"],
        entities=entities,
        bundle_name=nt.bundle_file_name(d.matter.code, period),
        excluded=frame.excluded or {},
        history=steps,
        on_duty_inspectors=on_duty.pop() if len(on_duty) == 1 else None,
        commitment=commitment,
        public_seed=row.seed,
        source_text=source_text,
        frames=full.get("frames_of_period", []),
        sealed_hidden=hidden,
    )
    return record, None if bundle is None else bundle_bytes(bundle), [t.id for t in tasks]


def build_draw_notice(
    engine: Engine,
    config: Config,
    period: Period | str,
    *,
    issue_date: dt.date,
    unit: str | None = None,
    matters: Sequence[str] | None = None,
    doc_number: str | None = None,
) -> BuiltNotice:
    """The drawn-list NoticeDocument (with the bundles as files) and what its record will say; writes nothing."""
    label = period_label(period)
    with engine.connect() as conn:
        unit, draws = select_unit(config, current_draws(conn, config, label, matters), label, unit)
        built = [_draw_record(conn, engine, config, d, label, issue_date) for d in draws]
        head = log_head_text(conn)
    records = [b[0] for b in built]
    last = max(r.drawn_at for r in records)
    if issue_date < last.date():
        raise InspectError(
            f"the issue date {issue_date} is before the draw ({last:%Y-%m-%d %H:%M}): "
            "a drawn list is published on or after the day of the draw"
        )
    issuer = issuer_of(config, unit)
    notice = nt.draw_notice(
        issuer,
        parse_period(label),
        records,
        issue_date,
        id_scheme=config.settings.registry.id_scheme,
        doc_number=doc_number,
        log_head=head,
    )
    notice = dataclasses.replace(
        notice, files=[(r.bundle_name, data) for r, (_, data, _) in zip(records, built) if data is not None]
    )
    return BuiltNotice(
        notice, unit, issuer, label, [r.matter_code for r in records], [i for _, _, ids in built for i in ids], [], []
    )
