"""Reading and writing the spreadsheets bureaus actually have: .csv in UTF-8, UTF-8 with BOM,
GBK/GB18030 (Excel's default "CSV" on a Chinese Windows), UTF-16 tab-separated ("Unicode text"),
and .xlsx. Rows stream, so a million-row file never sits in memory twice.

Every reader and importer reads through `read_table`, which refuses hostile and careless files
with one line naming the file (row, column) and the limit, before anything is written:

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

import codecs
import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterator, Sequence, TypeVar

from inspect_kit.errors import InspectError
from inspect_kit.spreadsheet import output_format, restore_row, write_csv, xlsx_cell, xlsx_untext
from inspect_kit.text import REFUSED_TEXT, clean_cell, header_key, refused_reason

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook, _WorksheetLike

SAMPLE_BYTES = 1 << 16
HEADER_SEARCH_ROWS = 10  # a title line or two above the header is common in exported sheets

# -- limits (see the module docstring) -----------------------------------------------------------
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_COLUMNS = 512  # a registry has about 15 columns, the findings template 19
XLSX_MAX_ROWS = 1_048_576  # the most rows an .xlsx sheet can have
XLSX_MAX_CELLS = 50_000_000  # declared rows × columns of one sheet (a million rows of 50 columns)
XLSX_MAX_PARTS = 10_000  # files inside the zip archive
XLSX_MAX_SHEETS = 255  # worksheets: a findings template has one per matter
XLSX_MAX_PART_BYTES = 2 << 30  # uncompressed size of one part (a million-row sheet is ~1 GB of XML)
XLSX_MAX_TOTAL_BYTES = 4 << 30  # uncompressed size of all parts together
XLSX_MAX_SHARED_STRINGS_BYTES = 512 << 20  # openpyxl holds the shared strings in memory
XLSX_MAX_RATIO = 100  # uncompressed / compressed, for parts over 1 MiB; real sheets stay under ~30
_RATIO_FLOOR = 1 << 20
_BLOCK = 512  # rows checked together


@dataclass
class Table:
    """A file's header and a stream of (row number as the user sees it, cells) pairs.

    The stream checks every row (see the module docstring) and raises InspectError on the first
    refused cell; read it to the end, where a table without data rows is refused."""

    path: Path
    encoding: str | None  # None for .xlsx
    header_row: int
    headers: list[str]
    rows: Generator[tuple[int, list[Any]], None, None]  # close() it to stop early
    size_hint: int  # bytes for CSV, rows for XLSX: for progress bars
    position: Callable[[], int]  # bytes or rows consumed so far
    close: Callable[[], None] = lambda: None  # release the file of a table not read to the end
    sheet: str | None = None  # the .xlsx sheet


def detect_encoding(path: Path) -> str:
    """BOMs first; then UTF-8 if the whole file decodes; else GB18030 (a superset of GBK)."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        f.seek(0)
        decoder: codecs.IncrementalDecoder = codecs.getincrementaldecoder("utf-8")()
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
    def __init__(self, raw: io.BufferedReader):
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int | None:
        n = self.raw.readinto(b)
        self.count += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def _find_header(rows: Sequence[list[Any]], known: Callable[[list[Any]], int]) -> int:
    """Index of the row that names the most known columns (at least two), among the first rows."""
    best, best_score = 0, -1
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = known(row)
        if score > best_score:
            best, best_score = i, score
    return best if best_score >= 2 else 0


def _column_name(headers: Sequence[Any], j: int) -> str:
    h = clean_cell(headers[j]) if j < len(headers) else ""
    return repr(h) if h and REFUSED_TEXT.search(h) is None else str(j + 1)


def check_headers(where: str, header_row: int, headers: Sequence[Any]) -> None:
    """Refuse a header with a refused character, or two columns with the same header."""
    first: dict[str, int] = {}
    for j, h in enumerate(headers):
        if not isinstance(h, str):
            continue
        m = REFUSED_TEXT.search(h)
        if m is not None:
            raise InspectError(f"{where}, row {header_row}, column {j + 1}: the header {refused_reason(m.group())}")
        key = header_key(h)
        if not key:
            continue
        if key in first:
            raise InspectError(f"{where}, row {header_row}: columns {first[key] + 1} and {j + 1} are both headed "
                               f"{clean_cell(h)!r}; keep one (which one counts would be a guess)")
        first[key] = j


