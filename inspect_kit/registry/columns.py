"""The column-wise fast path of a registry import: a whole block of rows validated at once.

`ColumnValidator.block(rows)` gives the records of a block as columns — exactly the values
rows.RowValidator.record would give row by row — when EVERY row passes, or None when any row may
have a problem; the caller then validates that block row by row, which gives the reasons. So the
reasons are written once (schema parsers, registry.rules), and this path only has to be right
about "all pass".

Speed (a million rows is a normal county file): one cleanliness test per column, parsed values
remembered per distinct cell, plain str functions for ASCII codes and phone numbers, and the rules
of registry.rules run on the whole block (the USCC checksum as one base-34 number per code).
Entities only: their fields are all single values (an inspector's qualifications are a list).
Turned off by ImportOptions(columnwise=False); tests compare both paths on the same files.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any, Callable, Sequence

from inspect_kit.registry import fast_csv
from inspect_kit.registry.rows import Layout, cell_text
from inspect_kit.registry.rules import RULES, RuleContext, passes
from inspect_kit.registry.schema import parse_phone
from inspect_kit.text import clean_cells, clean_code

MEMO_LIMIT = 4096  # distinct values of a column whose parsed value is remembered
KINDS = frozenset({"entities"})  # registries whose blocks may go column by column

# Parsers that are a plain str function (None: the identity) on ASCII text without spaces.
_ASCII_FAST: dict[Callable[[str], Any], Callable[[str], str] | None] = {clean_code: str.upper, parse_phone: None}


class ColumnValidator:
    def __init__(self, layout: Layout, ctx: RuleContext):
        self.layout, self.ctx = layout, ctx
        self.rules = RULES[layout.kind]
        self._memo: list[dict[str, Any] | None] = [{} for _ in layout.columns]
        self.max_index = max((c.cell for c in layout.columns), default=-1)

    def block(self, rows: Sequence[list[Any]]) -> list[Sequence[Any]] | None:
        """The records of rows that ALL pass, as columns in layout.names order, or None if any row
        may have a problem: then validate the rows one by one."""
        if min(map(len, rows)) <= self.max_index:
            return None
        cells = list(zip(*rows))
        return self.columns([cells[c.cell] for c in self.layout.columns])

    def columns(self, cells: Sequence[Sequence[Any]], flags: Sequence[int] | None = None) -> list[Sequence[Any]] | None:
        """As `block`, for the cells of rows given as columns (one per layout column). With `flags`
        (a fast_csv.ColumnBlock's), the cells are str already cleaned, and flags[j] has the EMPTY and
        ASCII_NO_SPACE bits of column j."""
        out: list[Sequence[Any]] = []
        for j, (_, _, _, required, parse) in enumerate(self.layout.columns):
            col = self._column(j, cells[j], required, parse, None if flags is None else flags[j])
            if col is None:
                return None
            out.append(col)
        named = dict(zip(self.layout.names, out))
        if not passes(self.rules, self.ctx, named):
            return None
        return list(named.values())

    def _column(
        self, j: int, col: Sequence[Any], required: bool, parse: Callable[[str], Any] | None, flags: int | None
    ) -> Sequence[Any] | None:
        """One column's parsed values, or None if a cell of it has a problem."""
        if flags is not None:
            raws, has_empty = col, bool(flags & fast_csv.EMPTY)
        else:
            try:
                raws = clean_cells(col)
            except TypeError:  # not all str (xlsx)
                raws = list(map(cell_text, col))
            has_empty = "" in raws
        if has_empty and required:
            return None
        if parse is None:
            return list(map({"": None}.get, raws, raws)) if has_empty else raws
        if (
            parse in _ASCII_FAST
            and not has_empty
            and (
                bool(flags & fast_csv.ASCII_NO_SPACE)
                if flags is not None
                else raws is col and all(map(str.isascii, raws)) and not any(map(str.__contains__, raws, repeat(" ")))
            )
        ):
            fast = _ASCII_FAST[parse]
            return raws if fast is None else list(map(fast, raws))
        memo = self._memo[j]
        try:
            if memo is not None:
                for c in set(raws).difference(memo):
                    memo[c] = None if c == "" else parse(c)
                if len(memo) > MEMO_LIMIT:
                    self._memo[j] = None  # many distinct values: remembering them does not pay
                return list(map(memo.__getitem__, raws))
            if has_empty:
                return [None if c == "" else parse(c) for c in raws]
            return list(map(parse, raws))
        except ValueError:
            return None
