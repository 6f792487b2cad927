"""Shared fixtures. Storage tests run on SQLite and, when INSPECT_TEST_PG_URL names a server
(.ci/run starts one), on PostgreSQL too: each test gets its own new database there."""

from __future__ import annotations

import csv
import datetime as dt
import os
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
REGISTRIES = ROOT / "registries"
NOW = dt.datetime(2026, 1, 2, 9, 0)
PG_URL = os.environ.get("INSPECT_TEST_PG_URL")


def _backends():
    yield "sqlite"
    if PG_URL or os.environ.get("CI"):
        yield pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(params=list(_backends()))
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not PG_URL:
        pytest.fail("CI is set but INSPECT_TEST_PG_URL is not: .ci/run should start PostgreSQL")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"inspect_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        from sqlalchemy.pool import NullPool  # noqa: F401  (engines are disposed by their tests)

        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(db_url):
    from inspect_kit.storage.db import init_database, make_engine

    eng = make_engine(db_url)
    init_database(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def config():
    from inspect_kit.config import load_config

    return load_config(CONFIGS)


@pytest.fixture
def import_options(config):
    from inspect_kit.registry.importer import ImportOptions

    def make(**kw):
        return ImportOptions(now=kw.pop("now", NOW), known_categories=kw.pop("known_categories", config.categories), **kw)

    return make


@pytest.fixture
def configured(engine, config):
    """A database with the demo config's units and matters stored."""
    from inspect_kit.config.sync import sync_config

    sync_config(engine, config, NOW)
    return engine


@pytest.fixture
def demo_db(configured, import_options):
    """The demo county fully loaded: config, every registry file, conflicts."""
    from inspect_kit.demo import REGISTRY_FILES
    from inspect_kit.registry.importer import import_registry

    for kind, name in REGISTRY_FILES:
        import_registry(configured, kind, REGISTRIES / name, import_options())
    return configured


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path
