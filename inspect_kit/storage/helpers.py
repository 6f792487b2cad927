"""Small storage idioms every service shares: chunked IN lists, a transaction that can be a dry run,
the id of an inserted row, and the (period, matter, year) filter of the list commands."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Select, Table, insert
from sqlalchemy.orm import QueryableAttribute

T = TypeVar("T")
S = TypeVar("S", bound=Select[Any])
CHUNK = 1000  # ids per IN (...): well below every backend's limit on bound parameters


def chunks(items: Sequence[T], n: int = CHUNK) -> Iterable[Sequence[T]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


class _DryRun(Exception):
    pass


@contextmanager
def transaction(engine: Engine, dry_run: bool = False) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back on an exception — and rolled
    back anyway when ``dry_run`` (everything was checked and written, nothing is kept)."""
    try:
        with engine.begin() as conn:
            yield conn
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass


@contextmanager
def write_transaction(
    engine: Engine, *, keys_by_construction: bool = False, temp_in_memory: bool = False
) -> Iterator[Connection]:
    """A transaction that reads and then writes, safely against a concurrent writer: on SQLite it
    takes the write lock first (BEGIN IMMEDIATE), so what it read cannot change before it writes
    (the driver otherwise starts the transaction only at the first INSERT); on PostgreSQL it is a
    plain transaction (the service locks the rows it depends on).

    Two settings for a bulk writer on SQLite, which SQLite lets a connection change only outside a
    transaction, so for the whole of it; the connection's own settings are restored afterwards,
    whatever happened (or it is dropped from the pool). ``keys_by_construction``: the transaction
    does not look up the parent row of each foreign key it writes — only for a writer whose every
    key was read, in this same transaction, from the row it names (the draw: a drawn entity's id
    comes from the registry lookup of its identifier; at provincial scale a random lookup per task
    was most of the write). ``temp_in_memory``: its temporary tables live in memory, not in a file
    (PRAGMA temp_store; the draw's staging tables, some 200 MB at 10M entities). PostgreSQL is
    unaffected by either."""
    sqlite = engine.dialect.name == "sqlite"
    changed: list[tuple[str, int]] = []  # (pragma, value to restore)
    with engine.connect() as conn:
        try:
            with conn.begin():  # the driver has not begun a transaction yet: the pragmas take effect
                for wanted, name, value in (
                    (keys_by_construction, "foreign_keys", "OFF"),
                    (temp_in_memory, "temp_store", "MEMORY"),
                ):
                    if sqlite and wanted:
                        changed.append((name, int(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one())))
                        conn.exec_driver_sql(f"PRAGMA {name}={value}")
                if sqlite:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
        finally:
            if changed:
                _restore_pragmas(conn, changed)


def _restore_pragmas(conn: Connection, changed: list[tuple[str, int]]) -> None:
    """The connection's pragmas set back (read back to be sure), or the connection is not reused."""
    try:
        ok = True
        for name, value in changed:
            conn.exec_driver_sql(f"PRAGMA {name}={int(value)}")
            ok = ok and conn.exec_driver_sql(f"PRAGMA {name}").scalar() == value
        conn.rollback()  # ends the SQLAlchemy transaction the pragmas began (nothing to undo)
        if ok:
            return
    except Exception:  # a broken connection: it is dropped below
        pass
    conn.invalidate()


def insert_id(conn: Connection, table: Table, **values: Any) -> int:
    """Insert one row into ``table`` and return the primary key the database gave it."""
    key = conn.execute(insert(table).values(**values)).inserted_primary_key
    assert key is not None  # a single-row INSERT always reports its key
    return int(key[0])


def rows_as_dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in rows]


def filter_periods(
    stmt: S,
    period_column: QueryableAttribute[str],
    matter_column: QueryableAttribute[str],
    *,
    period: str | None = None,
    matter: str | None = None,
    year: int | None = None,
) -> S:
    """``stmt`` restricted to one period label, one matter, and/or every period of a year (the
    year's own, its quarters and its months: the labels that start with it), as the list commands
    take them."""
    if period:
        stmt = stmt.where(period_column == period)
    if year is not None:
        stmt = stmt.where(period_column.like(f"{int(year):04d}%"))
    if matter:
        stmt = stmt.where(matter_column == matter)
    return stmt
