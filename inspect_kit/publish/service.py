"""Public notices against the database: read the draws, tasks and findings of a period, build
the notice (inspect_kit.publish.notices), render it, write it, and record it in `notices`.

Library first: every function takes an Engine, the Config and plain values (period, issue date,
output path, the caller's clock `now`) and returns a dataclass; the CLI is a thin shell.

One notice per issuing unit. A notice is issued by one authority (发文机关): the unit of its
matters (`matter.unit` in matters.toml; its `issuer` in units.toml, else its name). When the
draws of a period belong to several units, pass `unit=` (or `--unit`), or, in the CLI, give a
folder as `-o` to write one notice per unit; `notice_units` lists them. A joint matter
(部门联合, several departments in `team`) is published by its lead unit and names every
department as 检查实施机关.

Personal data never reaches a notice: every query goes through `public_select`, which refuses
any column marked ``info={"private": True}`` (phone, legal representative ...); free text is
scrubbed by `notices.scrub`; identifiers that are resident ID numbers are refused. Then the
registries' own private values (`private_values`: every private column, plus officers' names)
are masked in every string the notice prints (`privacy.mask_notice`), and the rendered bytes —
page text, metadata and every embedded file — pass the one public-output guard
(`privacy.check_public`) in `record_pdf`, which every public PDF (notices, the score report) goes
through: a private value left anywhere refuses the file, and nothing is written.

Files on disk and records agree. `record_pdf` never overwrites an existing file unless `force`
(then the new row for the same path is a re-issue: `notices` is append-only, the latest row of a
path is the one its file must match), and never a file that is not a PDF. Order of the steps:
write a temporary file beside the target (fsync); then, for a new file, put it in place without
replacing anything (a hard link: atomic, and two publishers cannot both win) and record it — a
crash in between leaves a PDF with no record; for a forced re-issue, record it and then replace
the file — a crash in between leaves a record whose file does not match. `check_files`
(`inspect publish check`) reports both (STRAY, MODIFIED), a record without its file (MISSING), and
a temporary file left by a crash (UNFINISHED).

Deterministic: the same database state, issue date and fonts give byte-identical files (the
PDF creation date is the issue date unless `creation_date` is given). Every file written is
recorded (append-only) with its SHA-256, page count, matters, tasks and pending tasks, so that
publicity on time can be scored later; `inspect_kit.findings.service.published_on` reads it.

This module is the facade (callers import from it); the work is done in modules that each hold
one part, re-exported here:

- guard.py          public_select, private_values, guard_public, private_value_warnings.
- sources.py        the current draws of a period, the issuing unit and authority, fonts.
- build_draw.py     build_draw_notice (and the embedded bundles).
- build_results.py  build_results_notice.
- files.py          check_target, record_pdf, list_notices, check_files.
Here: publish_draw / publish_results (build, mask, render, record) and the NOTICE_KINDS table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from inspect_kit.config import Config
from inspect_kit.periods import Period
from inspect_kit.publish import notices as nt
from inspect_kit.publish import privacy
from inspect_kit.publish.build_draw import build_draw_notice, bundle_bytes
from inspect_kit.publish.build_results import build_results_notice
from inspect_kit.publish.files import (
    FileCheck,
    NoticeRecord,
    RecordedFile,
    check_files,
    check_target,
    list_notices,
    record_pdf,
)
from inspect_kit.publish.guard import (
    PUBLISHED_FINDING_TEXT,
    PrivateColumnError,
    guard_public,
    private_value_warnings,
    private_values,
    public_select,
)
from inspect_kit.publish.sources import BuiltNotice, fonts_from_config, notice_units

__all__ = [
    "BuiltNotice",
    "FileCheck",
    "NoticeRecord",
    "PrivateColumnError",
    "PublishedNotice",
    "build_draw_notice",
    "bundle_bytes",
    "build_results_notice",
    "check_files",
    "check_target",
    "fonts_from_config",
    "guard_public",
    "list_notices",
    "notice_units",
    "private_values",
    "private_value_warnings",
    "public_select",
    "publish_draw",
    "publish_results",
    "record_pdf",
    "RecordedFile",
    "PUBLISHED_FINDING_TEXT",
    "NoticeKind",
    "NOTICE_KINDS",
]


@dataclass(frozen=True)
class PublishedNotice:
    """A notice written to ``path`` and recorded as notices row ``notice_id``."""

    notice_id: int
    kind: str  # draw | results
    period: str
    unit: str
    issuer: str
    path: Path
    sha256: str
    pages: int
    size: int
    issued_on: dt.date
    matter_codes: list[str]
    task_ids: list[int]
    pending_task_ids: list[int]
    files: list[str]  # names of the embedded files (draw bundles)
    pending_task_nos: list[str] = dataclasses.field(default_factory=list)
    reissue_of: int | None = None  # the notice recorded before at the same path (published with force)
    estimates: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # results: what the sample says

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(path=str(self.path), issued_on=self.issued_on.isoformat())
        return d

    def line(self) -> str:
        tasks = f"{len(self.task_ids)} tasks" + (
            f", {len(self.pending_task_ids)} pending (待录入)" if self.pending_task_ids else ""
        )
        files = f"; embedded {', '.join(self.files)}" if self.files else ""
        return (
            f"wrote {self.path}: {self.kind} notice of {self.period} by {self.issuer}, {self.pages} pages, "
            f"{', '.join(self.matter_codes)} ({tasks}){files}; sha256 {self.sha256}; notice #{self.notice_id}"
            + (f" (re-issue of notice #{self.reissue_of})" if self.reissue_of else "")
        )


def _issue(
    engine: Engine,
    kind: str,
    built: BuiltNotice,
    path: Path | str,
    issue_date: dt.date,
    now: dt.datetime,
    fonts: Any,
    creation_date: dt.datetime | dt.date | None,
    force: bool = False,
    by: str | None = None,
) -> PublishedNotice:
    from inspect_kit.publish import render

    check_target(engine, path, force=force)  # before the rendering: a refused target costs nothing
    public = privacy.declared_public(built.notice.files)  # the draws' witnesses
    notice = privacy.mask_notice(built.notice, private_values(engine).allowing(public))
    pdf = render(notice, fonts, creation_date if creation_date is not None else issue_date)
    rec = record_pdf(
        engine,
        pdf,
        path,
        kind=kind,
        period=built.period,
        issued_on=issue_date,
        now=now,
        matter_codes=built.matter_codes,
        task_ids=built.task_ids,
        pending_task_ids=built.pending_task_ids,
        force=force,
        public=public,
        by=by,
    )
    return PublishedNotice(
        rec.notice_id,
        kind,
        built.period,
        built.unit,
        built.issuer,
        rec.path,
        rec.sha256,
        rec.pages,
        rec.size,
        issue_date,
        built.matter_codes,
        built.task_ids,
        built.pending_task_ids,
        [name for name, _ in built.notice.files],
        built.pending_task_nos,
        rec.reissue_of,
        built.estimates,
    )


def publish_draw(
    engine: Engine,
    config: Config,
    period: Period | str,
    *,
    path: Path | str,
    issue_date: dt.date,
    now: dt.datetime,
    unit: str | None = None,
    matters: Sequence[str] | None = None,
    creation_date: dt.datetime | dt.date | None = None,
    fonts: Any = None,
    doc_number: str | None = None,
    force: bool = False,
    by: str | None = None,
) -> PublishedNotice:
    """Write the drawn-list notice (抽查对象名单公示) of ``period`` to ``path`` and record it.

    The current draw of every matter of the unit (``unit``, or the only unit with draws in the
    period; ``matters`` narrows further) is listed, verified and embedded as its bundle JSON.
    ``fonts`` defaults to settings.publish; ``creation_date`` (PDF metadata) to the issue date.
    An existing file at ``path`` is refused unless ``force`` (a re-issue, see `record_pdf`). ``by``: the web user.
    """
    built = build_draw_notice(
        engine, config, period, issue_date=issue_date, unit=unit, matters=matters, doc_number=doc_number
    )
    return _issue(
        engine,
        "draw",
        built,
        path,
        issue_date,
        now,
        fonts if fonts is not None else fonts_from_config(config),
        creation_date,
        force,
        by,
    )


def publish_results(
    engine: Engine,
    config: Config,
    period: Period | str,
    *,
    path: Path | str,
    issue_date: dt.date,
    now: dt.datetime,
    unit: str | None = None,
    matters: Sequence[str] | None = None,
    allow_incomplete: bool = False,
    creation_date: dt.datetime | dt.date | None = None,
    fonts: Any = None,
    codebook: Any = None,
    doc_number: str | None = None,
    force: bool = False,
    by: str | None = None,
) -> PublishedNotice:
    """Write the results notice (抽查结果公示) of ``period`` to ``path`` and record it.

    Refuses while tasks lack a finding unless ``allow_incomplete`` (they are then listed as 待录入
    and recorded in ``pending_task_ids``, so they do not count as published). An existing file at
    ``path`` is refused unless ``force`` (a re-issue, see `record_pdf`).
    """
    built = build_results_notice(
        engine,
        config,
        period,
        issue_date=issue_date,
        unit=unit,
        matters=matters,
        allow_incomplete=allow_incomplete,
        codebook=codebook,
        doc_number=doc_number,
    )
    return _issue(
        engine,
        "results",
        built,
        path,
        issue_date,
        now,
        fonts if fonts is not None else fonts_from_config(config),
        creation_date,
        force,
        by,
    )


@dataclass(frozen=True)
class NoticeKind:
    """One kind of public notice: its code (stored in notices.kind), its file name stem, and the
    library function that builds, writes and records it. A new kind is one entry of NOTICE_KINDS."""

    code: str
    file_stem: str
    publish: Any  # (engine, config, period, *, path, issue_date, now, unit, matters, ...) -> PublishedNotice
    description: str


NOTICE_KINDS: dict[str, NoticeKind] = {
    "draw": NoticeKind("draw", nt.DRAW_NOTICE_FILE, publish_draw, "抽查对象名单公示 (the drawn list)"),
    "results": NoticeKind("results", nt.RESULTS_NOTICE_FILE, publish_results, "抽查结果公示 (the results)"),
}
