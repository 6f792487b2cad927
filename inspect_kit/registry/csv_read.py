"""Reading CSV text as bureaus have it: UTF-8, UTF-8 with BOM, GBK/GB18030 (Excel's default "CSV"
on a Chinese Windows), UTF-16 tab-separated ("Unicode text"). Rows stream in bounded memory, checked
as registry.table does; decoding and parsing errors name their line (see registry.tabular). After
Table.want_columns, the blocks the C extension vouches for come as cleaned columns (registry.fast_csv).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, Callable, Generator, Iterator

from inspect_kit.errors import InspectError
from inspect_kit.registry import fast_csv
from inspect_kit.registry.table import (
    BLOCK_ROWS,
    HEADER_SEARCH_ROWS,
    MAX_CELL_CHARS,
    Table,
    chain,
    check_headers,
    checked_blocks,
    column_name,
    find_header,
)
from inspect_kit.spreadsheet import restore_rows
from inspect_kit.text import clean_cell


def detect_encoding(path: Path) -> str:
    """BOMs first; then UTF-8 if the whole file decodes; else GB18030 (a superset of GBK)."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if _decode_failure(f, "utf-8") is None:
            return "utf-8"
        exc = _decode_failure(f, "gb18030")
        if exc is None:
            return "gb18030"
        raise InspectError(
            f"{path}: not UTF-8, UTF-16 or GBK/GB18030 text ({exc.reason}); "
            "save it as UTF-8 CSV or .xlsx, or pass --encoding"
        )


def _decode_failure(f: BinaryIO, encoding: str) -> UnicodeDecodeError | None:
    """Why the whole file does not decode as `encoding` (read from the start), or None if it does."""
    f.seek(0)
    decoder: codecs.IncrementalDecoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := f.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return exc
    return None


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


TEXT_CHUNK = 1 << 20  # characters decoded at a time (what is left of the last chunk is copied once)
FAST_AHEAD = 1 << 19  # characters held ahead for the compiled reader (a block of long lines)
FAST_BLOCKS = 4  # BLOCK_ROWS blocks the compiled reader tries at once
_EOL = re.compile("\r\n|\r|\n")


class _Text:
    """The decoded file, read by csv.reader a line at a time (iteration: lines split as a file
    opened with newline="" splits them) and by the compiled reader from `buf[pos:]`; `lines`
    counts the lines taken either way. A decoding error is raised once the text before it is read,
    as reading line by line would."""

    def __init__(self, f: io.TextIOWrapper, step: int = 8192):
        # step: characters decoded at a call; 8192, the wrapper's own chunk, unless the whole file
        # is known to decode (then no decoding error can come out of a call)
        self.f, self.step, self.buf, self.pos, self.lines = f, step, "", 0, 0
        self.eof = False
        self.error: UnicodeError | None = None

    def close(self) -> None:
        self.f.close()

    def fill(self) -> None:
        """Decode TEXT_CHUNK more characters after `pos` (or up to the end: `eof`)."""
        if self.error is not None:
            raise self.error
        parts, got = [self.buf[self.pos :]], 0
        while got < TEXT_CHUNK:
            try:
                more = self.f.read(self.step)
            except UnicodeError as exc:
                if not got:
                    raise
                self.error = exc  # raised when the text decoded so far is used up
                break
            if not more:
                self.eof = True
                break
            parts.append(more)
            got += len(more)
        self.buf, self.pos = "".join(parts), 0

    def __iter__(self) -> _Text:
        return self

    def __next__(self) -> str:
        while True:
            buf, pos = self.buf, self.pos
            m = _EOL.search(buf, pos)
            if m is not None and (m.end() < len(buf) or self.eof or m.group() != "\r"):
                self.pos = end = m.end()
                self.lines += 1
                return buf[pos:end]
            if self.eof:
                if pos < len(buf):
                    self.pos = len(buf)
                    self.lines += 1
                    return buf[pos:]
                raise StopIteration
            self.fill()


def _fast_block(text: _Text, delimiter: str, wanted: tuple[int, ...], to_grid: int) -> tuple[int, Any] | None:
    """(records read, their ColumnBlock) by the compiled reader — (0, None) at the end of the file —
    or None if it cannot vouch for the next `to_grid` records (csv.reader reads them)."""
    while True:
        if len(text.buf) - text.pos < FAST_AHEAD and not text.eof:
            text.fill()
        for n in (to_grid + (FAST_BLOCKS - 1) * BLOCK_ROWS, to_grid):
            got = fast_csv.parse_block(text.buf, text.pos, n, text.eof, delimiter, text.lines, wanted, clean_cell)
            if got is not None:
                break
        else:
            return None
        end, lines, block = got
        if lines:
            text.pos = end
            text.lines += lines
            return lines, block
        if text.eof:
            return 0, None
        if len(text.buf) - text.pos > 64 * FAST_AHEAD:  # a line this long: csv.reader reads it
            return None
        text.fill()


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InspectError(f"--encoding {encoding!r}: unknown encoding (try utf-8, gbk, gb18030, utf-16)") from None


def _decode_error(path: Path, encoding: str, error: UnicodeError) -> InspectError:
    """Where the file stops being `encoding` text: its line, and the bytes."""
    if not isinstance(error, UnicodeDecodeError):  # e.g. "UTF-16 stream does not start with BOM"
        return InspectError(
            f"{path}: not {encoding} text ({error}); pass the right --encoding (gbk, gb18030, "
            "utf-16, utf-8) or leave it out to detect it"
        )
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
                bad = exc.object[exc.start : exc.end].hex(" ")
                return InspectError(
                    f"{path}, line {lines}: the bytes {bad} (at byte {offset:,}) are not "
                    f"{encoding} text; pass the right --encoding (gbk, gb18030, utf-16, utf-8) "
                    "or leave it out to detect it"
                )
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


