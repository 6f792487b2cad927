"""Team assignments (random 2): append-only, with the fractional solution that re-derives them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Float, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspect_kit.storage.models.base import Base

__all__ = ["Assignment", "TeamMember"]


class Assignment(Base):
    """One assignment run for (matter, period). `fractional_blob` is zlib(canonical JSON of the
    integer-grid fractional solution); with the seed it re-derives every team."""

    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    matter_code: Mapped[str] = mapped_column(String(32), index=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id"), index=True)
    seed: Mapped[str] = mapped_column(Text)
    seed_source: Mapped[str | None] = mapped_column(Text)
    algorithm: Mapped[str] = mapped_column(String(64))
    algorithm_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    pair_cap: Mapped[float] = mapped_column(Float)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    fractional_sha256: Mapped[str] = mapped_column(String(64))
    fractional_blob: Mapped[bytes] = mapped_column(LargeBinary)
    inputs: Mapped[dict] = mapped_column(JSON)  # officers, tasks, eligibility rules applied (for verify)
    reassignment_of: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str | None] = mapped_column(String(64))  # the user who wrote it (web), or NULL (CLI)


class TeamMember(Base):
    """One officer (or expert) on one task's team. A substitute is a new row naming whom it replaces."""

    __tablename__ = "team_members"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # officer | expert | substitute
    probability: Mapped[float | None] = mapped_column(Float)  # x[officer, task] or the substitute's draw probability
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime)
    by: Mapped[str | None] = mapped_column(String(64))  # who recorded a substitute (web), or NULL