def _refuse_cell(where: str, rownum: int, headers: Sequence[Any], j: int, reason: str) -> InspectError:
    return InspectError(f"{where}, row {rownum}, column {_column_name(headers, j)}: {reason}")


def _check_block(where: str, headers: Sequence[Any], block: Sequence[tuple[int, Sequence[Any]]]) -> None:
    """Refuse the first cell of a block that is too long, too far right, or holds a refused
    character. Clean blocks (nearly all) cost a join and one regex search."""
    widest = max(len(cells) for _, cells in block)
    if widest > MAX_COLUMNS:
        rownum = next(r for r, cells in block if len(cells) == widest)
        raise InspectError(f"{where}, row {rownum}: {widest} cells; at most {MAX_COLUMNS} columns are read "
                           "(a sheet this wide is not a registry)")
    try:
        texts = ["".join(cells) for _, cells in block]  # CSV rows: all str
    except TypeError:  # .xlsx rows: numbers, dates and None among the text
        texts = ["".join([c for c in cells if type(c) is str]) for _, cells in block]
    if max(map(len, texts)) <= MAX_CELL_CHARS and REFUSED_TEXT.search("\n".join(texts)) is None:
        return
    for (rownum, cells), text in zip(block, texts):
        if len(text) <= MAX_CELL_CHARS and REFUSED_TEXT.search(text) is None:
            continue
        for j, c in enumerate(cells):
            if type(c) is not str:
                continue
            if len(c) > MAX_CELL_CHARS:
                raise _refuse_cell(where, rownum, headers, j, f"a cell of {len(c):,} characters; at most "
                                   f"{MAX_CELL_CHARS:,} (what one spreadsheet cell holds)")
            m = REFUSED_TEXT.search(c)
            if m is not None:
                raise _refuse_cell(where, rownum, headers, j, refused_reason(m.group()))


_Cells = TypeVar("_Cells", bound=Sequence[Any])


def _is_filled(cells: Sequence[Any]) -> bool:
    return any((c.strip() if isinstance(c, str) else c is not None) for c in cells)


def _checked(where: str, header_row: int, headers: Sequence[Any], rows: Iterator[tuple[int, _Cells]],
             require_rows: bool) -> Iterator[tuple[int, _Cells]]:
    """The data rows, checked block by block; at the end, refuse a table without any."""
    filled = not require_rows
    while block := list(islice(rows, _BLOCK)):
        _check_block(where, headers, block)
        if not filled:
            filled = any(_is_filled(cells) for _, cells in block)
        yield from block
    if not filled:
        raise InspectError(f"{where}: no data rows below the header (row {header_row}); nothing to import")


# -- CSV -----------------------------------------------------------------------------------------

def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InspectError(f"--encoding {encoding!r}: unknown encoding (try utf-8, gbk, gb18030, utf-16)") from None


def _decode_error(path: Path, encoding: str, error: UnicodeError) -> InspectError:
    """Where the file stops being `encoding` text: its line, and the bytes."""
    if not isinstance(error, UnicodeDecodeError):  # e.g. "UTF-16 stream does not start with BOM"
        return InspectError(f"{path}: not {encoding} text ({error}); pass the right --encoding (gbk, gb18030, "
                            "utf-16, utf-8) or leave it out to detect it")
    decoder = codecs.getincrementaldecoder(encoding)()
    consumed, lines = 0, 1
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            pending = len(decoder.getstate()[0])
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeError as exc:
                if not isinstance(exc, UnicodeDecodeError):
                    return _decode_error(path, encoding, exc)
                offset = consumed - pending + exc.start
                f.seek(max(0, consumed - pending))
                before = f.read(offset - max(0, consumed - pending))
                lines += before.decode(encoding, errors="replace").count("\n")
                bad = exc.object[exc.start:exc.end].hex(" ")
                return InspectError(f"{path}, line {lines}: the bytes {bad} (at byte {offset:,}) are not "
                                    f"{encoding} text; pass the right --encoding (gbk, gb18030, utf-16, utf-8) "
                                    "or leave it out to detect it")
            lines += text.count("\n")
            consumed += len(chunk)
            if not chunk:
                return InspectError(f"{path}: not {encoding} text; pass the right --encoding or leave it out")


