"""Evidence of an inspection (现场照片, scanned 笔录): files attached to a task, never public.

``attach`` refuses a file over ``max_bytes``, a type other than JPEG, PNG or PDF (judged by the
file's first bytes, never by its name), and a name whose extension says another type than its
content (a PNG named .pdf). The bytes are stored once per SHA-256 in ``evidence_blobs`` (the same
photo attached twice is one blob); each attachment is an ``evidence`` row naming the task, file
name, type, size, digest, who and when, logged in the transparency log (kind ``evidence``: the
digest is in the log, the bytes are not) in the same transaction. Nothing is written when refused.

Who may list or open a task's evidence (its team, its unit's staff) is decided by the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select

from inspect_kit.errors import InspectError
from inspect_kit.findings.review import check_by, task_id_of
from inspect_kit.storage.helpers import insert_id, write_transaction
from inspect_kit.storage.models import Evidence, EvidenceBlob
from inspect_kit.text import check_text
from inspect_kit.transparency.store import append_pending

# media type → (magic prefix, the extensions a file of that type may have)
TYPES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "image/jpeg": (b"\xff\xd8\xff", ("jpg", "jpeg")),
    "image/png": (b"\x89PNG\r\n\x1a\n", ("png",)),
    "application/pdf": (b"%PDF-", ("pdf",)),
}
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class EvidenceItem:
    id: int
    task_no: str
    filename: str
    media_type: str
    size: int
    sha256: str
    by: str
    at: dt.datetime


def sniff(data: bytes) -> str | None:
    """The media type the content starts like (JPEG, PNG, PDF), or None."""
    return next((t for t, (magic, _) in TYPES.items() if data.startswith(magic)), None)


def file_problem(filename: str, data: bytes, max_bytes: int) -> str | None:
    """Why this file cannot be attached (pure), or None."""
    if not data:
        return f"{filename}: the file is empty"
    if len(data) > max_bytes:
        return f"{filename}: {len(data)} bytes, more than the limit of {max_bytes}"
    kind = sniff(data)
    if kind is None:
        return f"{filename}: not a JPEG, PNG or PDF file (judged by its content)"
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in TYPES[kind][1]:
        return f"{filename}: the content is {kind} but the name ends in .{ext or '(nothing)'}"
    return None


def clean_filename(filename: str) -> str:
    """The last part of a path, without control characters; at most 200 characters."""
    name = re.split(r"[\\/]", filename or "")[-1].strip()
    check_text(name, "filename")
    if not name:
        raise InspectError("filename: the file has no name")
    return name[-200:]


def attach(
    engine: Engine,
    task_no: str,
    filename: str,
    data: bytes,
    by: str,
    now: dt.datetime,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> EvidenceItem:
    """Attach a file to a task (checked first; one transaction: blob, evidence row, log entry)."""
    name = clean_filename(filename)
    check_by(by)
    problem = file_problem(name, data, max_bytes)
    if problem:
        raise InspectError(problem)
    kind = sniff(data)
    assert kind is not None
    digest = hashlib.sha256(data).hexdigest()
    with write_transaction(engine) as conn:
        tid = task_id_of(conn, task_no)
        if conn.execute(select(EvidenceBlob.sha256).where(EvidenceBlob.sha256 == digest)).first() is None:
            conn.execute(insert(EvidenceBlob.__table__).values(sha256=digest, content=data))
        eid = insert_id(
            conn,
            Evidence.__table__,
            task_id=tid,
            filename=name,
            media_type=kind,
            size=len(data),
            sha256=digest,
            by=by,
            at=now,
        )
        append_pending(conn, now)
    return EvidenceItem(eid, task_no, name, kind, len(data), digest, by, now)


def list_evidence(engine: Engine, task_no: str) -> list[EvidenceItem]:
    """The task's evidence, in the order attached."""
    with engine.connect() as conn:
        tid = task_id_of(conn, task_no)
        rows = conn.execute(
            select(
                Evidence.id,
                Evidence.filename,
                Evidence.media_type,
                Evidence.size,
                Evidence.sha256,
                Evidence.by,
                Evidence.at,
            )
            .where(Evidence.task_id == tid)
            .order_by(Evidence.id)
        ).all()
    return [EvidenceItem(r.id, task_no, r.filename, r.media_type, r.size, r.sha256, r.by, r.at) for r in rows]


def get_evidence(engine: Engine, task_no: str, evidence_id: int) -> tuple[EvidenceItem, bytes]:
    """One attachment of the task and its bytes; InspectError if the task has no such attachment."""
    items = {i.id: i for i in list_evidence(engine, task_no)}
    item = items.get(evidence_id)
    if item is None:
        raise InspectError(f"task {task_no} has no evidence {evidence_id}")
    with engine.connect() as conn:
        data = conn.execute(select(EvidenceBlob.content).where(EvidenceBlob.sha256 == item.sha256)).scalar_one()
    return item, bytes(data)
