"""Reading and writing the spreadsheets bureaus actually have: .csv in UTF-8, UTF-8 with BOM,
GBK/GB18030 (Excel's default "CSV" on a Chinese Windows), UTF-16 tab-separated ("Unicode text"),
and .xlsx. Rows stream, so a million-row file never sits in memory twice.

Formula injection: `write_table` neutralises every text cell and the readers undo exactly that
(`inspect_kit.spreadsheet`: a leading apostrophe before = + - @ TAB CR is removed on reading).
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from inspect_kit.errors import InspectError
from inspect_kit.spreadsheet import output_format, restore_row, write_csv, xlsx_cell, xlsx_untext

SAMPLE_BYTES = 1 << 16
HEADER_SEARCH_ROWS = 10  # a title line or two above the header is common in exported sheets


@dataclass
class Table:
    """A file's header and a stream of (row number as the user sees it, cells) pairs."""

    path: Path
    encoding: str | None  # None for .xlsx
    header_row: int
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    size_hint: int  # bytes for CSV, rows for XLSX: for progress bars
    position: Callable[[], int]  # bytes or rows consumed so far


def detect_encoding(path: Path) -> str:
    """BOMs first; then UTF-8 if the whole file decodes; else GB18030 (a superset of GBK)."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        f.seek(0)
        decoder = codecs.getincrementaldecoder("gb18030")()
        try:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "gb18030"
        except UnicodeDecodeError as exc:
            raise InspectError(f"{path}: not UTF-8, UTF-16 or GBK/GB18030 text ({exc.reason}); "
                               "save it as UTF-8 CSV or .xlsx, or pass --encoding") from None


class _CountingReader(io.RawIOBase):
    def __init__(self, raw):
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self.raw.readinto(b)
        self.count += n or 0
        return n


def _find_header(rows: Sequence[list[Any]], known: Callable[[list[Any]], int]) -> int:
    """Index of the row that names the most known columns (at least two), among the first rows."""
    best, best_score = 0, -1
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = known(row)
        if score > best_score:
            best, best_score = i, score
    return best if best_score >= 2 else 0


def read_csv(path: Path, known: Callable[[list[Any]], int], encoding: str | None = None) -> Table:
    encoding = encoding or detect_encoding(path)
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        sample = f.read(8192)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        delimiter = "\t" if encoding == "utf-16" else ","
    counter = _CountingReader(open(path, "rb"))
    text = io.TextIOWrapper(io.BufferedReader(counter, 1 << 20), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    head: list[list[Any]] = []
    for row in reader:
        head.append(row)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    h = _find_header(head, known)

    def stream() -> Iterator[tuple[int, list[Any]]]:
        try:
            # line_num counts physical lines, which is what an editor shows for quoted newlines too
            for i, row in enumerate(head[h + 1:], start=h + 2):
                yield i, restore_row(row)
            for row in reader:
                yield reader.line_num, restore_row(row)
        except csv.Error as exc:
            raise InspectError(f"{path}, row {reader.line_num}: malformed CSV ({exc})") from None
        finally:
            text.close()

    return Table(path, encoding, h + 1, restore_row(list(head[h])) if head else [], stream(),
                 path.stat().st_size, lambda: counter.count)


def read_xlsx(path: Path, known: Callable[[list[Any]], int], sheet: str | None = None) -> Table:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise InspectError(f"{path}: cannot open as .xlsx ({exc})") from None
    if sheet is not None and sheet not in wb.sheetnames:
        raise InspectError(f"{path}: no sheet {sheet!r}; sheets are {', '.join(wb.sheetnames)}")
    ws = wb[sheet] if sheet else wb.worksheets[0]
    it = (_xlsx_row(row) for row in ws.iter_rows(values_only=True))
    head = []
    for row in it:
        head.append(row)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    h = _find_header(head, known)
    done = [0]

    def stream() -> Iterator[tuple[int, list[Any]]]:
        try:
            n = h + 1
            for row in head[h + 1:]:
                n += 1
                done[0] = n
                yield n, row
            for row in it:
                n += 1
                done[0] = n
                yield n, row
        finally:
            wb.close()

    headers = ["" if c is None else str(c) for c in head[h]] if head else []
    return Table(path, None, h + 1, headers, stream(), ws.max_row or 0, lambda: done[0])


def _xlsx_row(row: Sequence[Any]) -> list[Any]:
    return restore_row([xlsx_untext(v) if isinstance(v, str) else v for v in row])


def read_table(path: Path | str, known: Callable[[list[Any]], int], *, encoding: str | None = None,
               sheet: str | None = None) -> Table:
    path = Path(path)
    if not path.exists():
        raise InspectError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, known, sheet)
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv(path, known, encoding)
    if suffix == ".xls":
        raise InspectError(f"{path}: the old .xls format is not supported; save it as .xlsx or CSV")
    raise InspectError(f"{path}: unknown file type {suffix!r}; use .csv or .xlsx")


def write_table(path: Path | str, headers: Sequence[str], rows: Iterator[Sequence[Any]], *,
                sheet_title: str = "Sheet1", encoding: str = "utf-8-sig") -> int:
    """Write .csv (UTF-8 with BOM by default, so Excel opens it right) or .xlsx; returns rows written.

    Written to a temporary file first and renamed, so a failed export leaves no half file."""
    path = Path(path)
    fmt = output_format(path, ("csv", "xlsx"))
    tmp = path.with_name(f".{path.name}.tmp")
    n = 0
    try:
        if fmt == "xlsx":
            import openpyxl

            wb = openpyxl.Workbook(write_only=True)
            ws = wb.create_sheet(sheet_title)
            ws.append([xlsx_cell(ws, v) for v in headers])
            for row in rows:
                # Text cells stay text (a certificate number like 0012 must not become 12); numbers
                # stay numbers; every text cell is neutralised (inspect_kit.spreadsheet).
                ws.append([xlsx_cell(ws, _xlsx_value(v)) for v in row])
                n += 1
            wb.save(tmp)
        else:
            with open(tmp, "w", encoding=encoding, newline="") as f:
                n = write_csv(f, headers, rows)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def _xlsx_value(v: Any) -> Any:
    if v is None:
        return ""
    return v if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) else str(v)
