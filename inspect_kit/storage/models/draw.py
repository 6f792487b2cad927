"""Draws (random 1): frozen frames, append-only draw records, and the tasks they create.

Nothing here is ever updated or deleted (database triggers refuse it): a re-draw is a new Draw
with `redraw_of` and a reason, and the current draw of (matter, period) is simply the latest.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspect_kit.storage.models.base import Base

__all__ = ["Frame", "Draw", "Task", "APPEND_ONLY_TABLES"]


class Frame(Base):
    """The frozen sampling frame of one (matter, period): every (identifier, stratum), hashed.

    `frame_blob` is zlib(canonical frame bytes); `frame_sha256` is over the uncompressed bytes,
    the exact serialisation documented in README ("The frame hash")."""

    __tablename__ = "frames"
    id: Mapped[int] = mapped_column(primary_key=True)
    matter_code: Mapped[str] = mapped_column(String(32), index=True)
    period: Mapped[str] = mapped_column(String(16), index=True)  # 2026Q1, 2026-03, 2026
    as_of: Mapped[dt.date] = mapped_column(Date)  # the draw date the frame reflects (exemptions, status)
    prepared_at: Mapped[dt.datetime] = mapped_column(DateTime)
    frame_sha256: Mapped[str] = mapped_column(String(64))
    n_rows: Mapped[int] = mapped_column(Integer)
    strata: Mapped[list] = mapped_column(JSON)  # [{stratum, N, quota, rounding, n, explanation}]
    excluded: Mapped[dict] = mapped_column(JSON)  # reason → count (exempt, closed, drawn earlier this cycle ...)
    matter_spec: Mapped[dict] = mapped_column(JSON)
    matter_spec_sha256: Mapped[str] = mapped_column(String(64))
    frame_blob: Mapped[bytes] = mapped_column(LargeBinary)


class Draw(Base):
    __tablename__ = "draws"
    id: Mapped[int] = mapped_column(primary_key=True)
    frame_id: Mapped[int] = mapped_column(ForeignKey("frames.id"), index=True)
    matter_code: Mapped[str] = mapped_column(String(32), index=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    seed: Mapped[str] = mapped_column(Text)
    seed_source: Mapped[str] = mapped_column(Text)
    algorithm: Mapped[str] = mapped_column(String(64))
    algorithm_version: Mapped[str] = mapped_column(String(32))
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime)
    redraw_of: Mapped[int | None] = mapped_column(ForeignKey("draws.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    n_selected: Mapped[int] = mapped_column(Integer)
    sample_sha256: Mapped[str] = mapped_column(String(64))


class Task(Base):
    """检查任务: one drawn entity. `ticket` is the full decimal ticket; `rank` is 1-based within its stratum."""

    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id"), index=True)
    task_no: Mapped[str] = mapped_column(String(64), unique=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    identifier: Mapped[str] = mapped_column(String(64))
    stratum: Mapped[str] = mapped_column(String(200))
    ticket: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(Integer)


# Tables whose rows are never updated or deleted; migrations add triggers that refuse it.
APPEND_ONLY_TABLES = ("frames", "draws", "tasks", "registry_changes", "assignments", "team_members",
                      "finding_revisions", "notices", "scoring_runs", "manual_values")
