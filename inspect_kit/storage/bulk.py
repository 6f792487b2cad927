"""Bulk inserts for million-row imports and frames.

SQLAlchemy's executemany path processes every parameter of every row in Python; for an import of
a million rows that is most of the time. Here the INSERT is compiled once for the connection's
dialect, only the columns whose type needs it (dates in SQLite, JSON) are converted, and the rows
go straight to the driver's executemany: same SQL, same stored values, inside the caller's
transaction."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from itertools import chain, repeat
from typing import Any, Callable, Collection, Mapping, Sequence

from sqlalchemy import Column, Connection, Dialect, Table, bindparam, insert, select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

_Processor = Callable[[Any], Any]  # a bind processor: Python value → what the driver takes


def _remember_last(process: _Processor) -> _Processor:
    """A bind processor that reuses its last result for the same value: a batch's timestamps
    are one object, converted once instead of once per row."""
    last: list = [object(), None]

    def run(value: Any) -> Any:
        if value is not last[0] or isinstance(value, (dict, list)):
            last[0], last[1] = value, process(value)
        return last[1]

    return run


@lru_cache(maxsize=64)
def _compiled(dialect: Dialect, table: Table, cols: tuple[str, ...]) -> SQLCompiler:
    compiled = insert(table).values({c: bindparam(c) for c in cols}).compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)  # a statement compiles with the dialect's SQL compiler
    return compiled


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys."""
    if not rows:
        return
    cols = list(rows[0])
    compiled = _compiled(conn.dialect, table, tuple(cols))
    procs = {}
    for c in cols:
        p = table.c[c].type._cached_bind_processor(conn.dialect)
        if p is not None:
            procs[c] = _remember_last(p)
    order = _positional_order(compiled)
    if order is not None:
        params: list = [tuple(procs[c](r[c]) if c in procs else r[c] for c in order) for r in rows]
    else:
        params = [{c: (procs[c](r[c]) if c in procs else r[c]) for c in cols} for r in rows]
    conn.exec_driver_sql(compiled.string, params)


def _positional_order(compiled: SQLCompiler) -> list[str] | None:
    """The parameter names in bind order when the driver's paramstyle is positional, else None."""
    return compiled.positiontup if compiled.positional else None


