"""Public notices (公示) as generated: what, for which period, the file's hash, the date of issue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspect_kit.storage.models.base import Base

__all__ = ["Notice"]


class Notice(Base):
    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # draw | results | score
    period: Mapped[str] = mapped_column(String(16), index=True)
    matter_codes: Mapped[list] = mapped_column(JSON)
    task_ids: Mapped[list] = mapped_column(JSON)  # tasks whose results (or selection) the notice publishes
    pending_task_ids: Mapped[list] = mapped_column(JSON)  # results notices issued with --allow-incomplete
    path: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    by: Mapped[str | None] = mapped_column(String(64))  # the user who wrote it (web), or NULL (CLI)
