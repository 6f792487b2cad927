"""Bulk inserts for million-row imports and frames.

SQLAlchemy's executemany path processes every parameter of every row in Python; for an import of
a million rows that is most of the time. Here the INSERT is compiled once for the connection's
dialect, only the columns whose type needs it (dates in SQLite, JSON) are converted, and the rows
go straight to the driver's executemany: same SQL, same stored values, inside the caller's
transaction."""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import Connection, Table, bindparam, insert


def _remember_last(process):
    """A bind processor that reuses its last result for the same value: a batch's timestamps
    are one object, converted once instead of once per row."""
    last: list = [object(), None]

    def run(value):
        if value is not last[0] or isinstance(value, (dict, list)):
            last[0], last[1] = value, process(value)
        return last[1]

    return run


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys."""
    if not rows:
        return
    cols = list(rows[0])
    compiled = insert(table).values({c: bindparam(c) for c in cols}).compile(dialect=conn.dialect)
    procs = {}
    for c in cols:
        p = table.c[c].type._cached_bind_processor(conn.dialect)
        if p is not None:
            procs[c] = _remember_last(p)
    if compiled.positional:
        order = compiled.positiontup
        params: list = [tuple(procs[c](r[c]) if c in procs else r[c] for c in order) for r in rows]
    else:
        params = [{c: (procs[c](r[c]) if c in procs else r[c]) for c in cols} for r in rows]
    conn.exec_driver_sql(compiled.string, params)
