"""The document model of a public notice, and ``render`` / ``attach`` that turn it into PDF bytes.

The model is plain dataclasses of strings, so that notices.py can build a drawn-list notice (one
Section per matter, each with its Table, then a verification Section) or a results notice (one
Section per matter with a summary paragraph and a per-task Table) without touching ReportLab.

Rendering is deterministic: the same NoticeDocument, fonts and creation date give the same bytes (ReportLab
runs in invariant mode, pypdf's file identifier is derived from the content, not random).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from inspect_kit.errors import InspectError
from inspect_kit.publish.fonts import FontConfig, FontSet, Role

if TYPE_CHECKING:
    from pypdf import PdfWriter

    from inspect_kit.publish.layout import PageGeometry

CHINA_TZ = dt.timezone(dt.timedelta(hours=8))
_NUMERALS = "〇一二三四五六七八九"


def chinese_date(d: dt.date) -> str:
    """成文日期 as GB/T 9704 writes it: Arabic numerals, no leading zeros — "2026年1月5日"."""
    return f"{d.year}年{d.month}月{d.day}日"


def doc_number(year: int, serial: int, prefix: str = "") -> str:
    """发文字号: ``doc_number(2026, 5, "某环")`` → "某环〔2026〕5号" (六角括号, no leading zeros)."""
    return f"{prefix}〔{year}〕{serial}号"


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一, 100 → 一百 (for heading numbers, 1..999)."""
    if not 0 < n < 1000:
        raise ValueError(f"heading numbers run from 1 to 999, not {n}")
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    out = f"{_NUMERALS[hundreds]}百" if hundreds else ""
    if tens:
        out += ("" if tens == 1 and not hundreds else _NUMERALS[tens]) + "十"
    elif hundreds and units:
        out += "零"
    return out + (_NUMERALS[units] if units else "")


def heading_number(n: int, level: int = 1) -> str:
    """结构层次序数: level 1 "一、", 2 "（一）", 3 "1.", 4 "（1）"."""
    return {1: f"{chinese_numeral(n)}、", 2: f"（{chinese_numeral(n)}）", 3: f"{n}.", 4: f"（{n}）"}[level]


@dataclass
class Table:
    """A table with one header row; ``rows`` may run to tens of thousands.

    ``col_widths_mm`` must add up to at most the 156 mm measure; ``None`` sizes columns from their
    content. ``align`` gives "left", "center" or "right" per column (default left).
    """

    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    col_widths_mm: Sequence[float] | None = None
    align: Sequence[str] | None = None
    caption: str | None = None


@dataclass
class Section:
    """A heading (written in full, e.g. "一、抽查事项"), paragraphs, an optional table, notes after it.

    Level 1 headings are set in the heading face (黑体), deeper levels in the body face. ``qr``
    (text, usually a URL) is drawn as a centred QR code after the notes (inspect_kit.publish.qr).
    """

    heading: str | None = None
    paragraphs: Sequence[str] = ()
    table: Table | None = None
    notes: Sequence[str] = ()
    level: int = 1
    qr: str | None = None


@dataclass
class Attachment:
    """附件: starts on a new page with "附件N" and its centred title, then its sections."""

    title: str
    sections: Sequence[Section] = ()


@dataclass
class NoticeDocument:
    """A public notice (公示 / 公告) laid out as an official document.

    ``signature`` defaults to ``issuer``. ``letterhead`` (发文机关标志, e.g. "某某市生态环境局文件")
    adds a red header with ``doc_number`` under it; without it the number is centred under the
    title. ``files`` are embedded in the PDF (e.g. the draw bundle JSON) as (name, bytes).
    """

    issuer: str
    title: str
    issue_date: dt.date
    doc_number: str | None = None
    addressee: str | None = None
    intro: Sequence[str] = ()
    sections: Sequence[Section] = ()
    closing: Sequence[str] = ()
    signature: str | None = None
    attachments: Sequence[Attachment] = ()
    files: Sequence[tuple[str, bytes]] = ()
    letterhead: str | None = None
    keywords: Sequence[str] = field(default_factory=tuple)


def attachment_label(index: int, count: int) -> str:
    return "附件" if count == 1 else f"附件{index}"


