"""Database errors a user can cause are one line, name the database without its password, and
never print a traceback: a SQLite database locked past the busy timeout, an unreachable server, a
malformed URL or unknown driver, a value the driver refuses (NUL on PostgreSQL)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text

from inspect_kit.errors import InspectError
from inspect_kit.storage.db import init_database, make_engine
from inspect_kit.storage.urls import hide, redact, show_url
from tests.conftest import CONFIGS, NOW

SECRET = "s3cret-Pw"


def cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "inspect_kit", "--config", str(CONFIGS), *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def one_line_error(r) -> str:
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and SECRET not in r.stderr + r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


# -- passwords -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, shown",
    [
        (f"postgresql://bob:{SECRET}@db.example:5432/county", "postgresql://bob:***@db.example:5432/county"),
        (
            f"postgresql://bob:{SECRET}@db.example:port/county",
            "postgresql://bob:***@db.example:port/county",
        ),  # no parse
        (f"postgresql://bob:a@b/{SECRET}@db.example/county", "postgresql://bob:***@db.example/county"),  # raw @ and /
        (f"nosuchdriver://bob:{SECRET}@h/county", "nosuchdriver://bob:***@h/county"),
        (
            f"postgresql://db.example/county?user=bob&password={SECRET}",
            "postgresql://db.example/county?user=bob&password=***",
        ),
        ("sqlite:///var/data/青山.db", "sqlite:///var/data/青山.db"),
    ],
)
def test_urls_are_shown_without_passwords(url, shown):
    assert show_url(url) == shown
    assert SECRET not in redact(f"error: could not use {url!r} (retry)")
    assert redact(f"host=db password={SECRET} user=bob") == "host=db password=*** user=bob"


def test_a_driver_quoting_part_of_a_malformed_password_back_is_hidden_too():
    url = f"postgresql://bob:abc@{SECRET}@127.0.0.1:{closed_port()}/db"  # unescaped @: the host is 's3cret-Pw@...'
    assert SECRET not in hide(f"failed to resolve host '{SECRET}@127.0.0.1'", url)
    eng = make_engine(url)
    with pytest.raises(InspectError, match=r"^cannot connect to database postgresql\+psycopg://bob:\*\*\*@127") as exc:
        eng.connect()
    assert SECRET not in str(exc.value)


def closed_port() -> int:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_database_is_one_line_without_password():
    port = closed_port()
    line = one_line_error(cli("--db", f"postgresql://bob:{SECRET}@127.0.0.1:{port}/county", "registry", "list"))
    assert line.startswith(f"error: cannot connect to database postgresql+psycopg://bob:***@127.0.0.1:{port}/county: ")
    assert "refused" in line.lower()


@pytest.mark.parametrize(
    "url, reason",
    [
        (f"postgresql://bob:{SECRET}@127.0.0.1:notaport/county", "cannot open database postgresql"),
        (f"nosuchdriver://bob:{SECRET}@127.0.0.1/county", "Can't load plugin"),
        (f"postgresql+nosuchdriver://bob:{SECRET}@127.0.0.1/county", "Can't load plugin"),
    ],
)
def test_malformed_url_or_unknown_driver_never_shows_the_password(url, reason):
    with pytest.raises(InspectError) as exc:
        make_engine(url)
    assert reason in str(exc.value) and SECRET not in str(exc.value) and "bob:***@" in str(exc.value)


def test_malformed_url_through_the_cli(tmp_path):
    line = one_line_error(cli("--db", f"nosuchdriver://bob:{SECRET}@127.0.0.1/county", "init"))
    assert line == (
        "error: cannot open database nosuchdriver://bob:***@127.0.0.1/county: "
        "Can't load plugin: sqlalchemy.dialects:nosuchdriver"
    )


# -- SQLite busy timeout ---------------------------------------------------------------------------


@contextmanager
def write_lock(path):
    """Another program writing: a transaction holding SQLite's write lock until the block ends."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        con.rollback()
        con.close()


@pytest.fixture
def sqlite_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'county.db'}"
    eng = make_engine(url)
    init_database(eng)
    eng.dispose()
    return tmp_path / "county.db", url


def test_a_locked_database_waits_the_busy_timeout_then_says_so(sqlite_db, config):
    from inspect_kit.config.sync import sync_config
    from inspect_kit.storage.models import Unit

    path, url = sqlite_db
    eng = make_engine(url, busy_timeout=1)
    with write_lock(path):
        start = time.monotonic()
        with pytest.raises(InspectError) as exc:
            sync_config(eng, config, NOW)
        waited = time.monotonic() - start
    assert 0.9 <= waited < 5
    assert str(exc.value) == (
        f"database {url} is locked by another program that is writing to it; gave up after "
        "waiting 1 s (the busy timeout); nothing was written. Run the command again, or wait "
        "longer with --busy-timeout SECONDS (or INSPECT_DB_BUSY_TIMEOUT)"
    )
    with eng.connect() as c:
        assert c.execute(select(func.count()).select_from(Unit)).scalar_one() == 0
    sync_config(eng, config, NOW)  # the lock is gone: the same call goes through
    eng.dispose()


def test_busy_timeout_from_the_cli_option_and_the_environment(sqlite_db):
    path, url = sqlite_db
    with write_lock(path):
        line = one_line_error(cli("--db", url, "--busy-timeout", "0.5", "config", "load"))
        assert line.startswith(f"error: database {url} is locked by another program") and "0.5 s" in line
        line = one_line_error(cli("--db", url, "config", "load", env={"INSPECT_DB_BUSY_TIMEOUT": "0.5"}))
        assert "waiting 0.5 s (the busy timeout)" in line
    with pytest.raises(InspectError, match="INSPECT_DB_BUSY_TIMEOUT: 'soon' is not a number of seconds > 0"):
        os.environ["INSPECT_DB_BUSY_TIMEOUT"] = "soon"
        try:
            make_engine(url)
        finally:
            del os.environ["INSPECT_DB_BUSY_TIMEOUT"]
    with pytest.raises(InspectError, match="--busy-timeout: -1 is not"):
        make_engine(url, busy_timeout=-1)


# -- values the driver refuses ---------------------------------------------------------------------


def test_a_value_the_driver_refuses_is_a_clear_error(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores NUL; PostgreSQL refuses it")
    with pytest.raises(
        InspectError,
        match=r"^database postgresql\+psycopg://.* refused a value: PostgreSQL text "
        r"fields cannot contain NUL \(0x00\) bytes; nothing was written$",
    ):
        with engine.begin() as c:
            c.execute(text("SELECT :x"), {"x": "a\x00b"})
