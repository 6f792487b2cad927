"""An adversarial corpus of input files, generated at run time: zip bombs (a huge cell, a huge
declared dimension), damaged and cut-off workbooks, oversized CSV cells, wrong encodings, control
and bidirectional characters, duplicate headers, files without data rows, formula-looking cells.

Nothing here is stored in the repository: every file is written by these functions into a
temporary folder, so the corpus cannot go stale and a bomb never sits on disk between runs.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Sequence

# -- a minimal hand-written zip writer: parts given as raw deflate streams ----------------------


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def write_zip(path: Path, parts: Sequence[tuple[str, bytes, int, int]]) -> Path:
    """A zip archive of (name, raw deflate stream, CRC-32, uncompressed size) parts, as written by
    any zip tool; lets a test declare the true size of a part it never holds in memory."""
    out = io.BytesIO()
    central = []
    for name, data, crc, size in parts:
        offset = out.tell()
        n = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(n), 0) + n)
        out.write(data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(n),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + n
        )
    start = out.tell()
    for c in central:
        out.write(c)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), out.tell() - start, start, 0))
    path.write_bytes(out.getvalue())
    return path


def _plain_parts(xlsx: Path, skip: set[str]) -> list[tuple[str, bytes, int, int]]:
    with zipfile.ZipFile(xlsx) as z:
        return [
            (i.filename, _deflate(data), zlib.crc32(data), len(data))
            for i in z.infolist()
            if i.filename not in skip
            for data in [z.read(i)]
        ]


def _repeated(prefix: bytes, unit: bytes, times: int, suffix: bytes) -> tuple[bytes, int, int]:
    """The raw deflate stream, CRC-32 and size of prefix + unit * times + suffix, built from ONE
    compressed copy of `unit`: after a full flush the compressor starts afresh, so every copy
    compresses to the same bytes, which may simply be repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = c.compress(suffix) + c.flush()
    crc = zlib.crc32(prefix)
    for _ in range(times):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(suffix, crc)
    return head + block * times + tail, crc, len(prefix) + len(unit) * times + len(suffix)


# -- workbooks -----------------------------------------------------------------------------------


