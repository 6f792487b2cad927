"""A table read from a file, and the checks every reader applies to it while it streams (see
registry.tabular for the contract): the header row found among the first rows, no two columns with
the same header, no row over MAX_COLUMNS cells, no cell over MAX_CELL_CHARS characters or with a
refused character, and at least one data row."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Generator, Iterable, Iterator, Sequence, TypeVar

from inspect_kit.errors import InspectError
from inspect_kit.text import REFUSED_TEXT, clean_cell, header_key, refused_reason

HEADER_SEARCH_ROWS = 10  # a title line or two above the header is common in exported sheets
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_COLUMNS = 512  # a registry has about 15 columns, the findings template 19
BLOCK_ROWS = 500  # rows read and checked together


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
    # The same stream in blocks of rows, where the reader reads that way (CSV); read either this
    # or `rows`, not both. See `row_blocks`.
    blocks: Iterator[Any] | None = None
    # want_columns(cells) asks the reader to give the blocks it can vouch for as
    # registry.fast_csv.ColumnBlocks of those cells (True if it will; CSV with the C extension).
    want_columns: Callable[[tuple[int, ...]], bool] | None = None

    def row_blocks(self) -> Iterator[Any]:
        """The rows in blocks (of BLOCK_ROWS at most, of any size but empty); after a successful
        want_columns, some blocks are ColumnBlocks (checked, blank lines left out)."""
        if self.blocks is not None:
            return self.blocks
        rows = self.rows
        return iter(lambda: list(islice(rows, BLOCK_ROWS)), [])


def find_header(rows: Sequence[list[Any]], known: Callable[[list[Any]], int]) -> int:
    """Index of the row that names the most known columns (at least two), among the first rows."""
    best, best_score = 0, -1
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = known(row)
        if score > best_score:
            best, best_score = i, score
    return best if best_score >= 2 else 0


def column_name(headers: Sequence[Any], j: int) -> str:
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
            raise InspectError(
                f"{where}, row {header_row}: columns {first[key] + 1} and {j + 1} are both headed "
                f"{clean_cell(h)!r}; keep one (which one counts would be a guess)"
            )
        first[key] = j


def _refuse_cell(where: str, rownum: int, headers: Sequence[Any], j: int, reason: str) -> InspectError:
    return InspectError(f"{where}, row {rownum}, column {column_name(headers, j)}: {reason}")


def _check_block(where: str, headers: Sequence[Any], block: Sequence[tuple[int, Sequence[Any]]]) -> None:
    """Refuse the first cell of a block that is too long, too far right, or holds a refused
    character. Clean blocks (nearly all) cost a join and one regex search."""
    rows = list(map(itemgetter(1), block))
    widest = max(map(len, rows))
    if widest > MAX_COLUMNS:
        rownum = next(r for r, cells in block if len(cells) == widest)
        raise InspectError(
            f"{where}, row {rownum}: {widest} cells; at most {MAX_COLUMNS} columns are read "
            "(a sheet this wide is not a registry)"
        )
    cells_of_all = list(itertools.chain.from_iterable(rows))
    try:  # CSV rows: all str ("\n" is no refused character: the join adds none)
        text = "\n".join(cells_of_all)
    except TypeError:  # .xlsx rows: numbers, dates and None among the text
        cells_of_all = [c for c in cells_of_all if type(c) is str]
        text = "\n".join(cells_of_all)
    if max(map(len, cells_of_all), default=0) <= MAX_CELL_CHARS and REFUSED_TEXT.search(text) is None:
        return
    for rownum, cells in block:
        for j, c in enumerate(cells):
            if type(c) is not str:
                continue
            if len(c) > MAX_CELL_CHARS:
                raise _refuse_cell(
                    where,
                    rownum,
                    headers,
                    j,
                    f"a cell of {len(c):,} characters; at most {MAX_CELL_CHARS:,} (what one spreadsheet cell holds)",
                )
            m = REFUSED_TEXT.search(c)
            if m is not None:
                raise _refuse_cell(where, rownum, headers, j, refused_reason(m.group()))


_Cells = TypeVar("_Cells", bound=Sequence[Any])


def _is_filled(cells: Sequence[Any]) -> bool:
    return any((c.strip() if isinstance(c, str) else c is not None) for c in cells)


def checked_blocks(
    where: str,
    header_row: int,
    headers: Sequence[Any],
    blocks: Iterable[Any],
    require_rows: bool,
) -> Iterator[Any]:
    """The blocks of data rows (lists of (row number, cells)), each checked, and the reader's
    fast_csv.ColumnBlocks as they are; at the end, refuse a table without any row."""
    filled = not require_rows
    for block in blocks:
        if type(block) is not list:  # a fast_csv.ColumnBlock: checked by the compiled reader
            filled = filled or bool(block.nums)
            yield block
            continue
        _check_block(where, headers, block)
        if not filled:
            filled = any(_is_filled(cells) for _, cells in block)
        yield block
    if not filled:
        raise InspectError(f"{where}: no data rows below the header (row {header_row}); nothing to import")


def checked(
    where: str, header_row: int, headers: Sequence[Any], rows: Iterator[tuple[int, _Cells]], require_rows: bool
) -> Iterator[tuple[int, _Cells]]:
    """The data rows, checked block by block; at the end, refuse a table without any."""
    blocks = iter(lambda: list(islice(rows, BLOCK_ROWS)), [])
    for block in checked_blocks(where, header_row, headers, blocks, require_rows):
        yield from block


def chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest
