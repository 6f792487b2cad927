"""Draws (random 1): frozen frames, append-only draw records, and the tasks they create.

Nothing here is ever updated or deleted (database triggers refuse it): a re-draw is a new Draw
with `redraw_of` and a reason, and the current draw of (matter, period) is simply the latest.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspect_kit.storage.models.base import PRIVATE, Base

__all__ = ["Frame", "Commitment", "SealSalt", "Unsealing", "Draw", "Task", "APPEND_ONLY_TABLES"]


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
    cap_excluded: Mapped[list | None] = mapped_column(JSON)  # [CapHit.to_dict()] (inspect_kit.draw.core.caps)
    by: Mapped[str | None] = mapped_column(String(64))  # the user who wrote it (web), or NULL (CLI)


class Commitment(Base):
    """What `draw prepare` binds itself to before any seed value exists: the frame (by id and
    SHA-256), the time, the seed source that will be used (a future drand round, a lottery issue,
    or a witnessed meeting), whether the draw is sealed (保密抽查: then the SHA-256 of a secret salt),
    and the ticket group of the per-draw seed. `one_step` marks a commitment made in the same
    command as the draw (`inspect draw --seed`): no frame hash was published before the seed."""

    __tablename__ = "commitments"
    id: Mapped[int] = mapped_column(primary_key=True)
    frame_id: Mapped[int] = mapped_column(ForeignKey("frames.id"), unique=True)
    matter_code: Mapped[str] = mapped_column(String(32), index=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    committed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    frame_sha256: Mapped[str] = mapped_column(String(64))
    source_kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[dict] = mapped_column(JSON)  # SeedSource.to_dict()
    ticket_group: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bool] = mapped_column(Boolean)
    salt_sha256: Mapped[str | None] = mapped_column(String(64))
    one_step: Mapped[bool] = mapped_column(Boolean)
    redraw_reason: Mapped[str | None] = mapped_column(Text)
    commitment_sha256: Mapped[str] = mapped_column(String(64))
    coordination: Mapped[dict | None] = mapped_column(JSON)  # Coordination.to_dict() (draw.core.coordination)
    by: Mapped[str | None] = mapped_column(String(64))  # the user who wrote it (web), or NULL (CLI)


class SealSalt(Base):
    """The secret salt of a sealed draw, kept by the tool until `inspect draw unseal`. Never public,
    never in the transparency log (only its SHA-256, in the commitment)."""

    __tablename__ = "seal_salts"
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), primary_key=True)
    salt: Mapped[str] = mapped_column(String(64), info=PRIVATE)


class Unsealing(Base):
    """A sealed draw made public: the salt revealed, after the inspections."""

    __tablename__ = "unsealings"
    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), unique=True)
    salt: Mapped[str] = mapped_column(String(64))
    unsealed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    by: Mapped[str | None] = mapped_column(String(64))  # the user who wrote it (web), or NULL (CLI)


class Draw(Base):
    """One draw of (matter, period). `seed` is the PUBLIC seed (the beacon's randomness, the
    lottery result, the witnessed dice); `derived_seed` is the per-draw seed the tickets use
    (inspect_kit.draw.core.seeds.derive_seed), NULL only for draws made before per-draw seeds."""

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
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"))
    derived_seed: Mapped[str | None] = mapped_column(String(64))
    seed_evidence: Mapped[dict | None] = mapped_column(JSON)  # drand signature, lottery numbers

    # One draw per commitment: the loser of two concurrent runs writes nothing.
    __table_args__ = (Index("ux_draws_commitment_id", "commitment_id", unique=True),)
    by: Mapped[str | None] = mapped_column(String(64))  # the user who wrote it (web), or NULL (CLI)


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
APPEND_ONLY_TABLES = (
    "frames",
    "draws",
    "tasks",
    "registry_changes",
    "registry_insert_blocks",
    "assignments",
    "team_members",
    "finding_revisions",
    "notices",
    "scoring_runs",
    "manual_values",
    "commitments",
    "seal_salts",
    "unsealings",
    "log_entries",
    "log_genesis",
    "finding_reviews",
    "evidence",
    "evidence_blobs",
    "joint_visits",
    "joint_visit_tasks",
)
