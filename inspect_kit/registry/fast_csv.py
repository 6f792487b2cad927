"""The common case of a CSV block, compiled: records → cleaned columns, or "not plainly clean".

`parse_block(...)` is inspect_kit._csvx.parse_block (inspect_kit/_csvx.c, built by `pip install -e .`;
optional: without a C compiler the install goes on and `active()` is False). It reads the records
of a block of decoded CSV text as csv.reader would, checks every cell as registry.table does
(refused characters, cell length, width, a leading apostrophe to restore) and leaves blank lines
out, and gives the wanted cells column by column, each cleaned (text.clean_cell where it is not
plainly clean). For any block it cannot vouch for it returns None, and the caller reads that block
with csv.reader and the Python checks: every refusal and every problem report (file, row, column,
reason) comes from the Python code, and a block read either way gives the same records
(tests/test_fast_csv.py imports random hostile files both ways and compares the databases).

`enabled = False` (or INSPECT_CSVX=0 in the environment) reads every block the Python way.
"""

from __future__ import annotations

import os
from array import array
from dataclasses import dataclass
from typing import Any, Callable, Sequence, cast

try:
    from inspect_kit import _csvx
except ImportError:  # not built (no C compiler at install): every block is read by csv.reader
    _csvx = None  # type: ignore[assignment,unused-ignore]

enabled = os.environ.get("INSPECT_CSVX", "1") != "0"

EMPTY = 1  # flag: some cell of the column is ""
ASCII_NO_SPACE = 2  # flag: every cell of the column is ASCII without a space


def _row_hashes_agree() -> bool:
    """Whether _csvx.row_hashes gives hash(tuple(row)) on this Python (it copies tupleobject.c)."""
    if _csvx is None:
        return False
    cols: list[list[Any]] = [["a", "", "名称"], [None, 1, -1], [(1, "x"), 2.5, "😀"]]
    got = array("q")
    got.frombytes(_csvx.row_hashes(cols))
    return list(got) == [hash(t) for t in zip(*cols)]


_ROW_HASHES = _row_hashes_agree()


def available() -> bool:
    """Whether the C extension was built."""
    return _csvx is not None


def active() -> bool:
    """Whether blocks are read by the extension (built and not turned off)."""
    return enabled and _csvx is not None


@dataclass
class ColumnBlock:
    """The non-blank records of a block, as columns of cleaned cells.

    `nums[k]` is the line of record k; `cells[j][k]` its cell `wanted[j]` (cleaned, "" if the record
    is shorter); `flags[j]` the EMPTY and ASCII_NO_SPACE bits of column j."""

    nums: list[int]
    cells: list[list[str]]
    flags: list[int]

    def rows(self, wanted: tuple[int, ...]) -> list[tuple[int, list[Any]]]:
        """The records as (line, cells) pairs (the wanted cells at their places, "" elsewhere): what
        the row-by-row validation reads (cleaning a cleaned cell changes nothing)."""
        width = max(wanted, default=-1) + 1
        out: list[tuple[int, list[Any]]] = []
        for k, num in enumerate(self.nums):
            row: list[Any] = [""] * width
            for j, c in enumerate(wanted):
                row[c] = self.cells[j][k]
            out.append((num, row))
        return out


def parse_block(
    text: str,
    pos: int,
    max_records: int,
    final: bool,
    delimiter: str,
    first_line: int,
    wanted: tuple[int, ...],
    clean: Callable[[str], str],
) -> tuple[int, int, ColumnBlock] | None:
    """(end index, lines read, the block) or None: see the module docstring and _csvx.c."""
    out = _csvx.parse_block(text, pos, max_records, final, delimiter, first_line, wanted, clean)
    if out is None:
        return None
    end, lines, nums, cells, flags = out
    return end, lines, ColumnBlock(nums, cells, flags)


def json_columns(columns: Sequence[Sequence[Any]], jsonable: Callable[[Any], Any]) -> str | None:
    """storage.db.json_dumps([[jsonable(v) for v in c] for c in columns]), the same text, when every
    value is str or None or jsonable makes it so; else None (serialize it in Python)."""
    out = _csvx.json_columns(columns, jsonable)
    return None if out is None else str(out)


def uscc_all_valid(codes: list[Any]) -> bool | None:
    """registry.uscc.all_valid(codes), compiled; None if a code is not a str."""
    out = _csvx.uscc_all_valid(codes)
    return None if out is None else bool(out)


def row_hashes(cols: Sequence[Sequence[Any]]) -> bytes | None:
    """The int64 hash(tuple(row)) of every row of `cols` (lists), as bytes for array("q"); None
    where it cannot be computed here (the caller hashes in Python)."""
    if not _ROW_HASHES or not all(type(c) is list for c in cols):
        return None
    return bytes(_csvx.row_hashes(cast("list[list[Any]]", list(cols))))


def key_index() -> Any:
    """A fresh KeyIndex (get(key), add(key, ordinal), add_new(keys, start), len()): a dict of keys
    to ordinals with one cache miss a lookup."""
    return _csvx.KeyIndex()
