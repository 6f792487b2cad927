"""Engines, sessions and schema management.

The database URL comes from, in order: the explicit argument (CLI `--db`), the environment
variable INSPECT_DB_URL, or `sqlite:///inspect.db` in the working directory. A bare file path
is accepted as a SQLite database. A URL is only ever shown through `urls.show_url` (no password).

Database errors a user can cause become `InspectError` HERE, in one place (`_user_error`, an
engine `handle_error` hook), whatever the command: an unreachable server or an unopenable file
("cannot connect to database URL: reason"), a SQLite database another program keeps locked for
longer than the busy timeout, a value the driver refuses (DataError, e.g. a NUL in text on
PostgreSQL), a lost connection. A deadlock or serialization failure between two writers becomes
`ConcurrentWrite` (an InspectError a service may catch to say which write lost). Integrity
errors are left to the services, which know what a duplicate key means there.

Busy timeout (SQLite): a writer waits this long for another writer's lock before giving up with
that message; `busy_timeout` seconds, else INSPECT_DB_BUSY_TIMEOUT, else 10 (the CLI's
`--busy-timeout`). PostgreSQL writers wait for row locks as long as the holder's transaction runs.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from inspect_kit.errors import InspectError
from inspect_kit.storage.urls import hide, show_url

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import ExceptionContext

DEFAULT_URL = "sqlite:///inspect.db"
ENV_VAR = "INSPECT_DB_URL"
BUSY_TIMEOUT_ENV = "INSPECT_DB_BUSY_TIMEOUT"
DEFAULT_BUSY_TIMEOUT = 10.0  # seconds
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def resolve_url(url: str | None = None) -> str:
    url = url or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in url:  # a plain path names a SQLite file
        url = f"sqlite:///{url}"
    if url.startswith("postgresql://"):  # prefer psycopg 3 over the psycopg2 default
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class ConcurrentWrite(InspectError):
    """Another writer's transaction conflicted with this one (deadlock, serialization failure);
    this one was rolled back and may simply be run again."""


def busy_timeout_seconds(value: float | str | None = None) -> float:
    """The busy timeout: `value`, else INSPECT_DB_BUSY_TIMEOUT, else 10 s; refused unless > 0."""
    where = "--busy-timeout"
    if value is None or value == "":
        value, where = os.environ.get(BUSY_TIMEOUT_ENV) or DEFAULT_BUSY_TIMEOUT, BUSY_TIMEOUT_ENV
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise InspectError(f"{where}: {value!r} is not a number of seconds > 0")
    return seconds


def _sqlite_pragmas(busy_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms:d}")
        cur.close()

    return on_connect


def _one_line(exc: BaseException, url: str = "") -> str:
    return hide(" ".join(str(exc).split()), url) or type(exc).__name__


_CONCURRENT_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def _user_error(busy_seconds: float, url: str) -> Callable[[ExceptionContext], None]:
    """The engine's handle_error hook: database errors a user can cause → InspectError."""
    from sqlalchemy import exc as sa_exc

    def translate(ctx: ExceptionContext) -> None:
        orig = ctx.original_exception
        shown = show_url(url)  # as typed: the parsed URL may hold a piece of a malformed password elsewhere
        reason = _one_line(orig, url)
        if "database is locked" in str(orig) or "database table is locked" in str(orig):
            raise InspectError(
                f"database {shown} is locked by another program that is writing to it; gave up after waiting "
                f"{busy_seconds:g} s (the busy timeout); nothing was written. Run the command again, or wait "
                f"longer with --busy-timeout SECONDS (or {BUSY_TIMEOUT_ENV})"
            ) from None
        if getattr(orig, "sqlstate", None) in _CONCURRENT_SQLSTATES:
            raise ConcurrentWrite(
                f"another writer changed the same records at the same time ({reason}); "
                "nothing was written, run the command again"
            ) from None
        if ctx.connection is None and isinstance(ctx.sqlalchemy_exception, sa_exc.DBAPIError):
            raise InspectError(f"cannot connect to database {shown}: {reason}") from None
        if ctx.is_disconnect:
            raise InspectError(f"lost the connection to database {shown}: {reason}") from None
        if isinstance(ctx.sqlalchemy_exception, sa_exc.DataError):
            raise InspectError(f"database {shown} refused a value: {reason}; nothing was written") from None

    return translate


