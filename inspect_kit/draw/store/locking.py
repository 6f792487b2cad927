"""Serialising the writers of one (matter, period), and the one-transaction write that turns a
lost race into a clear error; shared by prepare, run and unseal (inspect_kit.draw.service)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from inspect_kit.errors import InspectError
from inspect_kit.nogc import paused_gc
from inspect_kit.storage.helpers import write_transaction

T = TypeVar("T")


def latest(conn: Connection, table: Any, matter: str, period: str, lock: bool = False) -> Any:
    stmt = (
        select(table)
        .where(table.c.matter_code == matter, table.c.period == period)
        .order_by(table.c.id.desc())
        .limit(1)
    )
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


def lock_period(conn: Connection, matter: str, period: str) -> None:
    """Serialise the commands that commit or draw one (matter, period): on PostgreSQL a transaction
    advisory lock (released at commit), so the second of two operators sees the first one's records;
    SQLite is serialised by the write transaction itself (storage.helpers.write_transaction)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"inspect-kit draw {matter} {period}"}
        )


# Bytes of a SQLite file that writing a draw's tasks reads through a memory map instead of read()
# calls: it looks up every drawn entity in the registry's indexes and rows at random, and each
# lookup through read() is a system call and a copy per page (the 184,000 tasks of a 1M registry:
# 1.33 s of CPU through read(), 0.91 s mapped). Bounded, and only around that statement, because
# mapped pages count in the process's resident memory (by then the frame's identifiers are freed);
# files beyond it are read as before.
SQLITE_MMAP_BYTES = 256 << 20


@contextmanager
def mapped_reads(conn: Connection, size: int = SQLITE_MMAP_BYTES) -> Iterator[None]:
    """Within the block, SQLite reads the first ``size`` bytes of the file through a memory map
    (the connection's previous setting is restored afterwards); nothing on other databases."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA mmap_size").scalar() or 0
    conn.exec_driver_sql(f"PRAGMA mmap_size={int(size)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA mmap_size={int(before)}")


def write(engine: Engine, what: str, work: Callable[[Connection], T], *, bulk: bool = False) -> T:
    """Run ``work(conn)`` in one transaction; a lost race with another writer is a clear error.
    The cyclic garbage collector is paused meanwhile (inspect_kit.nogc: a provincial frame is
    millions of objects). ``bulk``: the draw's write on SQLite, keys by construction and temporary
    tables in memory (see storage.helpers.write_transaction)."""
    try:
        with paused_gc(), write_transaction(engine, keys_by_construction=bulk, temp_in_memory=bulk) as conn:
            return work(conn)
    except IntegrityError as exc:
        raise InspectError(
            f"someone else {what} at the same time; nothing was written: run the command again "
            f"({str(exc.orig).splitlines()[0]})"
        ) from None
    except OperationalError as exc:
        if "could not serialize" in str(exc) or "deadlock" in str(exc):
            raise InspectError(
                f"someone else {what} at the same time; nothing was written: run the command again"
            ) from None
        raise