def attachment_note_items(notice: NoticeDocument) -> list[str]:
    """The lines of 附件说明 after "附件：" — "1.标题" each, or the bare title for a single one."""
    titles = [a.title for a in notice.attachments]
    return titles if len(titles) == 1 else [f"{i}.{t}" for i, t in enumerate(titles, 1)]


def located_texts(notice: NoticeDocument) -> Iterator[tuple[str, str, Role]]:
    """Every string that will be drawn, with where it is (for messages) and its font role."""
    if notice.letterhead:
        yield "letterhead", notice.letterhead, Role.TITLE
    if notice.doc_number:
        yield "doc number", notice.doc_number, Role.BODY
    yield "title", notice.title, Role.TITLE
    if notice.addressee:
        yield "addressee", notice.addressee, Role.BODY
    for i, text in enumerate(notice.intro, 1):
        yield f"intro paragraph {i}", text, Role.BODY
    tables = itertools.count(1)  # tables are numbered through the whole document
    yield from _section_texts(notice.sections, "section", tables)
    for i, text in enumerate(notice.closing, 1):
        yield f"closing paragraph {i}", text, Role.BODY
    if notice.attachments:
        yield "attachment note", "附件：" + "".join(attachment_note_items(notice)), Role.BODY
    yield "signature", notice.signature or notice.issuer, Role.BODY
    yield "issue date", chinese_date(notice.issue_date), Role.BODY
    for i, attachment in enumerate(notice.attachments, 1):
        yield f"attachment {i} label", attachment_label(i, len(notice.attachments)), Role.HEADING
        yield f"attachment {i} title", attachment.title, Role.TITLE
        yield from _section_texts(attachment.sections, f"attachment {i}, section", tables)
    yield "page numbers", "— 0123456789 —", Role.BODY


def _section_texts(sections: Sequence[Section], prefix: str, tables: Iterator[int]) -> Iterator[tuple[str, str, Role]]:
    for i, section in enumerate(sections, 1):
        if section.heading:
            yield f"{prefix} {i} heading", section.heading, Role.HEADING if section.level == 1 else Role.BODY
        for j, text in enumerate(section.paragraphs, 1):
            yield f"{prefix} {i} paragraph {j}", text, Role.BODY
        if section.table is not None:
            yield from _table_texts(section.table, f"table {next(tables)}")
        for j, text in enumerate(section.notes, 1):
            yield f"{prefix} {i} note {j}", text, Role.BODY


def _table_texts(table: Table, where: str) -> Iterator[tuple[str, str, Role]]:
    if table.caption:
        yield f"{where}, caption", table.caption, Role.BODY
    for c, name in enumerate(table.columns, 1):
        yield f"{where}, header column {c}", cell_text(name), Role.HEADING
    for r, row in enumerate(table.rows, 1):
        for name, cell in zip(table.columns, row):
            yield f"{where}, row {r}, column {name}", cell_text(cell), Role.BODY


def cell_text(value: object) -> str:
    return "" if value is None else str(value)


def validate_tables(notice: NoticeDocument) -> None:
    """Raise InspectError for a table whose rows, widths or alignments do not match its columns."""
    sections = list(notice.sections) + [s for a in notice.attachments for s in a.sections]
    for number, table in enumerate((s.table for s in sections if s.table is not None), 1):
        for r, row in enumerate(table.rows, 1):
            if len(row) != len(table.columns):
                raise InspectError(f"table {number}, row {r}: {len(row)} cells for {len(table.columns)} columns")
        for name, value in (("col_widths_mm", table.col_widths_mm), ("align", table.align)):
            if value is not None and len(value) != len(table.columns):
                raise InspectError(f"table {number}: {name} has {len(value)} entries for {len(table.columns)} columns")
        unknown = set(table.align or ()) - {"left", "center", "right"}
        if unknown:
            raise InspectError(f"table {number}: align must be left, center or right, not {sorted(unknown)}")


def metadata_title(title: str) -> str:
    """The title as one line for PDF metadata: the line breaks chosen for the printed title go."""
    return "".join(part.strip() for part in title.splitlines())


