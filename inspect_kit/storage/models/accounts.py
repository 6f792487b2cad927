"""Accounts of the web application and what the review of results records.

- ``users``: one account per person (no shared accounts): a role, the unit it acts for
  (coordinator, reviewer; NULL for admin and assessor, who are county-wide) and, for an inspector,
  the 执法证号 that links it to the inspectors registry. Passwords are stored as Argon2 hashes.
- ``web_sessions``: server-side sessions, keyed by the SHA-256 of the cookie's token (a stolen
  database yields no usable cookie), each with its own CSRF token, an idle and an absolute expiry.
- ``api_tokens``: bearer tokens of API clients, stored as SHA-256 too; revocable.
- ``login_attempts``: the throttle's memory, shared by every worker process.
- ``finding_reviews`` (append-only, in the transparency log): each step of a result's review —
  submitted (待审核), returned with a reason (退回), approved (已审核) — naming the finding revision
  it is about, the user and the time.
- ``evidence`` (append-only, in the log): photos and scanned 笔录 attached to a task, by their
  SHA-256; the bytes live in ``evidence_blobs`` (never public, never logged themselves).

No column here is marked PRIVATE: that mark names registry values the public-output guard looks
for in every public document; nothing public reads these tables at all (the public pages' crawl
test holds it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inspect_kit.storage.models.base import Base

__all__ = ["ApiToken", "Evidence", "EvidenceBlob", "FindingReview", "LoginAttempt", "User", "WebSession"]


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # the login name
    role: Mapped[str] = mapped_column(String(16))  # admin | coordinator | inspector | reviewer | assessor
    unit_code: Mapped[str | None] = mapped_column(String(32))
    cert_no: Mapped[str | None] = mapped_column(String(64))  # 执法证号, for an inspector
    password_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class WebSession(Base):
    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)  # absolute limit
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)


class FindingReview(Base):
    __tablename__ = "finding_reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)  # the finding revision this step is about
    action: Mapped[str] = mapped_column(String(16))  # submit | return | approve
    reason: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime)


class Evidence(Base):
    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), ForeignKey("evidence_blobs.sha256"))
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime)


class EvidenceBlob(Base):
    __tablename__ = "evidence_blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
