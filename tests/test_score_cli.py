"""`inspect score ...` as a user types it: the workflow end to end, JSON output, exit codes.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sys

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from inspect_kit.cli import app, main
from inspect_kit.storage.models import Notice, ScoringRun
from tests.conftest import CONFIGS, write_csv
from tests.factories import make_draw

runner = CliRunner()


@pytest.fixture
def db(configured):
    """A configured county (units and matters) with one draw, as a URL for --db."""
    from inspect_kit.registry.importer import ImportOptions, import_registry
    from tests.conftest import NOW, REGISTRIES

    import_registry(
        configured,
        "entities",
        REGISTRIES / "entities_sthj.csv",
        ImportOptions(now=NOW, known_categories=frozenset(["重点排污单位", "一般排污单位"])),
    )
    from inspect_kit.storage.models import Entity

    with configured.connect() as c:
        key = [
            r[0]
            for r in c.execute(
                select(Entity.identifier).where(Entity.category == "重点排污单位").order_by(Entity.identifier).limit(3)
            )
        ]
    make_draw(configured, "STHJ-01", "2026Q1", key)
    return configured, configured.url.render_as_string(hide_password=False)


def run(url: str, *args):
    result = runner.invoke(app, ["--config", str(CONFIGS), "--db", url, *map(str, args)], catch_exceptions=False)
    return result


def exit_code(url: str, monkeypatch, capsys, *args) -> tuple[int, str]:
    """Through main(), which turns user errors into exit code 1 (usage errors are 2)."""
    monkeypatch.setattr(sys, "argv", ["inspect", "--config", str(CONFIGS), "--db", url, *map(str, args)])
    with pytest.raises(SystemExit) as exc:
        main()
    captured = capsys.readouterr()
    return exc.value.code or 0, captured.out + captured.err


def test_score_workflow(db, tmp_path):
    engine, url = db
    r = run(url, "score", "--year", 2026, "--as-of", "2026-06-30", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["run_id"] == 1 and data["as_of"] == "2026-06-30" and len(data["ranking"]) == 8
    assert {row["code"] for row in data["ranking"]} >= {"STHJ", "CHENGGUAN"}

    r = run(url, "score", "input", "STHJ", "training", "4", "--year", 2026, "--note", "培训签到表", "--by", "张三")
    assert r.exit_code == 0 and "manual value #1" in r.output
    sheet = write_csv(
        tmp_path / "manual.csv",
        [
            ["单位", "指标", "值", "说明"],
            ["SCJG", "case_quality", "1.5", "线索未移送"],
            ["JYTY", "info_disclosure", "9", "网站截图"],
        ],
    )
    r = run(url, "score", "import", sheet, "--year", 2026)
    assert r.exit_code == 0 and "2 manual values added" in r.output, r.output
    r = run(url, "score", "values", "--year", 2026, "--json")
    assert [v["indicator"] for v in json.loads(r.output)] == ["training", "case_quality", "info_disclosure"]

    r = run(url, "score", "--year", 2026, "--as-of", "2026-06-30")
    assert r.exit_code == 0 and "scoring run #2" in r.output and "青山县生态环境局" in r.output
    r = run(url, "score", "explain", "STHJ", "--year", 2026)
    assert r.exit_code == 0
    lines = r.output.strip().splitlines()
    assert "执法人员业务培训次数" in r.output and lines[-1].startswith("合计：")
    assert "未达标记录" in r.output  # the undrawn cells behind the plan completion rate
    r = run(url, "score", "explain", "STHJ", "--run", 1)
    assert r.exit_code == 0 and "考评运行 #1" in r.output

    r = run(url, "score", "runs", "--json")
    assert [x["id"] for x in json.loads(r.output)] == [1, 2]
    r = run(url, "score", "verify", 2)
    assert r.exit_code == 0 and "REPRODUCED" in r.output

    out = tmp_path / "考评结果.pdf"
    r = run(url, "score", "report", "--year", 2026, "-o", out, "--issue-date", "2026-06-30")
    assert r.exit_code == 0 and out.exists() and "scoring run #2" in r.output, r.output
    with engine.connect() as c:
        assert c.execute(select(Notice.kind, Notice.period)).all() == [("score", "2026")]


def test_exit_codes(db, tmp_path, monkeypatch, capsys):
    engine, url = db
    assert exit_code(url, monkeypatch, capsys, "score", "--year", 2026, "--as-of", "2026-06-30")[0] == 0
    # usage errors: 2
    assert exit_code(url, monkeypatch, capsys, "score")[0] == 2
    assert exit_code(url, monkeypatch, capsys, "score", "explain", "STHJ")[0] == 2
    # user errors: 1, with the reason
    code, out = exit_code(url, monkeypatch, capsys, "score", "verify", 99)
    assert code == 1 and "no scoring run #99" in out
    code, out = exit_code(url, monkeypatch, capsys, "score", "explain", "STHJ", "--year", 2025)
    assert code == 1 and "no scoring run for 2025" in out
    code, out = exit_code(url, monkeypatch, capsys, "score", "explain", "NOPE", "--year", 2026)
    assert code == 1 and "not in scoring run" in out
    code, out = exit_code(
        url, monkeypatch, capsys, "score", "input", "STHJ", "training", "许多", "--year", 2026, "--note", "x"
    )
    assert code == 1 and "not a number" in out
    bad = write_csv(tmp_path / "bad.csv", [["单位", "指标", "值", "说明"], ["STHJ", "training", "4", ""]])
    code, out = exit_code(url, monkeypatch, capsys, "score", "import", bad, "--year", 2026)
    assert code == 1 and "row 2" in out and "说明" in out
    code, out = exit_code(url, monkeypatch, capsys, "score", "--year", 2026, "--as-of", "2025-06-30")
    assert code == 1 and "before the year" in out
    # A stored run whose rulebook text was tampered with fails verification: 1.
    with engine.begin() as c:
        row = dict(c.execute(select(ScoringRun.__table__).order_by(ScoringRun.id)).mappings().first())
        row.pop("id")
        row["rulebook_text"] = row["rulebook_text"].replace("max = 15", "max = 16", 1)
        bad_id = c.execute(insert(ScoringRun.__table__).values(**row)).inserted_primary_key[0]
    code, out = exit_code(url, monkeypatch, capsys, "score", "verify", bad_id)
    assert code == 1 and "NOT REPRODUCED" in out and "FAIL" in out
    assert exit_code(url, monkeypatch, capsys, "score", "verify", 1)[0] == 0


def test_help_is_light_and_every_score_command_has_an_example():
    import subprocess

    import typer.main

    group = typer.main.get_command(app).commands["score"]
    assert "Example:" in (group.help or "")
    assert set(group.commands) == {"explain", "input", "import", "values", "report", "runs", "verify"}
    for name, cmd in group.commands.items():
        assert "Example:" in (cmd.help or ""), name
    code = (
        "import sys; from inspect_kit.cli import app; from typer.testing import CliRunner; "
        "r = CliRunner().invoke(app, ['score', '--help']); assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('sqlalchemy','numpy','reportlab','openpyxl','pypdf') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
