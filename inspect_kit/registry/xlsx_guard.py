"""The archive and size guard for .xlsx files, applied BEFORE openpyxl parses anything: a hostile
workbook (a zip bomb, a sheet declaring a billion cells, thousands of parts) is refused from the zip
directory and the first 64 KiB of each sheet, with one line naming the file, the part and the limit.

Limits: at most XLSX_MAX_PARTS parts and XLSX_MAX_SHEETS worksheets; no part larger than
XLSX_MAX_PART_BYTES uncompressed, all together at most XLSX_MAX_TOTAL_BYTES, the shared strings at
most XLSX_MAX_SHARED_STRINGS_BYTES; no part over 1 MiB that expands more than XLSX_MAX_RATIO times;
each sheet's declared <dimension> at most MAX_COLUMNS columns, XLSX_MAX_ROWS rows and
XLSX_MAX_CELLS cells. The declared sizes bind: zipfile never inflates a part past them. A file that
is empty, not a zip archive (a .csv or .xls renamed), or cut off is refused as such.
"""

from __future__ import annotations

import re
from pathlib import Path

from inspect_kit.errors import InspectError
from inspect_kit.registry.table import MAX_COLUMNS

XLSX_MAX_ROWS = 1_048_576  # the most rows an .xlsx sheet can have
XLSX_MAX_CELLS = 50_000_000  # declared rows × columns of one sheet (a million rows of 50 columns)
XLSX_MAX_PARTS = 10_000  # files inside the zip archive
XLSX_MAX_SHEETS = 255  # worksheets: a findings template has one per matter
XLSX_MAX_PART_BYTES = 2 << 30  # uncompressed size of one part (a million-row sheet is ~1 GB of XML)
XLSX_MAX_TOTAL_BYTES = 4 << 30  # uncompressed size of all parts together
XLSX_MAX_SHARED_STRINGS_BYTES = 512 << 20  # openpyxl holds the shared strings in memory
XLSX_MAX_RATIO = 100  # uncompressed / compressed, for parts over 1 MiB; real sheets stay under ~30
_RATIO_FLOOR = 1 << 20

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Z]{1,3})\$?(\d{1,7})(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?\"")
_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData[\s>/]")


def _column_number(letters: bytes) -> int:
    n = 0
    for b in letters:
        n = n * 26 + b - 64
    return n


def check_xlsx(path: Path) -> None:
    """Refuse an .xlsx whose archive or declared sheet sizes exceed the limits (see the module
    docstring), from the zip directory and the first 64 KiB of each sheet, before any parsing."""
    import zipfile

    if path.stat().st_size == 0:
        raise InspectError(f"{path}: the file is empty")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InspectError(
            f"{path}: not a valid .xlsx file: it is not a zip archive, or it is cut off ({exc})"
        ) from None
    with archive:
        parts = archive.infolist()
        if len(parts) > XLSX_MAX_PARTS:
            raise InspectError(f"{path}: {len(parts):,} parts in the archive; at most {XLSX_MAX_PARTS:,}")
        sheets = sum(1 for p in parts if p.filename.startswith("xl/worksheets/") and p.filename.endswith(".xml"))
        if sheets > XLSX_MAX_SHEETS:
            raise InspectError(f"{path}: {sheets:,} worksheets; at most {XLSX_MAX_SHEETS}")
        total = 0
        for p in parts:
            total += p.file_size
            limit = (
                XLSX_MAX_SHARED_STRINGS_BYTES
                if p.filename.lower().endswith("sharedstrings.xml")
                else XLSX_MAX_PART_BYTES
            )
            if p.file_size > limit:
                raise InspectError(
                    f"{path}: the part {p.filename} is {p.file_size:,} bytes uncompressed; at most {limit:,}"
                )
            if p.file_size > _RATIO_FLOOR and p.file_size > XLSX_MAX_RATIO * max(p.compress_size, 1):
                raise InspectError(
                    f"{path}: the part {p.filename} expands {p.file_size // max(p.compress_size, 1):,} "
                    f"times ({p.compress_size:,} → {p.file_size:,} bytes); at most {XLSX_MAX_RATIO} "
                    "(a zip bomb?)"
                )
        if total > XLSX_MAX_TOTAL_BYTES:
            raise InspectError(f"{path}: {total:,} bytes uncompressed; at most {XLSX_MAX_TOTAL_BYTES:,}")
        for p in parts:
            if not (p.filename.startswith("xl/worksheets/") and p.filename.endswith(".xml")):
                continue
            try:
                with archive.open(p) as f:
                    head = f.read(1 << 16)
            except Exception as exc:  # zipfile.BadZipFile, zlib.error, EOFError...: a damaged archive
                raise InspectError(
                    f"{path}: cannot read the part {p.filename}: the file is damaged or cut off ({exc})"
                ) from None
            data = _SHEET_DATA.search(head)
            m = _DIMENSION.search(head, 0, data.start() if data else len(head))
            if m is None:
                continue
            c1, r1 = _column_number(m[1]), int(m[2])
            c2, r2 = (_column_number(m[3]), int(m[4])) if m[3] else (c1, r1)
            cols, rows = abs(c2 - c1) + 1, abs(r2 - r1) + 1
            what = f"{path}: the sheet {p.filename} declares {rows:,} rows × {cols:,} columns"
            if cols > MAX_COLUMNS or max(c1, c2) > 16_384:
                raise InspectError(f"{what}; at most {MAX_COLUMNS} columns are read")
            if max(r1, r2) > XLSX_MAX_ROWS:
                raise InspectError(f"{what}; at most {XLSX_MAX_ROWS:,} rows")
            if rows * cols > XLSX_MAX_CELLS:
                raise InspectError(f"{what}; at most {XLSX_MAX_CELLS:,} cells")
