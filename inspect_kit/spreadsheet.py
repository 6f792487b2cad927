"""Spreadsheet cells that cannot run: the one neutralisation every CSV/XLSX writer applies, and its
exact inverse, which every reader (`inspect_kit.registry.tabular.read_table`) applies.

Formula injection (OWASP "CSV injection"): a text cell that begins with = + - @ TAB or CR may be run
by Excel or LibreOffice as a formula (`=cmd|' /C calc'!A0`). Every writer passes each text cell
through `safe_cell`, which puts a single quote in front of such text; the quote is how a user types
text that would otherwise be a formula, and Excel shows the text. Numbers (int, float, Decimal) are
left alone: -2 written as a number is a number, not text.

The rule, exactly (so export → import gives back the original text):
- written: a text that begins with any number of apostrophes followed by = + - @ TAB or CR gets one
  more apostrophe in front (`=1` → `'=1`, `'=1` → `''=1`, `+86 138…` → `'+86 138…`, `-` → `'-`);
- read: a text that begins with one or more apostrophes followed by one of those characters loses
  its first apostrophe. Any other leading apostrophe (`'abc`) stays on both sides.

XLSX: text is always written as an (inline) string cell, never as a formula or an error value, even
if it started with "=". A carriage return cannot survive XML as such (parsers turn it into a line
feed), so text is also escaped the way Excel does it (ST_Xstring): CR → `_x000D_`, and a literal
`_xHHHH_` → `_x005F_xHHHH_`; reading undoes it, which also reads CRs in files Excel wrote.

Output format: `output_format` decides a file's format by its extension and refuses any other
extension before anything is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterable, Sequence

from inspect_kit.errors import InspectError

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell, MergedCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.worksheet import Worksheet

TRIGGERS = "=+-@\t\r"  # the first characters that make a cell a formula (OWASP)
_NEEDS_QUOTE = re.compile("'*[=+\\-@\t\r]")
_QUOTED = re.compile("'+[=+\\-@\t\r]")
_NUMBERS = (int, float, Decimal)  # bool is an int: written as is
_XML_ESCAPE = re.compile(r"\r|_(?=x[0-9A-Fa-f]{4}_)")
_XML_UNESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def safe_cell(value: Any) -> Any:
    """The cell to write: text neutralised (see the module docstring); None, numbers and dates as they are;
    anything else as neutralised text."""
    if isinstance(value, str):
        return "'" + value if _NEEDS_QUOTE.match(value) else value
    if value is None or isinstance(value, (*_NUMBERS, dt.date, dt.time)):
        return value
    return safe_cell(str(value))


def restore_cell(value: Any) -> Any:
    """The exact inverse of `safe_cell` on text: one leading apostrophe removed before a trigger."""
    if isinstance(value, str) and value[:1] == "'" and _QUOTED.match(value):
        return value[1:]
    return value


def restore_row(row: list[Any]) -> list[Any]:
    """`restore_cell` on every cell of a row (in place; the row is returned). One C-level scan finds
    the rows with no leading apostrophe at all, which is nearly every row."""
    try:
        if "'" not in "".join(row):  # every cell is a str (CSV rows)
            return row
    except TypeError:
        pass
    for i, v in enumerate(row):
        if isinstance(v, str) and v[:1] == "'":
            row[i] = restore_cell(v)
    return row


def restore_rows(block: Sequence[tuple[int, list[Any]]]) -> None:
    """`restore_row` on the cells of every (row number, cells) pair of a block of CSV rows (all
    str), in place; one C-level scan of the whole block when no cell has an apostrophe."""
    if "'" in "".join(chain.from_iterable(map(itemgetter(1), block))):
        for _, row in block:
            restore_row(row)


def write_csv(stream: IO[str], headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> int:
    """Write a header and rows as CSV to an open text stream, every cell through `safe_cell`; None is
    an empty cell. Every cell is quoted (OWASP): a spreadsheet that splits on another delimiter
    (";" in some locales) cannot cut a cell such as "a;=1" into a formula. Returns the number of
    rows (header not counted)."""
    w = csv.writer(stream, quoting=csv.QUOTE_ALL)
    w.writerow([_csv_cell(v) for v in headers])
    n = 0
    for row in rows:
        w.writerow([_csv_cell(v) for v in row])
        n += 1
    return n


def _csv_cell(value: Any) -> Any:
    return "" if value is None else safe_cell(value)


def xlsx_text(value: str) -> str:
    """Text as stored in a sheet's XML: CR and literal `_xHHHH_` escaped (ST_Xstring)."""
    return (
        _XML_ESCAPE.sub(lambda m: "_x000D_" if m.group() == "\r" else "_x005F_", value)
        if ("\r" in value or "_x" in value)
        else value
    )


def xlsx_untext(value: str) -> str:
    """The inverse of `xlsx_text` (and how Excel escapes characters XML cannot hold)."""
    return _XML_UNESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value) if "_x" in value else value


def xlsx_cell(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """A cell for a write-only worksheet's append(): text neutralised and forced to a string cell."""
    value = safe_cell(value)
    if not isinstance(value, str):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, xlsx_text(value))
    cell.data_type = "s"  # never "f" (formula) or "e" (an error value such as #N/A)
    return cell


def set_cell(ws: Worksheet, row: int, column: int, value: Any) -> Cell | MergedCell:
    """ws.cell(row, column) of a normal worksheet set to the neutralised value (strings forced to string
    cells); returns the cell for styling."""
    value = safe_cell(value)
    cell = ws.cell(row, column)
    if isinstance(value, str):
        cell.value = xlsx_text(value)
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json"}


def output_format(path: Path | str, allowed: Sequence[str] = ("csv", "xlsx")) -> str:
    """The format a file is written in, from its extension ('csv', 'xlsx', 'json'); any other extension
    (or one not in `allowed`) is refused with InspectError before anything is written."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None or fmt not in allowed:
        raise InspectError(
            f"{path}: unknown file type {path.suffix or '(none)'!r}; use "
            + " or ".join(f".{a}" for a in allowed)
            + " (the extension decides the format)"
        )
    return fmt
