"""Reading and writing the spreadsheets bureaus actually have: .csv in UTF-8, UTF-8 with BOM,
GBK/GB18030 (Excel's default "CSV" on a Chinese Windows), UTF-16 tab-separated ("Unicode text"),
and .xlsx. Rows stream, so a million-row file never sits in memory twice.

Every reader and importer reads through `read_table`, which refuses hostile and careless files
with one line naming the file (row, column) and the limit, before anything is written. The work is
done in sibling modules, re-exported here: table.py (Table and the checks while rows stream),
csv_read.py, xlsx_guard.py (the archive and size guard), xlsx_read.py, table_write.py.


- An .xlsx is checked BEFORE it is parsed, from the zip directory and the first bytes of each
  sheet: at most XLSX_MAX_PARTS parts and XLSX_MAX_SHEETS worksheets; no part larger than
  XLSX_MAX_PART_BYTES uncompressed, all together at most XLSX_MAX_TOTAL_BYTES, the shared strings
  at most XLSX_MAX_SHARED_STRINGS_BYTES; no part over 1 MiB that expands more than
  XLSX_MAX_RATIO times (a zip bomb); each sheet's declared <dimension> at most MAX_COLUMNS
  columns, XLSX_MAX_ROWS rows and XLSX_MAX_CELLS cells.
  The declared sizes bind: zipfile never inflates a part past them. A file that is empty, not a
  zip archive (a .csv or .xls renamed), cut off, or whose XML is damaged is refused as such.
- While rows stream, from CSV and .xlsx alike: no row over MAX_COLUMNS cells, no cell over
  MAX_CELL_CHARS characters (Excel's own cell limit; CSV fields past the csv module's 131,072
  are refused with the same message), no text cell with a refused character (see inspect_kit.text:
  control characters and bidirectional controls; the check is one regex over a joined block of
  rows), and CSV text that does not decode in the given or detected encoding names its line.
  A CSV file has no row limit: it streams in bounded memory, in time proportional to its size on
  disk (there is no compression to hide a bomb in); an .xlsx sheet has at most XLSX_MAX_ROWS.
- The header row may not have two columns with the same header (compared as `header_key` does;
  readers that read several sheets check the sheets they use, with `check_headers`), and a
  table must have at least one data row below its header (`require_rows`): the stream raises at
  its end, so an importer that reads to the end inside its transaction records nothing.

Formula injection: `write_table` neutralises every text cell and the readers undo exactly that
(`inspect_kit.spreadsheet`: a leading apostrophe before = + - @ TAB CR is removed on reading).
The checks above see the cells as restored (an .xlsx's `_x0000_` escape is a NUL, and refused).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from inspect_kit.errors import InspectError
from inspect_kit.registry.csv_read import detect_encoding, read_csv
from inspect_kit.registry.table import HEADER_SEARCH_ROWS, MAX_CELL_CHARS, MAX_COLUMNS, Table, check_headers
from inspect_kit.registry.table_write import write_table
from inspect_kit.registry.xlsx_guard import (
    XLSX_MAX_CELLS,
    XLSX_MAX_PART_BYTES,
    XLSX_MAX_PARTS,
    XLSX_MAX_RATIO,
    XLSX_MAX_ROWS,
    XLSX_MAX_SHARED_STRINGS_BYTES,
    XLSX_MAX_SHEETS,
    XLSX_MAX_TOTAL_BYTES,
    check_xlsx,
)
from inspect_kit.registry.xlsx_read import read_sheets, read_xlsx

__all__ = [
    "HEADER_SEARCH_ROWS",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "XLSX_MAX_CELLS",
    "XLSX_MAX_PARTS",
    "XLSX_MAX_PART_BYTES",
    "XLSX_MAX_RATIO",
    "XLSX_MAX_ROWS",
    "XLSX_MAX_SHARED_STRINGS_BYTES",
    "XLSX_MAX_SHEETS",
    "XLSX_MAX_TOTAL_BYTES",
    "Table",
    "check_headers",
    "check_xlsx",
    "detect_encoding",
    "read_csv",
    "read_sheets",
    "read_table",
    "read_xlsx",
    "write_table",
]


def read_table(
    path: Path | str,
    known: Callable[[list[Any]], int],
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    require_rows: bool = True,
    unique_headers: bool = True,
) -> Table:
    """The table of a .csv/.txt/.tsv or of one .xlsx sheet, checked as the module docstring says.

    `require_rows=False` lets a table without data rows through; `unique_headers=False` leaves
    the duplicate-header check to the caller (`check_headers`), for sheets it may skip."""
    path = Path(path)
    if not path.exists():
        raise InspectError(f"{path}: no such file")
    if path.is_dir():
        raise InspectError(f"{path}: is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, known, sheet, require_rows, unique_headers)
    if suffix in (".csv", ".txt", ".tsv"):
        if path.stat().st_size == 0:
            raise InspectError(f"{path}: the file is empty")
        return read_csv(path, known, encoding, require_rows, unique_headers)
    if suffix == ".xls":
        raise InspectError(f"{path}: the old .xls format is not supported; save it as .xlsx or CSV")
    raise InspectError(f"{path}: unknown file type {suffix!r}; use .csv or .xlsx")