def render(
    notice: NoticeDocument,
    fonts: FontConfig | None = None,
    creation_date: dt.datetime | dt.date | None = None,
    path: str | Path | None = None,
    geometry: PageGeometry | None = None,
) -> bytes:
    """Render ``notice`` to PDF bytes (and write them to ``path`` if given).

    Every character is checked against the fonts first (MissingGlyphError names each one and
    where it is). ``creation_date`` goes into the PDF's metadata; by default it is the issue date
    at 00:00 China time, so rebuilding the same notice gives the same bytes.
    """
    from inspect_kit.publish import layout
    from inspect_kit.publish.compose import compose

    fontset = FontSet.load(fonts)
    validate_tables(notice)
    fontset.check(located_texts(notice))
    geometry = geometry or layout.PageGeometry()
    pdf = layout.build_pdf(compose(notice, fontset, geometry), fontset, geometry)
    when = creation_date if creation_date is not None else notice.issue_date
    title = metadata_title(notice.title)
    info = {
        "/Title": title,
        "/Author": notice.issuer,
        "/Subject": notice.doc_number or title,
        "/Keywords": ", ".join(notice.keywords),
        "/Creator": "inspect-kit",
    }
    pdf = finish_pdf(pdf, info, when, notice.files)
    if path is not None:
        Path(path).write_bytes(pdf)
    return pdf


def pdf_date(when: dt.datetime | dt.date) -> str:
    """PDF date string; a naive datetime or a bare date is taken as China time (UTC+8)."""
    if not isinstance(when, dt.datetime):
        when = dt.datetime(when.year, when.month, when.day)
    if when.tzinfo is None:
        when = when.replace(tzinfo=CHINA_TZ)
    offset = when.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"D:{when:%Y%m%d%H%M%S}{sign}{minutes // 60:02d}'{minutes % 60:02d}'"


def finish_pdf(
    pdf: bytes, info: dict[str, str], when: dt.datetime | dt.date, files: Sequence[tuple[str, bytes]] = ()
) -> bytes:
    """Set metadata and embed ``files`` with pypdf, keeping the output a function of the input."""
    writer = _writer(pdf)
    stamp = pdf_date(when)
    info = {k: v for k, v in info.items() if v}
    writer.add_metadata({**info, "/CreationDate": stamp, "/ModDate": stamp})
    for name, data in files:
        _embed(writer, name, data)
    seed = [pdf, stamp.encode(), repr(sorted(info.items())).encode()]
    seed += [name.encode() + hashlib.sha256(data).digest() for name, data in files]
    return _write(writer, seed, new_file=True)


def attach(pdf_bytes: bytes, name: str, data: bytes) -> bytes:
    """Embed ``data`` as file ``name`` in ``pdf_bytes``; deterministic (same inputs, same bytes)."""
    writer = _writer(pdf_bytes)
    _embed(writer, name, data)
    return _write(writer, seed=[pdf_bytes, name.encode(), hashlib.sha256(data).digest()])


def embedded_files(pdf_bytes: bytes) -> dict[str, bytes]:
    """The files embedded in a PDF, by name (for tests and for verifying a published notice)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_bytes))
    return {f.name: f.content for f in reader.attachment_list}


def _writer(pdf: bytes) -> PdfWriter:
    from pypdf import PdfReader, PdfWriter

    return PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))


def _embed(writer: PdfWriter, name: str, data: bytes) -> None:
    from pypdf.generic import NameObject, NumberObject, TextStringObject

    embedded = writer.add_attachment(name, data)
    # /UF lets readers show a Chinese file name; /Size lets them list the file without reading it.
    embedded.pdf_object[NameObject("/UF")] = TextStringObject(name)
    embedded.size = NumberObject(len(data))
    # pypdf stores the file uncompressed; draw bundles are JSON and shrink several times.
    stream = embedded._embedded_file
    assert stream.indirect_reference is not None  # add_attachment stores the file as an indirect object
    writer._replace_object(stream.indirect_reference, stream.flate_encode(level=9))


def _write(writer: PdfWriter, seed: Sequence[bytes], new_file: bool = False) -> bytes:
    from pypdf.generic import ArrayObject, ByteStringObject

    # ReportLab's invariant mode writes the same /ID into every PDF and pypdf would draw a random
    # one; derive it from the content instead. A new file gets two equal halves; a changed file
    # keeps the first (its permanent identity) and gets a new second half, as the PDF spec asks.
    digest = ByteStringObject(hashlib.md5(b"\0".join(seed), usedforsecurity=False).digest())
    first = digest if new_file or not writer._ID else writer._ID[0]
    writer._ID = ArrayObject([first, digest])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
