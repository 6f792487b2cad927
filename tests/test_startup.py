"""Start-up: `inspect --help` and the help of every command group import no heavy library.

The guarantee is tested, not the clock: `python -X importtime` lists every module a run imports,
so a heavy import sneaking back into the help path fails here on any machine, loaded or not.
(benchmarks/bench_startup.py measures the wall time.)
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import CONFIGS

HEAVY = ("sqlalchemy", "numpy", "scipy", "pydantic", "openpyxl", "reportlab", "alembic", "psycopg")


def imported_modules(*args: str, env: dict[str, str] | None = None) -> tuple[set[str], subprocess.CompletedProcess]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "inspect_kit", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "typer" in modules, done.stderr[-2000:]  # the listing itself works
    return modules, done


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["draw", "--help"],
        ["assign", "--help"],
        ["draw", "run", "--help"],
        ["paper", "notice", "--help"],
        ["publish", "plan", "--help"],
    ],
    ids=" ".join,
)
def test_help_imports_no_heavy_module(args):
    modules, done = imported_modules(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage" in done.stdout
    assert heavy(modules) == []


def test_unset_options_skip_coercion_but_given_values_are_still_checked(tmp_path):
    # A given root option is coerced as before: a bad number is a usage error naming the option...
    bad = subprocess.run(
        [sys.executable, "-m", "inspect_kit", "--busy-timeout", "soon", "draw", "--help"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "--busy-timeout" in bad.stderr
    # ...from the environment too...
    env_bad = subprocess.run(
        [sys.executable, "-m", "inspect_kit", "draw", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "INSPECT_DB_BUSY_TIMEOUT": "soon"},
    )
    assert env_bad.returncode == 2 and "busy" in env_bad.stderr.lower()
    # ...a required argument left out is still missing...
    missing = subprocess.run(
        [sys.executable, "-m", "inspect_kit", "--config", str(CONFIGS), "registry", "import"],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "Missing" in missing.stderr
    # ...and a good value still reaches the command (an empty database has no schema yet).
    db = tmp_path / "x.db"
    ok = subprocess.run(
        [sys.executable, "-m", "inspect_kit", "--db", f"sqlite:///{db}", "--busy-timeout", "2.5", "db", "current"],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "no schema" in ok.stdout, ok.stderr


def test_a_command_that_runs_still_imports_what_it_needs(tmp_path):
    db = tmp_path / "x.db"
    modules, done = imported_modules("--db", f"sqlite:///{db}", "db", "current")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sqlalchemy" in modules  # the lazy path is lazy, not broken
