"""Year-end scoring: manual inputs (append-only; the latest counts) and stored scoring runs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspect_kit.storage.models.base import Base

__all__ = ["ManualValue", "ScoringRun"]


class ManualValue(Base):
    """A hand-entered indicator value (or a judgement deduction) with its evidence note."""

    __tablename__ = "manual_values"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    indicator: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(64))  # decimal text, kept exact
    note: Mapped[str] = mapped_column(Text)
    entered_by: Mapped[str | None] = mapped_column(String(64))
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ScoringRun(Base):
    """A scoring of all units for a year, with the exact rulebook text that produced it."""

    __tablename__ = "scoring_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    rulebook_text: Mapped[str] = mapped_column(Text)
    rulebook_sha256: Mapped[str] = mapped_column(String(64))
    rulebook_version: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict] = mapped_column(JSON)  # metrics and manual values per unit, as scored
    results: Mapped[dict] = mapped_column(JSON)  # per unit: total, grade, rank, indicators
    by: Mapped[str | None] = mapped_column(String(64))  # the user who wrote it (web), or NULL (CLI)
