"""Reading draws and frames back: the records the service returns (CommitmentInfo, FrameInfo,
DrawInfo), one draw with its tasks, and the lists of draws and frames."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from inspect_kit.draw.core.seeds import SeedSource
from inspect_kit.errors import InspectError
from inspect_kit.storage.helpers import filter_periods
from inspect_kit.storage.models import Commitment, Draw, Entity, Frame, Task, Unsealing


@dataclass(frozen=True)
class CommitmentInfo:
    id: int
    frame_id: int
    matter: str
    period: str
    committed_at: dt.datetime
    frame_sha256: str
    source: dict[str, Any]
    ticket_group: str
    sealed: bool
    salt_sha256: str | None
    one_step: bool
    redraw_reason: str | None
    sha256: str  # the commitment code to publish

    @property
    def seed_source(self) -> SeedSource:
        return SeedSource.from_dict(self.source)


@dataclass(frozen=True)
class FrameInfo:
    id: int
    matter: str
    period: str
    as_of: dt.date
    prepared_at: dt.datetime
    sha256: str
    n_rows: int
    strata: list[dict[str, Any]]
    excluded: dict[str, int]
    commitment: CommitmentInfo | None = None
    drawn_by: int | None = None  # the draw that used this frame, if any
    warnings: list[str] = field(default_factory=list)  # said when it was prepared, not stored


@dataclass(frozen=True)
class DrawInfo:
    id: int
    frame_id: int
    matter: str
    period: str
    seed: str  # the public seed
    seed_source: str
    drawn_at: dt.datetime
    redraw_of: int | None
    reason: str | None
    n_selected: int
    frame_sha256: str
    strata: list[dict[str, Any]]
    tasks: list[dict[str, Any]] = field(default_factory=list)
    derived_seed: str | None = None
    commitment_id: int | None = None
    sealed: bool = False
    unsealed: bool = False
    warnings: list[str] = field(default_factory=list)


def commitment_info(row: Any) -> CommitmentInfo:
    return CommitmentInfo(
        row.id,
        row.frame_id,
        row.matter_code,
        row.period,
        row.committed_at,
        row.frame_sha256,
        row.source,
        row.ticket_group,
        row.sealed,
        row.salt_sha256,
        row.one_step,
        row.redraw_reason,
        row.commitment_sha256,
    )


def with_warnings(d: DrawInfo, warnings: list[str]) -> DrawInfo:
    return DrawInfo(**{**d.__dict__, "warnings": warnings}) if warnings else d


_DRAW_COLUMNS = (
    Draw.id,
    Draw.frame_id,
    Draw.matter_code,
    Draw.period,
    Draw.seed,
    Draw.seed_source,
    Draw.drawn_at,
    Draw.redraw_of,
    Draw.reason,
    Draw.n_selected,
    Frame.frame_sha256,
    Frame.strata,
    Draw.derived_seed,
    Draw.commitment_id,
    Commitment.sealed,
    Unsealing.id.label("unsealing_id"),
)


def _draw_query() -> Any:
    return (
        select(*_DRAW_COLUMNS)
        .join(Frame, Frame.id == Draw.frame_id)
        .outerjoin(Commitment, Commitment.id == Draw.commitment_id)
        .outerjoin(Unsealing, Unsealing.commitment_id == Draw.commitment_id)
    )


def _draw_info(r: Any, tasks: list[dict[str, Any]]) -> DrawInfo:
    return DrawInfo(
        r.id,
        r.frame_id,
        r.matter_code,
        r.period,
        r.seed,
        r.seed_source,
        r.drawn_at,
        r.redraw_of,
        r.reason,
        r.n_selected,
        r.frame_sha256,
        r.strata,
        tasks,
        r.derived_seed,
        r.commitment_id,
        bool(r.sealed),
        r.unsealing_id is not None,
    )


def get_draw(engine: Engine, draw_id: int, with_tasks: bool = True) -> DrawInfo:
    with engine.connect() as conn:
        d = conn.execute(_draw_query().where(Draw.id == draw_id)).first()
        if d is None:
            raise InspectError(f"no draw #{draw_id}")
        tasks = []
        if with_tasks:
            stmt = (
                select(
                    Task.task_no, Task.stratum, Task.identifier, Entity.name, Entity.township, Task.ticket, Task.rank
                )
                .join(Entity, Entity.id == Task.entity_id)
                .where(Task.draw_id == draw_id)
                .order_by(Task.id)
            )
            tasks = [r._asdict() for r in conn.execute(stmt)]
    return _draw_info(d, tasks)


def list_draws(
    engine: Engine, period: str | None = None, matter: str | None = None, year: int | None = None
) -> list[DrawInfo]:
    """Every draw on record (re-draws included), by period, matter and id; ``year`` takes all of
    its periods (the year's own draws, its quarters and its months)."""
    stmt = _draw_query().order_by(Draw.period, Draw.matter_code, Draw.id)
    stmt = filter_periods(stmt, Draw.period, Draw.matter_code, period=period, matter=matter, year=year)
    with engine.connect() as conn:
        return [_draw_info(r, []) for r in conn.execute(stmt)]


def list_frames(
    engine: Engine, period: str | None = None, matter: str | None = None, year: int | None = None
) -> list[FrameInfo]:
    """Every frame ever frozen, with its commitment and the draw that used it (if any)."""
    f = Frame
    stmt = (
        select(
            f.id,
            f.matter_code,
            f.period,
            f.as_of,
            f.prepared_at,
            f.frame_sha256,
            f.n_rows,
            f.strata,
            f.excluded,
            Draw.id.label("draw_id"),
        )
        .outerjoin(Draw, Draw.frame_id == f.id)
        .order_by(f.id)
    )
    stmt = filter_periods(stmt, f.period, f.matter_code, period=period, matter=matter, year=year)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        ids = [r.id for r in rows]
        commitments = (
            {
                c.frame_id: commitment_info(c)
                for c in conn.execute(select(Commitment.__table__).where(Commitment.frame_id.in_(ids)))
            }
            if ids
            else {}
        )
    return [
        FrameInfo(
            r.id,
            r.matter_code,
            r.period,
            r.as_of,
            r.prepared_at,
            r.frame_sha256,
            r.n_rows,
            r.strata,
            r.excluded,
            commitments.get(r.id),
            r.draw_id,
        )
        for r in rows
    ]