class _Records:
    """The records of a CSV file, in blocks (`blocks()`)."""

    def __init__(self, path: Path, encoding: str, delimiter: str, text: _Text):
        self.path, self.encoding, self.delimiter, self.text = path, encoding, delimiter, text
        self.reader = csv.reader(text, delimiter=delimiter)
        self.headers: list[Any] = []  # the header row, once found (errors name columns by it)
        self.wanted: tuple[int, ...] | None = None  # the cells the compiled reader gives

    def want_columns(self, cells: tuple[int, ...]) -> bool:
        """From the next data block on, give blocks the compiled reader vouches for as ColumnBlocks
        of these cells (see registry.fast_csv); False if it is not built or turned off."""
        if not fast_csv.active() or self.delimiter not in ",;\t":
            return False
        self.wanted = cells
        return True

    def blocks(self) -> Iterator[Any]:
        """Blocks of (line number, cells), or ColumnBlocks (after want_columns); line numbers count
        physical lines, which is what an editor shows for quoted newlines too. Decoding and parsing
        errors name their line. Blocks follow a grid: the first HEADER_SEARCH_ROWS records, then
        BLOCK_ROWS at a time; a block read by csv.reader ends on the grid (the compiled reader may
        have read the clean records before it), so that its checks report what they always did."""
        text, reader = self.text, self.reader
        start = 0  # the line of the last record read
        first: list[str] = []  # names the columns while the header is not known yet
        block: list[tuple[int, list[str]]] = []
        records = 0  # records read (blank ones too)
        try:
            size = HEADER_SEARCH_ROWS  # the rows the header is looked for in, then blocks
            while True:
                if self.wanted is not None and records >= HEADER_SEARCH_ROWS:
                    to_grid = BLOCK_ROWS - (records - HEADER_SEARCH_ROWS) % BLOCK_ROWS
                    fast = _fast_block(text, self.delimiter, self.wanted, to_grid)
                    if fast is not None:
                        if not fast[0]:
                            return
                        records += fast[0]
                        start = text.lines
                        yield fast[1]
                        continue
                    size = to_grid
                block = []
                append = block.append
                start = text.lines
                for row in islice(reader, size):
                    append((text.lines, row))
                if not block:
                    return
                records += len(block)
                start = block[-1][0]
                first = first or next((r for _, r in block if r), [])
                restore_rows(block)
                yield block
                size = BLOCK_ROWS
        except UnicodeError as exc:
            raise _decode_error(self.path, self.encoding, exc) from None
        except csv.Error as exc:
            if block:
                start = block[-1][0]
                first = first or next((r for _, r in block if r), [])
            names = self.headers or first
            raise _csv_error(self.path, self.encoding, self.delimiter, start, names, text.lines, exc) from None


def _csv_error(
    path: Path, encoding: str, delimiter: str, start: int, names: list[Any], line: int, exc: csv.Error
) -> InspectError:
    """csv.reader's error, after the record that ends on line `start`, as the user's error."""
    if "field larger than field limit" in str(exc):
        col = _oversized_column(path, encoding, delimiter, start)
        where = f"{path}, row {start + 1}" + (f", column {column_name(names, col)}" if col is not None else "")
        return InspectError(
            f"{where}: a cell of more than {csv.field_size_limit():,} characters; at most "
            f"{MAX_CELL_CHARS:,} (what one spreadsheet cell holds)"
        )
    return InspectError(f"{path}, row {line}: malformed CSV ({exc})")


def read_csv(
    path: Path,
    known: Callable[[list[Any]], int],
    encoding: str | None = None,
    require_rows: bool = True,
    unique_headers: bool = True,
) -> Table:
    if encoding is not None:
        _check_encoding(encoding)
    with open(path, "rb") as raw:
        if raw.read(4) == b"PK\x03\x04":
            raise InspectError(f"{path}: this is an .xlsx workbook (a zip archive), not CSV text; name it .xlsx")
    validated = encoding is None  # detect_encoding decodes the whole file, but for a BOM
    encoding = encoding or detect_encoding(path)
    validated = validated and encoding in ("utf-8", "gb18030")
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
    wrapper = io.TextIOWrapper(io.BufferedReader(counter, 1 << 20), encoding=encoding, newline="")
    text = _Text(wrapper, TEXT_CHUNK if validated else 8192)
    records = _Records(path, encoding, delimiter, text)
    blocks = records.blocks()
    try:
        head: list[tuple[int, list[Any]]] = next(blocks, [])
    except BaseException:
        text.close()
        raise
    h = find_header([r for _, r in head], known)
    headers = records.headers = list(head[h][1]) if head else []
    header_row = head[h][0] if head else 1

    def block_stream() -> Generator[list[tuple[int, list[Any]]], None, None]:
        try:
            data = chain([head[h + 1 :]] if head[h + 1 :] else [], blocks)
            yield from checked_blocks(str(path), header_row, headers, data, require_rows)
        finally:
            text.close()

    checked_stream = block_stream()

    def stream() -> Generator[tuple[int, list[Any]], None, None]:
        try:
            for block in checked_stream:
                yield from block
        finally:  # closing the rows early closes the file, as before
            checked_stream.close()

    if unique_headers:
        try:
            check_headers(str(path), header_row, headers)
        except InspectError:
            text.close()
            raise
    return Table(
        path,
        encoding,
        header_row,
        headers,
        stream(),
        path.stat().st_size,
        lambda: counter.count,
        text.close,
        blocks=checked_stream,
        want_columns=records.want_columns,
    )
