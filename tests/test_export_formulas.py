"""Formula injection: every CSV/XLSX writer neutralises text that a spreadsheet would run, XLSX
never holds a formula, and export → import gives back the exact text (inspect_kit.spreadsheet).
Each writer is attacked with hostile values; storage tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from inspect_kit.cli import app
from inspect_kit.errors import InspectError
from inspect_kit.registry.tabular import read_table, write_table
from inspect_kit.spreadsheet import TRIGGERS, restore_cell, safe_cell
from inspect_kit.text import clean_cell
from tests.conftest import write_csv
from tests.factories import make_draw
from tests.helpers import ENTITY_HEADER, entity_row, make_uscc

# What an attacker (or a careless registry) puts in a cell.
HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
# ...and text that must come back exactly too: Chinese, a genuine leading apostrophe (before a
# trigger and before anything else), placeholders and phone numbers, an error code, Excel's escape.
TRICKY = ["青山县鑫源化工有限公司", "'已核实", "'=1", "''-2", "-", "+86 138 0000 0000", "#N/A", "a_x000D_b", "a\r\nb"]
ALL = HOSTILE + TRICKY
runner = CliRunner()


def as_imported(v: str) -> str:
    """What an import of the text stores: the reader's restore, then the importer's cleaning."""
    return clean_cell(restore_cell(v))


NAMES = [as_imported(f"{v}公司{i}") for i, v in enumerate(ALL)]  # the hostile entities' names as stored


def starts_with_trigger(text: str) -> bool:
    return text != "" and text[0] in TRIGGERS


def csv_cells(path_or_text) -> list[list[str]]:
    text = path_or_text if isinstance(path_or_text, str) else Path(path_or_text).read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def sheet_xml(path: Path) -> str:
    """Every worksheet's XML of an .xlsx, concatenated."""
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/sheet"))


def assert_no_formula(path: Path) -> None:
    xml = sheet_xml(path)
    assert "<f>" not in xml and "<f " not in xml and "</f>" not in xml, "a formula in the workbook"
    assert ' t="e"' not in xml and ' t="str"' not in xml  # no error value, no formula result


def xlsx_values(path: Path) -> list:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def assert_neutralised(cells, originals) -> None:
    """Each original that starts with a trigger is written with one more leading apostrophe."""
    written = set(cells)
    for v in originals:
        if starts_with_trigger(v) or re.match("'+[=+\\-@\t\r]", v):
            assert "'" + v in written, f"{v!r} not neutralised"
            assert v not in written
    assert not any(isinstance(c, str) and starts_with_trigger(c) for c in cells)


# -- the rule itself -----------------------------------------------------------------------------------


def test_the_rule_on_each_hostile_value():
    for v in HOSTILE:
        assert safe_cell(v) == "'" + v and restore_cell(safe_cell(v)) == v
    assert safe_cell("'=1") == "''=1" and restore_cell("''=1") == "'=1"
    assert safe_cell("'已核实") == "'已核实" and restore_cell("'已核实") == "'已核实"  # a genuine apostrophe stays
    assert safe_cell("青山县") == "青山县"
    for number in (-2, -2.5, Decimal("-3.10"), 0):
        assert safe_cell(number) == number  # a number written as a number stays a number
    assert safe_cell(dt.date(2026, 3, 5)) == dt.date(2026, 3, 5) and safe_cell(None) is None


@given(st.text(alphabet=st.sampled_from(list("'=+-@\t\r\n a青_x0D")), max_size=8) | st.text(max_size=12))
def test_restore_undoes_safe_exactly_and_safe_never_starts_a_formula(text):
    assert restore_cell(safe_cell(text)) == text
    assert not starts_with_trigger(safe_cell(text))


# -- the shared table writer and reader -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_write_table_neutralises_and_read_table_restores(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    rows = [[f"k{i}", v, -5, Decimal("-1.5")] for i, v in enumerate(ALL)]
    assert write_table(path, ["键", "值", "数", "小数"], iter(rows)) == len(rows)
    if suffix == ".csv":
        cells = [r[1] for r in csv_cells(path)[1:]]
        assert_neutralised(cells, ALL)
        assert csv_cells(path)[1][2:] == ["-5", "-1.5"]  # numbers as numbers, no quote
    else:
        assert_no_formula(path)
        xml = sheet_xml(path)
        assert "cmd|" in xml and re.search(r'<c r="C2" t="n"><v>-5</v>', xml)  # the number is a number
        values = xlsx_values(path)
        assert all(c.data_type == "s" for c in values if isinstance(c.value, str))
        assert_neutralised(
            [c.value.replace("_x000D_", "\r").replace("_x005F_", "_") for c in values if isinstance(c.value, str)], ALL
        )
    table = read_table(path, lambda row: 2 if "键" in row else 0)
    back = [row for _, row in table.rows]
    assert [r[1] for r in back] == ALL  # exactly, \t and \r included
    if suffix == ".xlsx":
        assert [r[2] for r in back] == [-5] * len(ALL)