def write_xlsx(path: Path, rows: Sequence[Sequence[object]], *, text_cells: bool = True) -> Path:
    """A real workbook (openpyxl); with text_cells, every str cell is stored as text, so a cell
    starting with '=' is the text '=...', not a formula."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for i, row in enumerate(rows, start=1):
        for j, v in enumerate(row, start=1):
            cell = ws.cell(i, j)
            cell.value = v
            if text_cells and isinstance(v, str):
                cell.data_type = "s"
    wb.save(path)
    return path


def xlsx_cell_bomb(path: Path, gib: float = 1.5, where: str = "sheet") -> Path:
    """About 1.5 MB on disk, one cell of `gib` GiB of 'A' inflated: in the sheet as an inline
    string, or in the shared strings."""
    base = write_xlsx(path.with_name(path.stem + "-base.xlsx"), [["名称", "类别"], ["x", "y"]])
    mib = 1 << 20
    if where == "sheet":
        name = "xl/worksheets/sheet1.xml"
        prefix = (
            b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><dimension ref="A1:B2"/><sheetData><row r="1"><c r="A1" t="inlineStr">'
            b"<is><t>"
        )
        suffix = b"</t></is></c></row></sheetData></worksheet>"
    else:
        name = "xl/sharedStrings.xml"
        prefix = (
            b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main" count="4" uniqueCount="4"><si><t>'
        )
        suffix = b"</t></si><si><t>b</t></si><si><t>x</t></si><si><t>y</t></si></sst>"
    data, crc, size = _repeated(prefix, b"A" * mib, int(gib * 1024), suffix)
    write_zip(path, [p for p in _plain_parts(base, {name})] + [(name, data, crc, size)])
    base.unlink()
    return path


def xlsx_with_sheet_xml(
    path: Path, transform, rows: Sequence[Sequence[object]], name: str = "xl/worksheets/sheet1.xml"
) -> Path:
    """A real workbook of `rows` whose sheet XML (or another part) goes through transform(bytes) -> bytes."""
    base = write_xlsx(path.with_name(path.stem + "-base.xlsx"), rows)
    with zipfile.ZipFile(base) as z:
        sheet = transform(z.read(name))
    write_zip(path, _plain_parts(base, {name}) + [(name, _deflate(sheet), zlib.crc32(sheet), len(sheet))])
    base.unlink()
    return path


def xlsx_dimension_bomb(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    """A few rows, but a declared dimension of 5,000 rows × 16,384 columns: a reader that trusts it
    pads every row to 16,384 cells and makes up the missing rows (82 million cells)."""
    import re

    return xlsx_with_sheet_xml(
        path, lambda x: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD5000"', x), rows
    )


def xlsx_wide_row(path: Path, rows: Sequence[Sequence[object]], column: str = "ZZ") -> Path:
    """No declared dimension, and one cell far to the right (ZZ = column 702)."""
    import re

    def spoil(x: bytes) -> bytes:
        x = re.sub(rb"<dimension [^>]*/>", b"", x)
        return x.replace(b"</row>", f'<c r="{column}1" t="inlineStr"><is><t>far</t></is></c></row>'.encode(), 1)

    return xlsx_with_sheet_xml(path, spoil, rows)


def xlsx_entity_expansion(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    """The "billion laughs": nested entities that expand 10^9 times, used in the sheet's first cell."""
    import re

    lol = (
        b'<!DOCTYPE lolz [<!ENTITY lol0 "lollollollollollollollollollol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10))
        + b"]>"
    )

    def spoil(x: bytes) -> bytes:
        x = x.replace(b"?>", b"?>" + lol, 1) if x.startswith(b"<?xml") else lol + x
        return re.sub(rb"(<is><t>)[^<]*", rb"\1&lol9;", x, count=1)

    return xlsx_with_sheet_xml(path, spoil, rows)


def xlsx_truncated_xml(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    """A valid archive whose sheet XML stops in the middle of the rows."""
    return xlsx_with_sheet_xml(path, lambda x: x[: int(len(x) * 0.6)], rows)


def xlsx_long_cell(path: Path, rows: Sequence[Sequence[object]], row: int, col: int, chars: int) -> Path:
    """rows with the cell (row, col) holding `chars` characters: more than openpyxl would write."""
    marker = "LONG-CELL-MARKER"
    return xlsx_with_sheet_xml(
        path, lambda x: x.replace(marker.encode(), ("长" * chars).encode()), spoiled(rows, col, marker, row)
    )


def truncated_file(path: Path, source: Path) -> Path:
    """The first half of `source`'s bytes: an archive cut off in transfer."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


# -- text files ----------------------------------------------------------------------------------


def write_csv(path: Path, rows: Sequence[Sequence[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def spoiled(rows: Sequence[Sequence[str]], col: int, text: str, row: int = 1) -> list[list[str]]:
    """rows with rows[row][col] replaced by text."""
    out = [list(r) for r in rows]
    out[row][col] = text
    return out


# Characters every reader must refuse, with the words the refusal names them by.
REFUSED = {
    "NUL": ("A\x00B", "U+0000 (NUL)"),
    "escape": ("\x1b[31m红色\x1b[0m", "U+001B (ESCAPE)"),
    "C1 next line": ("甲\x85乙", "U+0085"),
    "RLO": ("青山县\u202eLTD司公限有", "U+202E"),
    "isolate": ("x\u2066y\u2069", "U+2066"),
    "RLM": ("名称\u200f", "U+200F"),
}

# Cells that look like spreadsheet formulas: imports store them as the text they are.
FORMULA_LOOKING = ['=HYPERLINK("http://example.invalid","点我")', "+1+1", "-2+3", "@SUM(A1:A2)", "=cmd|' /C calc'!A0"]