def _oversized_column(path: Path, encoding: str, delimiter: str, skip_lines: int) -> int | None:
    """The 0-based column of the first field longer than MAX_CELL_CHARS in the record that starts
    after `skip_lines` lines, scanning characters (only after the csv module refused the field)."""
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        for _ in range(skip_lines):
            f.readline()
        col, length, quoted, at_start, prev_quote = 0, 0, False, True, False
        while chunk := f.read(1 << 16):
            for ch in chunk:
                if quoted:
                    if ch == '"':
                        quoted, prev_quote = False, True
                        continue
                    length += 1
                elif ch == '"' and (at_start or prev_quote):
                    quoted, at_start = True, False
                    length += prev_quote
                elif ch == delimiter:
                    col, length, at_start = col + 1, 0, True
                elif ch in "\r\n":
                    return None
                else:
                    length, at_start = length + 1, False
                prev_quote = False
                if length > MAX_CELL_CHARS:
                    return col
    return None


def read_csv(path: Path, known: Callable[[list[Any]], int], encoding: str | None = None,
             require_rows: bool = True, unique_headers: bool = True) -> Table:
    if encoding is not None:
        _check_encoding(encoding)
    with open(path, "rb") as raw:
        if raw.read(4) == b"PK\x03\x04":
            raise InspectError(f"{path}: this is an .xlsx workbook (a zip archive), not CSV text; name it .xlsx")
    encoding = encoding or detect_encoding(path)
    try:
        with open(path, encoding=encoding, errors="replace", newline="") as f:
            sample = f.read(8192)
    except UnicodeError as exc:  # not a decoding error as such: a UTF-16 file without its BOM
        raise _decode_error(path, encoding, exc) from None
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        delimiter = "\t" if encoding == "utf-16" else ","
    counter = _CountingReader(open(path, "rb"))
    text = io.TextIOWrapper(io.BufferedReader(counter, 1 << 20), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)

    def records() -> Iterator[tuple[int, list[str]]]:
        """(line number, cells); csv.reader's line_num counts physical lines, which is what an
        editor shows for quoted newlines too. Decoding and parsing errors name their line."""
        start = 0
        first: list[str] = []  # names the columns while the header is not known yet
        try:
            for row in reader:
                first = first or row
                yield reader.line_num, restore_row(row)
                start = reader.line_num
        except UnicodeError as exc:
            raise _decode_error(path, encoding, exc) from None
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                col = _oversized_column(path, encoding, delimiter, start)
                names = headers or first
                where = f"{path}, row {start + 1}" + (f", column {_column_name(names, col)}" if col is not None else "")
                raise InspectError(f"{where}: a cell of more than {csv.field_size_limit():,} characters; at most "
                                   f"{MAX_CELL_CHARS:,} (what one spreadsheet cell holds)") from None
            raise InspectError(f"{path}, row {reader.line_num}: malformed CSV ({exc})") from None

    rows = records()
    headers: list[Any] = []  # the header row, once found (records() names columns by it)
    try:
        head = list(islice(rows, HEADER_SEARCH_ROWS))
    except BaseException:
        text.close()
        raise
    h = _find_header([r for _, r in head], known)
    headers = list(head[h][1]) if head else []
    header_row = head[h][0] if head else 1

    def stream() -> Generator[tuple[int, list[Any]], None, None]:
        try:
            yield from _checked(str(path), header_row, headers, _chain(head[h + 1:], rows), require_rows)
        finally:
            text.close()

    if unique_headers:
        try:
            check_headers(str(path), header_row, headers)
        except InspectError:
            text.close()
            raise
    return Table(path, encoding, header_row, headers, stream(), path.stat().st_size, lambda: counter.count, text.close)


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


# -- XLSX ----------------------------------------------------------------------------------------

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
        raise InspectError(f"{path}: not a valid .xlsx file: it is not a zip archive, or it is cut off ({exc})") from None
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
            limit = XLSX_MAX_SHARED_STRINGS_BYTES if p.filename.lower().endswith("sharedstrings.xml") else XLSX_MAX_PART_BYTES
            if p.file_size > limit:
                raise InspectError(f"{path}: the part {p.filename} is {p.file_size:,} bytes uncompressed; at most {limit:,}")
            if p.file_size > _RATIO_FLOOR and p.file_size > XLSX_MAX_RATIO * max(p.compress_size, 1):
                raise InspectError(f"{path}: the part {p.filename} expands {p.file_size // max(p.compress_size, 1):,} "
                                   f"times ({p.compress_size:,} → {p.file_size:,} bytes); at most {XLSX_MAX_RATIO} "
                                   "(a zip bomb?)")
        if total > XLSX_MAX_TOTAL_BYTES:
            raise InspectError(f"{path}: {total:,} bytes uncompressed; at most {XLSX_MAX_TOTAL_BYTES:,}")
        for p in parts:
            if not (p.filename.startswith("xl/worksheets/") and p.filename.endswith(".xml")):
                continue
            try:
                with archive.open(p) as f:
                    head = f.read(1 << 16)
            except Exception as exc:  # zipfile.BadZipFile, zlib.error, EOFError...: a damaged archive
                raise InspectError(f"{path}: cannot read the part {p.filename}: the file is damaged or cut off "
                                   f"({exc})") from None
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


