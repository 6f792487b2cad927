"""The transparency log: a hash chain over every record a notice or a verification relies on.

Append-only (triggers refuse UPDATE, DELETE and, on PostgreSQL, TRUNCATE). Entry 1 is the genesis
entry written by the migration; see inspect_kit.transparency for the rules."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspect_kit.storage.models.base import Base

__all__ = ["LogEntry", "LogGenesis"]


class LogEntry(Base):
    __tablename__ = "log_entries"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int | None] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_log_entries_kind_record", "kind", "record_id"),)


class LogGenesis(Base):
    """The content of log entry 1: how many records of each logged kind existed before the log
    (canonical JSON; its SHA-256 is entry 1's content hash)."""

    __tablename__ = "log_genesis"
    id: Mapped[int] = mapped_column(primary_key=True)
    content: Mapped[str] = mapped_column(Text)
