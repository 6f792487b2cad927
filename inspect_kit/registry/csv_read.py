"""Reading CSV text as bureaus have it: UTF-8, UTF-8 with BOM, GBK/GB18030 (Excel's default "CSV"
on a Chinese Windows), UTF-16 tab-separated ("Unicode text"). Rows stream in bounded memory, checked
as registry.table does; decoding and parsing errors name their line (see registry.tabular)."""

from __future__ import annotations

import codecs
import csv
import io
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, Callable, Generator, Iterator

from inspect_kit.errors import InspectError
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

    def record_blocks() -> Iterator[list[tuple[int, list[str]]]]:
        """Blocks of (line number, cells); csv.reader's line_num counts physical lines, which is
        what an editor shows for quoted newlines too. Decoding and parsing errors name their line.
        Read a block at a time: a generator step per row is a good part of a million-row import."""
        start = 0  # the line of the last record read
        first: list[str] = []  # names the columns while the header is not known yet
        block: list[tuple[int, list[str]]] = []
        try:
            size = HEADER_SEARCH_ROWS  # the rows the header is looked for in, then blocks
            while True:
                block = []
                append = block.append
                for row in islice(reader, size):
                    append((reader.line_num, row))
                if not block:
                    return
                start = block[-1][0]
                first = first or next((r for _, r in block if r), [])
                restore_rows(block)
                yield block
                size = BLOCK_ROWS
        except UnicodeError as exc:
            raise _decode_error(path, encoding, exc) from None
        except csv.Error as exc:
            if block:
                start = block[-1][0]
                first = first or next((r for _, r in block if r), [])
            if "field larger than field limit" in str(exc):
                col = _oversized_column(path, encoding, delimiter, start)
                names = headers or first
                where = f"{path}, row {start + 1}" + (f", column {column_name(names, col)}" if col is not None else "")
                raise InspectError(
                    f"{where}: a cell of more than {csv.field_size_limit():,} characters; at most "
                    f"{MAX_CELL_CHARS:,} (what one spreadsheet cell holds)"
                ) from None
            raise InspectError(f"{path}, row {reader.line_num}: malformed CSV ({exc})") from None

    blocks = record_blocks()
    headers: list[Any] = []  # the header row, once found (record_blocks() names columns by it)
    try:
        head = next(blocks, [])
    except BaseException:
        text.close()
        raise
    h = find_header([r for _, r in head], known)
    headers = list(head[h][1]) if head else []
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
    )