def _open_workbook(path: Path) -> Workbook:
    import openpyxl

    check_xlsx(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException, XML ParseError ...
        raise InspectError(f"{path}: cannot open as .xlsx: the file is damaged or not a workbook ({exc})") from None


def read_xlsx(path: Path, known: Callable[[list[Any]], int], sheet: str | None = None,
              require_rows: bool = True, unique_headers: bool = True) -> Table:
    wb = _open_workbook(path)
    titles = [ws.title for ws in wb.worksheets]  # not chart sheets
    if not titles or (sheet is not None and sheet not in titles):
        wb.close()
        raise InspectError(f"{path}: no sheet {sheet!r}; sheets are {', '.join(titles) or 'none'}")
    ws = wb.worksheets[titles.index(sheet) if sheet is not None else 0]
    return _sheet_table(path, ws, known, require_rows, unique_headers, wb.close)


def read_sheets(path: Path | str, known: Callable[[list[Any]], int], *, require_rows: bool = True,
                unique_headers: bool = True) -> Generator[Table, None, None]:
    """The table of every worksheet of an .xlsx, opened (and checked) once; read each table, or
    close it, before taking the next. Close the iterator (contextlib.closing) to release the file."""
    path = Path(path)
    if not path.exists():
        raise InspectError(f"{path}: no such file")
    wb = _open_workbook(path)
    try:
        for ws in wb.worksheets:
            yield _sheet_table(path, ws, known, require_rows, unique_headers, lambda: None)
    finally:
        wb.close()


def _sheet_table(path: Path, ws: _WorksheetLike, known: Callable[[list[Any]], int], require_rows: bool,
                 unique_headers: bool, close: Callable[[], None]) -> Table:
    where = f"{path}, sheet {ws.title!r}"
    it = ws.iter_rows(values_only=True)
    done = [0]

    def parsed() -> Generator[tuple[int, list[Any]], None, None]:
        """(row number, cells); an XML or archive error in the sheet names the row it stopped at."""
        n = 0
        while True:
            try:
                row = next(it)
            except StopIteration:
                return
            except Exception as exc:  # ParseError, BadZipFile (CRC), zlib.error, ValueError ...: openpyxl's
                raise InspectError(f"{where}, row {n + 1}: cannot read the sheet: its XML is damaged or cut off "
                                   f"({type(exc).__name__}: {exc})") from None
            n += 1
            if n > XLSX_MAX_ROWS:
                raise InspectError(f"{where}: more than {XLSX_MAX_ROWS:,} rows")
            done[0] = n
            yield n, _xlsx_row(row)

    rows = parsed()
    try:
        head = list(islice(rows, HEADER_SEARCH_ROWS))
        for rownum, cells in head:
            if len(cells) > MAX_COLUMNS:
                raise InspectError(f"{where}, row {rownum}: {len(cells)} cells; at most {MAX_COLUMNS} columns are read")
        h = _find_header([list(r) for _, r in head], known)
        headers = ["" if c is None else str(c) for c in head[h][1]] if head else []
        header_row = head[h][0] if head else 1
        if unique_headers:
            check_headers(where, header_row, headers)
    except BaseException:
        close()
        raise

    def stream() -> Generator[tuple[int, list[Any]], None, None]:
        try:
            for n, row in _checked(where, header_row, headers, _chain(head[h + 1:], rows), require_rows):
                yield n, list(row)
        finally:
            rows.close()
            close()

    return Table(path, None, header_row, headers, stream(), ws.max_row or 0, lambda: done[0], close, ws.title)


def _xlsx_row(row: Sequence[Any]) -> list[Any]:
    return restore_row([xlsx_untext(v) if isinstance(v, str) else v for v in row])


def read_table(path: Path | str, known: Callable[[list[Any]], int], *, encoding: str | None = None,
               sheet: str | None = None, require_rows: bool = True, unique_headers: bool = True) -> Table:
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