class Same:
    """A column value shared by every row of a bulk_insert_columns call (converted once)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def _identity(s: Any) -> Any:
    return s


def _json_text_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[str], Any] | None:
    """How to bind JSON that is already text serialized by the dialect's json_serializer: as is
    when the type's processor would just serialize (SQLite), inside the driver's JSON wrapper
    with an identity dumps (psycopg), else parsed back and processed as usual."""
    proc = type_._cached_bind_processor(dialect)
    if proc is None:
        return json.loads
    probe: Any = {"k": ["\u00e9", None]}
    out = proc(probe)
    if isinstance(out, str) and out == (dialect._json_serializer or json.dumps)(probe):
        return None
    if getattr(out, "obj", None) is probe and getattr(out, "dumps", 0) is None:
        wrap = type(out)
        return lambda text: wrap(text, _identity)
    return lambda text: proc(json.loads(text))


def bulk_insert_columns(
    conn: Connection,
    table: Table,
    columns: Mapping[str, Sequence[Any] | Same],
    n: int,
    *,
    json_text: Collection[str] = (),
    rows: Sequence[tuple[Any, ...]] | None = None,
) -> None:
    """Insert n rows given column by column: a sequence of n values, or Same(value) for all rows.

    Columns named in `json_text` hold JSON text exactly as the dialect's json_serializer writes it;
    it is bound without being serialized again. `rows`, if given, are the same n rows as tuples of
    the columns that are not Same, in `columns` order (spares zipping the columns once more).
    Same stored values as bulk_insert. On SQLite a Same value that is an integer or text is
    written into the statement as a literal, so that it is not bound once per row."""
    if n == 0:
        return
    dialect = conn.dialect
    if dialect.name == "sqlite":
        _sqlite_insert_columns(conn, table, columns, n, json_text, rows)
        return
    compiled = _compiled(dialect, table, tuple(columns))
    positional = _positional_order(compiled)
    order = positional if positional is not None else list(columns)
    seqs: list = []
    for c in order:
        v = columns[c]
        p = _processor(table, c, dialect, c in json_text)
        if isinstance(v, Same):
            seqs.append(repeat(v.value if p is None else p(v.value), n))
        else:
            if len(v) != n:
                raise ValueError(f"column {c} has {len(v)} values, expected {n}")
            seqs.append(v if p is None else map(p, v))
    if positional is not None:
        params: list = list(zip(*seqs))
    else:
        params = [dict(zip(order, t)) for t in zip(*seqs)]
    conn.exec_driver_sql(compiled.string, params)


def _processor(table: Table, c: str, dialect: Dialect, json_text: bool) -> _Processor | None:
    if json_text:
        return _json_text_processor(table.c[c].type, dialect)
    return table.c[c].type._cached_bind_processor(dialect)


# The compiled interleaving of columns into the parameters of multi-row INSERTs (the optional C
# extension of registry imports, inspect_kit/_csvx.c; INSPECT_CSVX=0 turns it off): the same tuples
# as zipping the columns and chaining `per` rows, without a tuple per row.
try:
    from inspect_kit import _csvx
except ImportError:  # not built
    _csvx = None  # type: ignore[assignment,unused-ignore]
_flat_rows: Callable[[list[list[Any]], int], list[tuple[Any, ...]]] | None = (
    _csvx.flat_rows if _csvx is not None and os.environ.get("INSPECT_CSVX", "1") != "0" else None
)

SQLITE_ROWS_PER_INSERT = 50
SQLITE_MAX_PARAMS = 999  # the lowest limit of any SQLite build (before 3.32)


def _sqlite_literal(value: Any) -> str | None:
    """`value` (as bound: after the type's processor) as an SQLite literal, or None to bind it."""
    if type(value) is int:
        return str(value)
    if type(value) is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def _sqlite_insert_columns(
    conn: Connection,
    table: Table,
    columns: Mapping[str, Sequence[Any] | Same],
    n: int,
    json_text: Collection[str],
    rows: Sequence[tuple[Any, ...]] | None,
) -> None:
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    marks: list[str] = []
    seqs: list = []
    for c, v in columns.items():
        p = _processor(table, c, dialect, c in json_text)
        if isinstance(v, Same):
            value = v.value if p is None else p(v.value)
            literal = _sqlite_literal(value)
            if literal is not None:
                marks.append(literal)
                continue
            rows = None  # bound after all: not in the caller's tuples
            seqs.append(repeat(value, n))
        else:
            if len(v) != n:
                raise ValueError(f"column {c} has {len(v)} values, expected {n}")
            if p is not None:
                rows = None
            seqs.append(v if p is None else list(map(p, v)))
        marks.append("?")
    head = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(map(quote, columns))}) VALUES "
    values = f"({', '.join(marks)})"
    # Several rows per statement: fewer statement runs for the same rows, in the same order.
    per = max(1, min(SQLITE_ROWS_PER_INSERT, SQLITE_MAX_PARAMS // max(1, len(seqs))))
    whole = n - n % per
    if rows is None and per > 1 and whole and _flat_rows is not None and seqs and all(type(s) is list for s in seqs):
        conn.exec_driver_sql(head + ", ".join([values] * per), _flat_rows(seqs, per))
        seqs = [s[whole:] for s in seqs]
        n, whole = n - whole, 0
    params: Sequence[tuple[Any, ...]] = rows if rows is not None else list(zip(*seqs))
    if per > 1 and whole:
        flat = chain.from_iterable
        many = [tuple(flat(params[i : i + per])) for i in range(0, whole, per)]
        conn.exec_driver_sql(head + ", ".join([values] * per), many)
        params = params[whole:]
    if params:
        conn.exec_driver_sql(head + values, params)


@lru_cache(maxsize=16)
def _compiled_lookup(dialect: Dialect, column: Column[Any], n: int) -> SQLCompiler:
    compiled = (
        select(column)
        .where(column.in_([bindparam(f"k{i}", type_=column.type) for i in range(n)]))
        .compile(dialect=dialect)
    )
    assert isinstance(compiled, SQLCompiler)  # as in _compiled
    return compiled


def any_exists(conn: Connection, column: Column, values: Sequence[Any]) -> bool:
    """Whether `column` holds any of `values` (one IN list: keep it under the backend's parameter
    limit). Compiled once per list length, unlike an expanding IN which renders every value."""
    if not values:
        return False
    compiled = _compiled_lookup(conn.dialect, column, len(values))
    p = column.type._cached_bind_processor(conn.dialect)
    vals = values if p is None else list(map(p, values))
    if compiled.positional:
        params: Any = tuple(vals)
    else:
        params = {f"k{i}": v for i, v in enumerate(vals)}
    return conn.exec_driver_sql(compiled.string, params).first() is not None
