"""The `inspect` command as a user types it: exit codes, messages, JSON, speed of --help."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from inspect_kit.cli import app
from tests.conftest import CONFIGS, REGISTRIES, write_csv
from tests.helpers import ENTITY_HEADER, entity_row

runner = CliRunner()


def run(*args, db=None):
    base = ["--config", str(CONFIGS)] + (["--db", db] if db else [])
    return runner.invoke(app, base + [str(a) for a in args], catch_exceptions=False)


def run_main(*args):
    """Through main(), which turns user errors into exit code 1."""
    return subprocess.run(
        [sys.executable, "-m", "inspect_kit", "--config", str(CONFIGS), *map(str, args)], capture_output=True, text=True
    )


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys; from inspect_kit.cli import app; from typer.testing import CliRunner; "
        "CliRunner().invoke(app, ['--help']); "
        "print(sorted(m for m in ('sqlalchemy','numpy','scipy','reportlab','openpyxl','pydantic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_command_has_help_with_an_example():
    import typer.main

    cmd = typer.main.get_command(app)

    def walk(group, path):
        for name, sub in group.commands.items():
            if hasattr(sub, "commands"):
                yield from walk(sub, path + [name])
            else:
                yield path + [name], sub

    for path, sub in walk(cmd, []):
        assert "Example:" in (sub.help or ""), f"inspect {' '.join(path)} has no example in its help"


def test_full_registry_workflow(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert run("init", db=db).exit_code == 0
    assert run("config", "load", db=db).exit_code == 0
    r = run("registry", "import", "entities", REGISTRIES / "entities_sthj.csv", "--dry-run", db=db)
    assert r.exit_code == 0 and "50 added" in r.output and "dry run" in r.output
    r = run("registry", "import", "entities", REGISTRIES / "entities_sthj.csv", db=db)
    assert "50 added" in r.output
    r = run("registry", "list", "entities", "--category", "重点排污单位", "--json", "--limit", "0", db=db)
    data = json.loads(r.output)
    assert data["total"] == 16 and len(data["records"]) == 16
    out = tmp_path / "e.xlsx"
    assert run("registry", "export", "entities", "-o", out, db=db).exit_code == 0
    r = run("registry", "import", "entities", out, db=db)
    assert "50 unchanged" in r.output


def test_user_errors_exit_1_with_a_message_and_no_traceback(tmp_path):
    db = tmp_path / "x.db"
    r = run_main("--db", db, "registry", "list")
    assert r.returncode == 1 and "run `inspect init` first" in r.stderr and "Traceback" not in r.stderr
    subprocess.run([sys.executable, "-m", "inspect_kit", "--db", str(db), "init"], check=True, capture_output=True)
    subprocess.run(
        [sys.executable, "-m", "inspect_kit", "--config", str(CONFIGS), "--db", str(db), "config", "load"],
        check=True,
        capture_output=True,
    )
    bad = write_csv(tmp_path / "bad.csv", [ENTITY_HEADER, entity_row(1), entity_row(2, 类别="火星")])
    r = run_main("--db", db, "registry", "import", "entities", bad)
    assert r.returncode == 1
    assert f"{bad}, row 3, column '类别': unknown category '火星'" in r.stderr
    assert "nothing was written" in r.stderr and "Traceback" not in r.stderr


def test_usage_errors_exit_2():
    assert run_main("registry", "import", "planets", "x.csv").returncode == 2
    assert run_main("--no-such-option").returncode == 2


def test_config_check_reports_key(tmp_path):
    bad = tmp_path / "matters.toml"
    bad.write_text(
        (CONFIGS / "matters.toml").read_text(encoding="utf-8").replace('quota = "1:10"', 'quota = "1:ten"'),
        encoding="utf-8",
    )
    r = run_main("config", "check", bad)
    assert r.returncode == 1 and "key 'matter[1].quota'" in r.stderr
    assert run_main("config", "check").returncode == 0


def test_every_date_option_reads_the_registry_forms_and_errors_keep_their_brackets(tmp_path):
    """One date parser for every command (2026/1/5 works in publish as in findings), and an error
    that quotes a settings section keeps its [brackets] (no Rich markup eats them)."""
    import subprocess
    import sys

    from inspect_kit.cli.options import date_value
    from inspect_kit.errors import InspectError

    assert date_value("2026/1/5", "--date") == date_value("2026年1月5日", "--date") == dt.date(2026, 1, 5)
    with pytest.raises(InspectError, match="--date: .*not a date"):
        date_value("5 January", "--date")
    db = tmp_path / "x.db"

    def run(*a: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "inspect_kit", "--db", str(db), *a],
            capture_output=True,
            text=True,
        )

    assert run("init").returncode == 0
    r = run("publish", "draw", "--quarter", "2026Q1", "--date", "2026/13/5", "-o", str(tmp_path / "x.pdf"))
    assert r.returncode == 1 and "--date" in r.stderr and "not a real date" in r.stderr
    bad = tmp_path / "configs"
    bad.mkdir()
    for name in ("units.toml", "matters.toml", "assessment.toml"):
        (bad / name).write_bytes((CONFIGS / name).read_bytes())
    (bad / "settings.toml").write_text(
        (CONFIGS / "settings.toml")
        .read_text(encoding="utf-8")
        .replace("extra_holidays = []", 'extra_holidays = ["x"]'),
        encoding="utf-8",
    )
    r = subprocess.run(
        [sys.executable, "-m", "inspect_kit", "--config", str(bad), "--db", str(db), "findings", "due"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1 and "settings.toml [findings] extra_holidays" in r.stderr, r.stderr


def test_a_key_taken_by_a_concurrent_writer_is_a_message_not_a_traceback(monkeypatch, capsys):
    from sqlalchemy.exc import IntegrityError

    import inspect_kit.cli as cli

    def racing() -> None:
        raise IntegrityError("INSERT INTO units ...", {}, Exception("UNIQUE constraint failed: units.code"))

    monkeypatch.setattr(cli, "app", racing)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "someone else wrote the same records" in err and "Traceback" not in err

    def broken() -> None:
        raise ZeroDivisionError  # a bug is not dressed up as a user error

    monkeypatch.setattr(cli, "app", broken)
    with pytest.raises(ZeroDivisionError):
        cli.main()