def test_an_unknown_extension_is_refused_before_anything_is_written(tmp_path):
    for name in ("t.txt", "t.json", "t"):
        with pytest.raises(InspectError, match="unknown file type"):
            write_table(tmp_path / name, ["a"], iter([["=1"]]))
    assert list(tmp_path.iterdir()) == []


# -- registry export → import -------------------------------------------------------------------------


def hostile_entities(n_extra: int = 0) -> list[list[str]]:
    """One entity per value: the value as name (with a suffix that keeps names distinct), the value as
    legal representative, and a phone in the +86 form."""
    rows = [ENTITY_HEADER]
    for i, v in enumerate(ALL):
        rows.append(
            entity_row(
                900 + i,
                category="重点排污单位",
                单位名称=v + f"公司{i}",
                法定代表人=v,
                联系电话="+86 138 0000 %04d" % i,
            )
        )
    return rows


@pytest.fixture
def hostile_db(configured, import_options, tmp_path):
    from inspect_kit.registry.importer import import_registry

    s = import_registry(
        configured, "entities", write_csv(tmp_path / "hostile.csv", hostile_entities()), import_options()
    )
    assert s.added == len(ALL)
    return configured


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_registry_export_is_neutralised_and_imports_back_exactly(hostile_db, import_options, tmp_path, suffix):
    from inspect_kit.registry.importer import import_registry
    from inspect_kit.registry.query import export_registry, list_records

    _, before = list_records(hostile_db, "entities", limit=None)
    stored = [r["name"] for r in before] + [r["legal_rep"] for r in before] + [r["phone"] for r in before]
    assert any(v.startswith("=cmd") for v in stored) and any(v.startswith("+86") for v in stored)
    out = tmp_path / f"entities{suffix}"
    assert export_registry(hostile_db, "entities", out) == len(ALL)
    if suffix == ".csv":
        cells = [c for row in csv_cells(out) for c in row]
    else:
        assert_no_formula(out)
        cells = [c.value for c in xlsx_values(out)]
        assert all(c.data_type == "s" for c in xlsx_values(out))
    assert_neutralised(cells, stored)
    # importing the export back changes nothing: every value came back exactly
    s = import_registry(hostile_db, "entities", out, import_options())
    assert (s.rows, s.unchanged, s.added, s.updated, s.rejected) == (len(ALL), len(ALL), 0, 0, 0)
    _, after = list_records(hostile_db, "entities", limit=None)
    assert after == before


# -- findings template → findings import ----------------------------------------------------------------


