"""Inspection results (检查结果) with every change kept as a revision."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspect_kit.storage.models.base import Base

__all__ = ["Finding", "FindingRevision"]


class Finding(Base):
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), unique=True)
    inspection_start: Mapped[dt.date] = mapped_column(Date)
    inspection_end: Mapped[dt.date] = mapped_column(Date)
    results: Mapped[list] = mapped_column(JSON)  # result category codes (R01 ...)
    problems: Mapped[str | None] = mapped_column(Text)
    follow_ups: Mapped[list] = mapped_column(JSON)  # follow-up codes (F01 ...)
    rectification_deadline: Mapped[dt.date | None] = mapped_column(Date)
    rectification_status: Mapped[str | None] = mapped_column(String(16))  # as declared: open | closed | overdue
    recheck_date: Mapped[dt.date | None] = mapped_column(Date)
    recheck_outcome: Mapped[str | None] = mapped_column(Text)
    case_no: Mapped[str | None] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class FindingRevision(Base):
    """One change to a finding: who, when, from where, and each field's old and new value."""

    __tablename__ = "finding_revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    by: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)  # "cli", or the imported file's name
    changes: Mapped[dict] = mapped_column(JSON)  # field → [old, new]
