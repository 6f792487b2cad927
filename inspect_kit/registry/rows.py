"""A registry file's header and its rows, one at a time: cells → a record, or problems with the row.

`Layout.of(kind, file, headers)` maps the header to fields (ignored columns listed, a field given
twice or a required field missing is a problem of the file). `RowValidator.record` turns one row's
cells into a record dict (values in `Layout.names` order) or the problems of that row, each naming
the file, row and column: parse errors first, then the cross-field rules of registry.rules on that
row. Pure: the unit table and settings come in as values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, NamedTuple

from inspect_kit.errors import Problem
from inspect_kit.registry.rules import RULES, Columns, Flag, RuleContext, check
from inspect_kit.registry.schema import FIELDS, Field, header_index, plain_text
from inspect_kit.text import clean_cell, header_key


def cell_text(cell: Any) -> str:
    """A cell as the text that is validated (cleaned, whole floats without '.0', dates as ISO)."""
    if type(cell) is str:  # every CSV cell, most xlsx cells
        return clean_cell(cell)
    if isinstance(cell, (dt.date, dt.datetime)):
        return cell.isoformat()[:10]
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # Excel stores whole numbers as floats
    return clean_cell(cell)


class Column(NamedTuple):
    cell: int  # index of the cell in a row
    name: str  # the field
    header: str  # as written in the file
    required: bool
    parse: Callable[[str], Any] | None  # None: the cleaned text itself


@dataclass(frozen=True)
class Layout:
    """Which cell of a row gives which field."""

    kind: str
    file: str
    columns: tuple[Column, ...]
    ignored: tuple[str, ...]  # headers that name no field
    problems: tuple[Problem, ...]  # of the header: a field twice, a required field missing

    @classmethod
    def of(cls, kind: str, file: str, headers: list[str]) -> Layout:
        index = header_index(FIELDS[kind])
        columns: list[Column] = []
        problems: list[Problem] = []
        ignored: list[str] = []
        seen: dict[str, str] = {}
        for i, h in enumerate(headers):
            header = clean_cell(h)
            if not header:
                continue
            f: Field | None = index.get(header_key(h))
            if f is None:
                ignored.append(header)
            elif f.name in seen:
                problems.append(
                    Problem(
                        f"columns {seen[f.name]!r} and {header!r} both give {f.name}; keep one",
                        file=file,
                        row=None,
                        column=header,
                    )
                )
            else:
                seen[f.name] = header
                columns.append(Column(i, f.name, header, f.required, None if f.parse is plain_text else f.parse))
        for f in FIELDS[kind]:
            if f.required and f.name not in seen:
                problems.append(
                    Problem(
                        f"missing required column {f.headers[0]} ({f.name}); accepted headers: {', '.join(f.headers)}",
                        file=file,
                    )
                )
        return cls(kind, file, tuple(columns), tuple(ignored), tuple(problems))

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def present(self) -> frozenset[str]:
        return frozenset(self.names)

    @cached_property
    def header_of(self) -> dict[str, str]:
        return {c.name: c.header for c in self.columns}

    def problem(self, rownum: int, flag: Flag) -> Problem:
        """A rule's flag as a problem of row `rownum` (the flag's own row index is not used)."""
        return Problem(flag.reason, self.file, rownum, self.header_of.get(flag.field, flag.field))


class RowValidator:
    """Turns (row number, cells) into a record dict, or problems."""

    def __init__(self, layout: Layout, ctx: RuleContext):
        self.layout, self.ctx = layout, ctx
        self.file = layout.file
        self.rules = RULES[layout.kind]

    def record(self, rownum: int, cells: list[Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
        rec: dict[str, Any] = {}
        problems: list[Problem] = []
        n = len(cells)
        for i, name, header, required, parse in self.layout.columns:
            cell = cells[i] if i < n else None
            raw = clean_cell(cell) if type(cell) is str else cell_text(cell)
            if not raw:
                if required:
                    problems.append(Problem(f"missing required field {name}", self.file, rownum, header))
                rec[name] = [] if name == "qualifications" else None
                continue
            if parse is None:
                rec[name] = raw
                continue
            try:
                rec[name] = parse(raw)
            except ValueError as exc:
                problems.append(Problem(str(exc), self.file, rownum, header))
        if problems:
            return None, problems
        cols: Columns = {k: [v] for k, v in rec.items()}  # the row as columns of one value, for the rules
        flags = check(self.rules, self.ctx, cols)
        if flags:
            return None, [self.layout.problem(rownum, f) for f in flags]
        return {k: v[0] for k, v in cols.items()}, []