@pytest.fixture
def hostile_tasks(hostile_db):
    ids = [make_uscc(900 + i) for i in range(len(ALL))]
    return hostile_db, make_draw(hostile_db, "STHJ-01", "2026Q1", ids)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_findings_template_is_neutralised_and_imports_back_exactly(hostile_tasks, tmp_path, suffix):
    from inspect_kit.findings import service
    from tests.test_findings_service import AS_OF, POLICY, T1, T2, ordered, snapshot

    engine, tasks = hostile_tasks
    for task, v in zip(tasks, ALL):
        service.add_finding(
            engine,
            task,
            {
                **ordered(task),
                "problems": v + "：未正常运行",
                "notes": v,
                "recheck_outcome": v,
                "recheck_date": "2026-04-03",
                "rectification_status": "已整改",
                "recorded_by": v + "张三",
            },
            as_of=AS_OF,
            now=T1,
            policy=POLICY,
        )
    before = snapshot(engine)
    path = tmp_path / f"template{suffix}"
    summary = service.write_template(engine, path, period="2026Q1", policy=POLICY)
    assert summary.prefilled == len(ALL)
    if suffix == ".csv":
        cells = [c for row in csv_cells(path) for c in row]
    else:
        assert_no_formula(path)
        values = xlsx_values(path)
        assert all(c.data_type == "s" for c in values if isinstance(c.value, str))
        cells = [c.value for c in values]
    # 问题描述, 备注, 复查结果, 录入人 and the entity names (单位名称) of the hostile rows: all neutralised
    assert not any(isinstance(c, str) and starts_with_trigger(c) for c in cells)
    for v in ("=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "-"):
        assert "'" + v in cells and f"'{v}公司{ALL.index(v)}" in cells and f"'{v}：未正常运行" in cells
    # importing the template back changes nothing
    s = service.import_findings(engine, path, as_of=AS_OF, now=T2)
    assert (s.rows, s.unchanged, s.revisions) == (len(ALL), len(ALL), 0)
    assert snapshot(engine) == before


# -- draw show --csv, draw list --csv -------------------------------------------------------------------


def cli(engine, *args):
    from tests.conftest import CONFIGS

    url = engine.url.render_as_string(hide_password=False)
    r = runner.invoke(app, ["--config", str(CONFIGS), "--db", url, *map(str, args)])
    assert r.exit_code == 0, r.output
    return r


def test_draw_show_and_list_csv_are_neutralised(hostile_db, config):
    from inspect_kit.draw import service as draws

    at = dt.datetime(2026, 1, 5, 10, 0)
    from inspect_kit.draw.core.seeds import SeedSource

    draws.prepare_frame(
        hostile_db,
        config,
        "STHJ-01",
        "2026Q1",
        as_of=at.date(),
        now=at,
        source=SeedSource.witnessed("=cmd|' /C calc'!A0", ["@SUM(A1)"]),
    )
    draws.run_draw(hostile_db, config, "STHJ-01", "2026Q1", seed="-2+3 48213 90577 16342 75018", now=at)
    make_draw(hostile_db, "STHJ-02", "2026Q1", [make_uscc(900 + i) for i in range(len(ALL))])
    rows = csv_cells(cli(hostile_db, "draw", "show", "--quarter", "2026Q1", "--matter", "STHJ-02", "--csv").stdout)
    names = [r[rows[0].index("name")] for r in rows[1:]]
    assert len(names) == len(ALL)
    assert_neutralised(names, NAMES)
    assert sorted(restore_cell(n) for n in names) == sorted(NAMES)
    rows = csv_cells(cli(hostile_db, "draw", "list", "--csv").stdout)
    first = dict(zip(rows[0], rows[1]))
    # the seed source is structured now; its text is printed after "witnessed: ", never first in a cell
    assert first["seed"] == "'-2+3 48213 90577 16342 75018" and first["seed_source"].startswith("witnessed: =cmd")
    assert first["draw"] == "1"


# -- assign export -----------------------------------------------------------------------------------


@pytest.fixture
def hostile_teams(hostile_tasks, config, import_options, tmp_path):
    """Officers whose names are the hostile values, assigned to the hostile entities' tasks."""
    from inspect_kit.assign import service
    from inspect_kit.registry.importer import import_registry

    engine, _ = hostile_tasks
    header = ["执法证号", "姓名", "所属部门", "人员类别", "状态", "证件有效期起", "证件有效期至", "执法资格"]
    rows = [header] + [
        [f"360199ST9{i:03d}", v + "某", "STHJ", "执法人员", "在岗", "2023-01-01", "2028-12-31", "生态环境执法"]
        for i, v in enumerate(ALL)
    ]
    import_registry(engine, "inspectors", write_csv(tmp_path / "inspectors.csv", rows), import_options())
    service.assign_teams(
        engine,
        config,
        "2026Q1",
        seed="20417 88351 09926 47713",
        seed_source="@dice",
        now=dt.datetime(2026, 1, 6, 10, 0),
        matters=["STHJ-01"],
    )
    return engine


def test_assign_export_writes_the_format_its_extension_names_neutralised(hostile_teams, tmp_path):
    engine = hostile_teams
    officers = {as_imported(v + "某") for v in ALL}
    # CSV to standard output and to a file
    printed = cli(engine, "assign", "export", "--quarter", "2026Q1", "--csv").stdout
    for rows in (
        csv_cells(printed[printed.index('"assignment",') :]),
        csv_cells(_export(engine, tmp_path / "teams.csv")),
    ):
        col = rows[0].index("执法人员")
        names = [n for r in rows[1:] for n in restore_cell(r[col]).split("、")]
        assert len(rows) == 1 + len(ALL)
        assert not any(starts_with_trigger(c) for r in rows for c in r)
        assert any(
            n.startswith("'=cmd") or n.startswith("'+1") or n.startswith("'-2") or n.startswith("'@")
            for n in (r[col] for r in rows[1:])
        )
        assert {restore_cell(r[rows[0].index("名称")]) for r in rows[1:]} == set(NAMES)
        assert set(names) <= officers
    # a real workbook for .xlsx: no formula, every text a string cell, read back exactly
    path = _export(engine, tmp_path / "teams.xlsx")
    assert zipfile.is_zipfile(path)
    assert_no_formula(path)
    assert all(c.data_type == "s" for c in xlsx_values(path) if isinstance(c.value, str))
    table = read_table(path, lambda row: 2 if "task_no" in row else 0)
    back = [dict(zip(table.headers, r)) for _, r in table.rows]
    assert {r["名称"] for r in back} == set(NAMES)
    assert {n for r in back for n in r["执法人员"].split("、")} <= officers
    # JSON for .json, as it is (JSON is not run by a spreadsheet)
    data = json.loads(_export(engine, tmp_path / "teams.json").read_text(encoding="utf-8"))
    assert {r["entity_name"] for r in data} == set(NAMES)


def _export(engine, path: Path) -> Path:
    cli(engine, "assign", "export", "--quarter", "2026Q1", "-o", path)
    return path


def test_assign_export_refuses_an_unknown_or_contradicted_extension_before_writing(
    hostile_teams, tmp_path, monkeypatch, capsys
):
    from tests.test_assign_service import exit_code

    for args, message in (
        (["-o", tmp_path / "teams.txt"], "unknown file type '.txt'"),
        (["-o", tmp_path / "teams"], "unknown file type"),
        (["--csv", "-o", tmp_path / "teams.xlsx"], "--csv contradicts"),
        (["--json", "-o", tmp_path / "teams.csv"], "--json contradicts"),
    ):
        code, out = exit_code(hostile_teams, monkeypatch, capsys, "assign", "export", "--quarter", "2026Q1", *args)
        assert code == 1 and message in out and "Traceback" not in out, out
    assert list(tmp_path.glob("*teams*")) == []
