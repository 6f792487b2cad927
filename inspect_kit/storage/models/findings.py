"""Inspection results (检查结果) with every change kept as a revision.

A finding row is the CURRENT state of one task's result; `finding_revisions` is its append-only
history (field → [old, new] per change). The two cannot drift apart, and a result can neither
disappear nor be rewritten silently — database triggers (migration 0003) enforce it, whoever
writes (this code, psql, the sqlite3 shell):

- DELETE on findings is refused (TRUNCATE too, on PostgreSQL), like every published record;
- a new finding starts at `revision` 1 (the default), and only once per task;
- an UPDATE must raise `revision` by exactly one AND finding_revisions must already hold that
  revision (finding_id, revision) — unique, so two writers cannot both record revision N+1;
  id, task_id and created_at never change.

So the history numbers every change 1, 2, 3 … and the row's `revision` is the number of the last
one. Writers use it for optimistic concurrency: they read the finding at revision N, append
revision N+1 and `UPDATE … WHERE revision = N`; a writer whose read went stale meanwhile matches
no row (or collides on the unique revision number) and is rolled back, so no stale old value ever
enters the history (see inspect_kit.findings.service).

Why not derive the current state from the revisions alone? Readers (notices, scoring) read the
current state of thousands of findings; keeping it in a row, guarded as above, keeps them simple
and fast, and the guard makes the row a faithful summary of its history. What the guard cannot
check is that the UPDATE's values are the ones the revision's `changes` name: hand-written SQL
that appends a revision and then updates can still lie — but never without leaving a revision.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text
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
    revision: Mapped[int] = mapped_column(Integer, server_default="1")  # number of its latest revision
    # results per checklist item (inspect_kit.findings.items): [{code, result, category, note}], or NULL
    item_results: Mapped[list | None] = mapped_column(JSON)


class FindingRevision(Base):
    """One change to a finding: who, when, from where, and each field's old and new value."""

    __tablename__ = "finding_revisions"
    __table_args__ = (Index("ux_finding_revisions_finding_id_revision", "finding_id", "revision", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer, server_default="0")  # 1, 2, 3 … per finding
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    by: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)  # "cli", or the imported file's name
    changes: Mapped[dict] = mapped_column(JSON)  # field → [old, new]
