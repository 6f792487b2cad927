"""Public PDFs on disk and their records in `notices`: `check_target` (what may be written where),
`record_pdf` (guard, write, record — in the order the publish.service docstring gives, so that a
crash leaves something `check_files` reports), `list_notices`, and `check_files` (files on disk
against the records: ok, modified, missing, stray, unfinished)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import hashlib
import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from inspect_kit.errors import InspectError
from inspect_kit.periods import Period
from inspect_kit.publish.guard import guard_public, public_select
from inspect_kit.publish.sources import period_label
from inspect_kit.storage.helpers import insert_id
from inspect_kit.storage.models import Notice as NoticeRow
from inspect_kit.transparency.store import append_pending


@dataclass(frozen=True)
class NoticeRecord:
    """One row of `notices`, as listed."""

    id: int
    kind: str
    period: str
    matter_codes: list[str]
    task_ids: list[int]
    pending_task_ids: list[int]
    path: str
    file_sha256: str
    pages: int
    issued_on: dt.date
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(
            issued_on=self.issued_on.isoformat(),
            created_at=self.created_at.isoformat(),
            tasks=len(self.task_ids),
            pending=len(self.pending_task_ids),
        )
        return d


_PDF_MAGIC = b"%PDF-"


def latest_records(conn: Connection) -> dict[str, tuple[int, str, dt.date]]:
    """Resolved path → (id, SHA-256, issued on) of the latest notice recorded at that path."""
    rows = conn.execute(
        public_select(NoticeRow.id, NoticeRow.path, NoticeRow.file_sha256, NoticeRow.issued_on).order_by(NoticeRow.id)
    )
    return {r.path: (r.id, r.file_sha256, r.issued_on) for r in rows}


def check_target(engine: Engine, path: Path | str, *, force: bool = False) -> int | None:
    """Refuse (InspectError, nothing written) a target that is a folder, in no folder, an existing
    file that is not a PDF, or — unless ``force`` — any existing file. Returns the id of the
    notice recorded at that path that the new file will re-issue (None: a new path)."""
    path = Path(path)
    if path.is_dir():
        raise InspectError(f"{path} is a folder: give a file name ending in .pdf")
    if not path.parent.is_dir():
        raise InspectError(f"{path.parent}: no such folder")
    with engine.connect() as conn:
        recorded = latest_records(conn).get(str(path.resolve()))
    if not (path.exists() or path.is_symlink()):
        return recorded[0] if recorded else None
    if not path.is_file():
        raise InspectError(f"{path} exists and is not a regular file; nothing was written")
    with path.open("rb") as f:
        head = f.read(len(_PDF_MAGIC))
    if head != _PDF_MAGIC:
        raise InspectError(
            f"{path} exists and is not a PDF: refusing to overwrite it; choose another file name (nothing was written)"
        )
    if not force:
        what = f"notice #{recorded[0]} issued on {recorded[2]}" if recorded else "an existing PDF with no notice record"
        raise InspectError(
            f"{path} is {what}: refusing to overwrite it; pass --force to "
            f"{'re-issue it (recorded as a new notice for the same file)' if recorded else 'replace it'}"
            " (nothing was written)"
        )
    return recorded[0] if recorded else None


def _claim(tmp: Path, path: Path) -> None:
    """Put the written temporary file at ``path`` only if nothing is there (atomic, never replaces)."""
    try:
        os.link(tmp, path)  # fails if the path appeared meanwhile
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: check, then move (a narrow race)
        if path.exists():
            raise FileExistsError(errno.EEXIST, "a file appeared there meanwhile", str(path)) from None
        tmp.replace(path)


def insert_notice(engine: Engine, **values: Any) -> int:
    """Record a notice and log it (transparency log), in one transaction."""
    with engine.begin() as conn:
        notice_id = insert_id(conn, NoticeRow.__table__, **values)
        append_pending(conn, values["created_at"])
    return notice_id


@dataclass(frozen=True)
class RecordedFile:
    notice_id: int
    path: Path
    sha256: str
    pages: int
    size: int
    reissue_of: int | None = None  # the notice recorded before at the same path


def record_pdf(
    engine: Engine,
    pdf: bytes,
    path: Path | str,
    *,
    kind: str,
    period: str,
    issued_on: dt.date,
    now: dt.datetime,
    matter_codes: Sequence[str] = (),
    task_ids: Sequence[int] = (),
    pending_task_ids: Sequence[int] = (),
    force: bool = False,
    public: Sequence[str] = (),
    by: str | None = None,
) -> RecordedFile:
    """Check a public PDF, write it and record it (kind, period, file SHA-256, pages, date of
    issue) in the notices table, which the scoring of publicity on time reads.

    Refuses, writing nothing: a target `check_target` refuses (an existing file unless ``force``),
    and a PDF whose text, metadata or embedded files hold a private value (`privacy.check_public`;
    ``public``: phrases published on purpose, see `guard_public`).
    Steps: temporary file, record (committed), move into place — see the module docstring."""
    from pypdf import PdfReader

    path = Path(path)
    reissue_of = check_target(engine, path, force=force)
    guard_public(engine, str(path), pdf, "pdf", public)
    digest = hashlib.sha256(pdf).hexdigest()
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    values = dict(
        kind=kind,
        period=period,
        matter_codes=list(matter_codes),
        task_ids=list(task_ids),
        pending_task_ids=list(pending_task_ids),
        path=str(path.resolve()),
        file_sha256=digest,
        pages=pages,
        issued_on=issued_on,
        created_at=now,
        by=by,
    )
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pdf)
            f.flush()
            os.fsync(f.fileno())
        if force:  # record, then replace: a crash in between leaves a record its file does not match
            notice_id = insert_notice(engine, **values)
            try:
                tmp.replace(path)
            except OSError as exc:
                raise InspectError(
                    f"notice #{notice_id} was recorded but {path} could not be written "
                    f"({exc.strerror or exc}); `inspect publish check` lists it"
                ) from None
        else:  # claim the path, then record: a crash in between leaves a stray file, nothing else
            try:
                _claim(tmp, path)
            except FileExistsError:
                raise InspectError(f"{path} was created by someone else meanwhile: nothing was written") from None
            try:
                notice_id = insert_notice(engine, **values)
            except BaseException:
                path.unlink(missing_ok=True)  # ours, just claimed: no record, so no file
                raise
    finally:
        tmp.unlink(missing_ok=True)
    return RecordedFile(notice_id, path, digest, pages, len(pdf), reissue_of)


def list_notices(engine: Engine, kind: str | None = None, period: Period | str | None = None) -> list[NoticeRecord]:
    """Every recorded notice (oldest first), optionally of one kind and period."""
    stmt = public_select(NoticeRow.__table__).order_by(NoticeRow.id)
    if kind:
        stmt = stmt.where(NoticeRow.kind == kind)
    if period:
        stmt = stmt.where(NoticeRow.period == period_label(period))
    with engine.connect() as conn:
        return [
            NoticeRecord(
                r.id,
                r.kind,
                r.period,
                list(r.matter_codes or []),
                [int(i) for i in r.task_ids or []],
                [int(i) for i in r.pending_task_ids or []],
                r.path,
                r.file_sha256,
                r.pages,
                r.issued_on,
                r.created_at,
            )
            for r in conn.execute(stmt)
        ]


@dataclass(frozen=True)
class FileCheck:
    """One finding of `check_files`: ``status`` ok | modified | missing | stray | unfinished."""

    status: str
    path: str
    notice_id: int | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def line(self) -> str:
        who = f"notice #{self.notice_id}: " if self.notice_id else ""
        return f"{self.status.upper():10} {who}{self.path}" + (f" — {self.detail}" if self.detail else "")


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_files(engine: Engine, folder: Path | str | None = None) -> list[FileCheck]:
    """Compare the notice files on disk with the records.

    Each path's latest record (earlier rows of the same path are superseded re-issues) must find
    its file with the recorded SHA-256 (else "missing" or "modified"). Every PDF in ``folder``
    (recursively; default: the folders of the recorded notices) that no record names is "stray",
    and a temporary file left by an interrupted publish (".<name>.pdf.<random>.tmp") is "unfinished".
    With ``folder``, only the records of files inside it are checked. Sorted by path.
    """
    with engine.connect() as conn:
        latest = latest_records(conn)
    base = Path(folder).resolve() if folder is not None else None
    if base is not None and not base.is_dir():
        raise InspectError(f"{folder}: no such folder")
    out: list[FileCheck] = []
    for path, (notice_id, digest, _) in latest.items():
        p = Path(path)
        if base is not None and not p.is_relative_to(base):
            continue
        if not p.is_file():
            out.append(FileCheck("missing", path, notice_id, "recorded, but no file"))
        else:
            actual = _sha256_of(p)
            out.append(
                FileCheck("ok", path, notice_id)
                if actual == digest
                else FileCheck("modified", path, notice_id, f"sha256 {actual[:16]}… on disk, {digest[:16]}… recorded")
            )
    folders = [base] if base is not None else sorted({Path(p).parent for p in latest if Path(p).parent.is_dir()})
    seen: set[Path] = set()
    for d in folders:
        for p in sorted(d.rglob("*") if base is not None else d.iterdir()):
            if p in seen or not p.is_file():
                continue
            seen.add(p)
            name = p.name.lower()
            if name.endswith(".pdf") and str(p.resolve()) not in latest:
                out.append(FileCheck("stray", str(p), None, "a PDF with no notice record"))
            elif name.startswith(".") and ".pdf." in name and name.endswith(".tmp"):
                out.append(FileCheck("unfinished", str(p), None, "left by an interrupted publish; delete it"))
    return sorted(out, key=lambda c: (c.path, c.status))
