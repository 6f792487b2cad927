"""Engines, sessions and schema management.

The database URL comes from, in order: the explicit argument (CLI `--db`), the environment
variable INSPECT_DB_URL, or `sqlite:///inspect.db` in the working directory. A bare file path
is accepted as a SQLite database.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, inspect as sa_inspect
from sqlalchemy.orm import Session, sessionmaker

from inspect_kit.errors import InspectError

DEFAULT_URL = "sqlite:///inspect.db"
ENV_VAR = "INSPECT_DB_URL"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def resolve_url(url: str | None = None) -> str:
    url = url or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in url:  # a plain path names a SQLite file
        url = f"sqlite:///{url}"
    if url.startswith("postgresql://"):  # prefer psycopg 3 over the psycopg2 default
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _json_dumps(obj) -> str:
    # Chinese stays readable in the database (sqlite3 shell, psql), and is shorter than \uXXXX.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def make_engine(url: str | None = None, **kwargs) -> Engine:
    url = resolve_url(url)
    kwargs.setdefault("json_serializer", _json_dumps)
    try:
        engine = create_engine(url, **kwargs)
    except Exception as exc:  # bad URL, missing driver
        raise InspectError(f"cannot open database {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
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

def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = alembic_config(None)  # type: ignore[arg-type]
    return ScriptDirectory.from_config(cfg).get_current_head()


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
            f"database {engine.url.render_as_string(hide_password=True)} is not empty "
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
        raise InspectError(f"the database is at revision {rev}, this version needs {head}; "
                           "run `inspect db upgrade`")


def open_database(url: str | None = None) -> Engine:
    engine = make_engine(url)
    require_current(engine)
    return engine
