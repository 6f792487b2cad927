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
# Argon2's cheapest parameters for the hundreds of test accounts (inspect_kit.accounts.passwords);
# test_web_auth checks that the real default is the strong one.
os.environ.setdefault("INSPECT_PASSWORD_HASH", "cheapest")
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
    name = f"inspect_test_{uuid.uuid4().hex[:12]}"
    try:
        yield _pg_create(name)
    finally:
        _pg_drop(name)


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
        return ImportOptions(
            now=kw.pop("now", NOW), known_categories=kw.pop("known_categories", config.categories), **kw
        )

    return make


@pytest.fixture
def configured(engine, config):
    """A database with the demo config's units and matters stored."""
    from inspect_kit.config.sync import sync_config

    sync_config(engine, config, NOW)
    return engine


@pytest.fixture(scope="session")
def _demo_templates(tmp_path_factory):
    """The demo county loaded once per backend; each test gets a copy (a file copy on SQLite,
    CREATE DATABASE ... TEMPLATE on PostgreSQL), which is far faster than importing again."""
    built: dict[str, str] = {}

    def get(backend: str) -> str:
        if backend not in built:
            from inspect_kit.config import load_config
            from inspect_kit.config.sync import sync_config
            from inspect_kit.demo import REGISTRY_FILES
            from inspect_kit.registry.importer import ImportOptions, import_registry
            from inspect_kit.storage.db import init_database, make_engine

            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('tpl') / 'demo.db'}"
            else:
                url = _pg_create(f"inspect_tpl_{uuid.uuid4().hex[:12]}")
            eng = make_engine(url)
            init_database(eng)
            cfg = load_config(CONFIGS)
            sync_config(eng, cfg, NOW)
            for kind, name in REGISTRY_FILES:
                import_registry(eng, kind, REGISTRIES / name, ImportOptions(now=NOW, known_categories=cfg.categories))
            eng.dispose()
            built[backend] = url
        return built[backend]

    yield get
    for backend, url in built.items():
        if backend == "postgres":
            _pg_drop(url.rsplit("/", 1)[1])


def _pg_create(name: str, template: str | None = None) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE {template or 'template0'}"))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _pg_drop(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def demo_db(db_url, _demo_templates):
    """The demo county fully loaded: config, every registry file, conflicts."""
    import shutil

    from inspect_kit.storage.db import make_engine

    if db_url.startswith("sqlite"):
        template = _demo_templates("sqlite")
        shutil.copyfile(template.removeprefix("sqlite:///"), db_url.removeprefix("sqlite:///"))
    else:
        template = _demo_templates("postgres")
        name = db_url.rsplit("/", 1)[1]
        _pg_drop(name)
        _pg_create(name, template=f'"{template.rsplit("/", 1)[1]}"')
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


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


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """`inspect demo --out DIR` run once per session: (DIR, the finished process). Tests read the
    folder and copy the database before changing anything."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("demo") / "demo-output"
    r = subprocess.run(
        [sys.executable, "-m", "inspect_kit", "demo", "--out", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    return out, r


@pytest.fixture
def twin(db_url, tmp_path, config):
    """A second, separately configured database on the same backend."""

    from inspect_kit.config.sync import sync_config
    from inspect_kit.storage.db import init_database, make_engine

    name = None
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'twin.db'}"
    else:
        name = f"inspect_test_{uuid.uuid4().hex[:12]}"
        url = _pg_create(name)
    eng = make_engine(url)
    init_database(eng)
    sync_config(eng, config, NOW)
    yield eng
    eng.dispose()
    if name:
        _pg_drop(name)