def is_unique_violation(exc: BaseException) -> bool:
    """An IntegrityError from a unique key (two writers inserting the same key at once)."""
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


@contextmanager
def sqlite_cache(conn: Connection, kib: int) -> Iterator[None]:
    """On SQLite, a page cache of `kib` KiB for this connection while the block runs (a bulk insert
    into indexed tables then re-reads fewer index pages: a million-row import is a second faster);
    the connection's own size is put back after. Elsewhere nothing."""
    if conn.dialect.name != "sqlite":
        yield
        return
    old = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or 0)
    conn.exec_driver_sql(f"PRAGMA cache_size={-abs(int(kib)):d}")
    try:
        yield
    finally:
        with suppress(DBAPIError):  # a broken connection is not reused anyway
            conn.exec_driver_sql(f"PRAGMA cache_size={old:d}")


class JSONText(str):
    """JSON text exactly as json_dumps writes it (serialized ahead, e.g. by compiled code):
    json_dumps gives it back as it is."""

    __slots__ = ()


def json_dumps(obj: Any) -> str:
    if type(obj) is JSONText:
        return str(obj)
    # Chinese stays readable in the database (sqlite3 shell, psql), and is shorter than \uXXXX.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def make_engine(url: str | None = None, *, busy_timeout: float | str | None = None, **kwargs: Any) -> Engine:
    url = resolve_url(url)
    seconds = busy_timeout_seconds(busy_timeout)
    kwargs.setdefault("json_serializer", json_dumps)
    try:
        engine = create_engine(url, **kwargs)
    except Exception as exc:  # bad URL, missing driver: neither message may show the password
        raise InspectError(f"cannot open database {show_url(url)}: {_one_line(exc, url)}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(max(1, round(seconds * 1000))))
    event.listen(engine, "handle_error", _user_error(seconds, url))
    return engine


def sqlite_path(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    return Path(db) if db and db != ":memory:" else None


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls everything back on any exception."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session:
        with session.begin():
            yield session


def session(engine: Engine) -> Session:
    return sessionmaker(engine, expire_on_commit=False)()


# -- schema -----------------------------------------------------------------------------------


def alembic_config(engine: Engine | None) -> Config:
    """Alembic's configuration for the shipped migrations; `engine` is the database they run on
    (None when only the scripts are read)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(None)).get_current_head()
    assert head is not None  # the package ships its migrations
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def init_database(engine: Engine) -> None:
    """Create a new database at the head revision; refuse one that already has tables."""
    existing = sa_inspect(engine).get_table_names()
    if existing:
        raise InspectError(
            f"database {show_url(engine.url)} is not empty "
            f"({len(existing)} tables); use `inspect db upgrade` to migrate it"
        )
    upgrade(engine)


def require_current(engine: Engine) -> None:
    """Refuse to work on a missing or out-of-date schema, with the command that fixes it."""
    path = sqlite_path(engine)
    if path is not None and not path.exists():
        raise InspectError(f"no database at {path}; run `inspect init` first (or pass --db)")
    rev = current_revision(engine)
    if rev is None:
        raise InspectError("the database has no inspect-kit schema; run `inspect init` first")
    head = head_revision()
    if rev != head:
        raise InspectError(f"the database is at revision {rev}, this version needs {head}; run `inspect db upgrade`")


def open_database(url: str | None = None, *, busy_timeout: float | str | None = None) -> Engine:
    engine = make_engine(url, busy_timeout=busy_timeout)
    require_current(engine)
    return engine
