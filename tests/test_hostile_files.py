"""Hostile and careless input files against every reader and importer, through the CLI.

Each case of the generated corpus (tests/hostile.py) is given to `inspect registry import
entities|inspectors|conflicts`, `inspect findings import`, `inspect score import` and `inspect draw
list-file`: it must exit 1 with its message naming the file, print no traceback, and leave the
database exactly as it was (SQLite: iterdump; PostgreSQL: every table, ordered by primary key) and
write no file. Formula-looking cells are imported as the text they are. The CLI's text options are
checked the same way. A hypothesis test feeds random bytes and random CSV shapes to the registry
and findings importers: only InspectError may come out.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
import traceback
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inspect_kit.cli import app
from inspect_kit.errors import InspectError
from tests import hostile
from tests.conftest import CONFIGS, NOW, _backends, _pg_create, _pg_drop
from tests.helpers import ENTITY_HEADER, entity_row, make_uscc

runner = CliRunner()
AS_OF = "2026-06-30"


# -- the database: the demo registries and a draw, once per backend for the module --------------


@dataclasses.dataclass
class World:
    engine: object
    url: str
    tasks: list[str]


@pytest.fixture(scope="module", params=list(_backends()))
def world(request, tmp_path_factory, _demo_templates):
    import shutil

    from sqlalchemy import select

    from inspect_kit.storage.db import make_engine
    from inspect_kit.storage.models import Entity
    from tests.factories import make_draw

    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'h.db'}"
        shutil.copyfile(_demo_templates("sqlite").removeprefix("sqlite:///"), url.removeprefix("sqlite:///"))
    else:
        template = _demo_templates("postgres")
        name = f"inspect_test_{uuid.uuid4().hex[:12]}"
        url = _pg_create(name, template=f'"{template.rsplit("/", 1)[1]}"')
    engine = make_engine(url)
    with engine.connect() as c:
        idents = [
            r[0]
            for r in c.execute(
                select(Entity.identifier).where(Entity.category == "重点排污单位").order_by(Entity.identifier).limit(3)
            )
        ]
    tasks = make_draw(engine, "STHJ-01", "2026Q1", idents)
    yield World(engine, url, tasks)
    engine.dispose()
    if name:
        _pg_drop(name)


def dump(engine) -> list:
    """The whole database: SQLite's iterdump; on PostgreSQL every table, ordered by primary key."""
    from sqlalchemy import MetaData, select

    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            return list(raw.driver_connection.iterdump())
        finally:
            raw.close()
    meta = MetaData()
    meta.reflect(engine)
    out = []
    with engine.connect() as c:
        for t in sorted(meta.tables.values(), key=lambda t: t.name):
            order = list(t.primary_key.columns) or list(t.columns)
            out.append((t.name, [tuple(r) for r in c.execute(select(t).order_by(*order))]))
    return out


def cli(world: World, *args, env: dict | None = None) -> tuple[int, str]:
    """Run `inspect` as main() does: an InspectError is exit 1 with its message; anything else
    escaping is a traceback, and fails the test."""
    r = runner.invoke(app, ["--config", str(CONFIGS), "--db", world.url, *map(str, args)], env=env)
    exc = r.exception
    if exc is None or isinstance(exc, SystemExit):
        return r.exit_code, r.output
    if isinstance(exc, InspectError):
        return 1, r.output + f"error: {exc}"
    pytest.fail("a traceback instead of a message:\n" + "".join(traceback.format_exception(exc)))


# -- the readers, each with a header, a good row and a text column to spoil ----------------------


@dataclasses.dataclass
class Target:
    name: str
    header: list[str]
    row: list[str]  # task number placeholder: "{task}"
    text_col: int
    encoding_option: bool = True
    output: bool = False  # list-file: -o FILE, which must not be written

    def rows(self, world: World) -> list[list[str]]:
        return [self.header, [c.replace("{task}", world.tasks[0]) for c in self.row]]

    def args(self, path: Path, out: Path) -> list:
        if self.name in ("entities", "inspectors", "conflicts"):
            return ["registry", "import", self.name, path]
        if self.name == "findings":
            return ["findings", "import", path, "--as-of", AS_OF]
        if self.name == "score":
            return ["score", "import", path, "--year", 2026]
        return [
            "draw",
            "list-file",
            path,
            "--id-column",
            "统一社会信用代码",
            "--stratum-column",
            "乡镇",
            "--rate",
            "50%",
            "--seed",
            "hostile-seed-0123456789",
            "-o",
            out,
        ]


TARGETS = [
    Target("entities", ENTITY_HEADER, entity_row(990001), 1),
    Target("inspectors", ["执法证号", "姓名", "所属部门"], ["ZF990001", "王五", "STHJ"], 1),
    Target(
        "conflicts",
        ["执法证号", "统一社会信用代码", "回避原因"],
        ["360199ST0001", "913601990401060297", "近亲属任职"],
        2,
    ),
    Target(
        "findings",
        ["任务编号", "检查日期", "检查结果", "后续处置", "录入人", "备注"],
        ["{task}", "2026-03-05", "未发现问题", "无需后续处置", "张三", "无"],
        5,
    ),
    Target("score", ["单位", "指标", "值", "说明"], ["STHJ", "training", "3", "培训签到表"], 3),
    Target(
        "list-file", ["统一社会信用代码", "乡镇"], [make_uscc(990001), "城关镇"], 1, encoding_option=False, output=True
    ),
]
BY_NAME = {t.name: t for t in TARGETS}


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    """The target-independent files, built once: two zip bombs, a non-workbook, empty files."""
    d = tmp_path_factory.mktemp("bombs")
    plain = hostile.write_xlsx(d / "plain.xlsx", [["名称", "类别"]] + [[f"n{i}", "c"] for i in range(40)])
    (d / "empty.csv").write_bytes(b"")
    (d / "empty.xlsx").write_bytes(b"")
    return {
        "cell bomb": (hostile.xlsx_cell_bomb(d / "cell-bomb.xlsx"), "expands 1,010 times"),
        "shared strings bomb": (
            hostile.xlsx_cell_bomb(d / "sst-bomb.xlsx", where="shared strings"),
            "xl/sharedStrings.xml is 1,610,612,944 bytes uncompressed; at most 536,870,912",
        ),
        "truncated zip": (hostile.truncated_file(d / "cut.xlsx", plain), "not a valid .xlsx file"),
        "csv named xlsx": (
            hostile.write_csv(d / "text.xlsx", [["名称", "类别"], ["a", "b"]]),
            "not a valid .xlsx file",
        ),
        "empty csv": (d / "empty.csv", "the file is empty"),
        "empty xlsx": (d / "empty.xlsx", "the file is empty"),
    }


def _cases(target: Target, world: World, d: Path) -> dict[str, tuple]:
    """name → (file, extra CLI args, the words the refusal must contain)."""
    rows, col, head = target.rows(world), target.text_col, target.header[target.text_col]
    cases: dict[str, tuple] = {}
    for kind, (text, words) in hostile.REFUSED.items():
        cases[f"csv {kind}"] = (
            hostile.write_csv(d / f"{kind}.csv", hostile.spoiled(rows, col, text)),
            [],
            f"row 2, column '{head}': contains",
            words,
        )
        if kind not in ("NUL", "escape"):  # XML cannot hold C0 controls at all
            cases[f"xlsx {kind}"] = (
                hostile.write_xlsx(d / f"{kind}.xlsx", hostile.spoiled(rows, col, text)),
                [],
                f"row 2, column '{head}': contains",
                words,
            )
    cases["xlsx NUL written as Excel's _x0000_ escape"] = (
        hostile.write_xlsx(d / "escaped-nul.xlsx", hostile.spoiled(rows, col, "A_x0000_B")),
        [],
        f"row 2, column '{head}': contains",
        "U+0000 (NUL)",
    )
    cases["NUL in the header"] = (
        hostile.write_csv(d / "nul-head.csv", hostile.spoiled(rows, col, head + "\x00", row=0)),
        [],
        "row 1, column",
        "U+0000 (NUL)",
    )
    huge = "长" * 200_000
    cases["csv cell over the csv module's limit"] = (
        hostile.write_csv(d / "huge.csv", hostile.spoiled(rows, col, huge)),
        [],
        f"row 2, column '{head}'",
        "a cell of more than 131,072 characters; at most 32,767",
    )
    cases["csv cell over Excel's limit"] = (
        hostile.write_csv(d / "long.csv", hostile.spoiled(rows, col, "长" * 40_000)),
        [],
        f"row 2, column '{head}'",
        "a cell of 40,000 characters; at most 32,767",
    )
    cases["xlsx cell over Excel's limit"] = (
        hostile.xlsx_long_cell(d / "long.xlsx", rows, 1, col, 40_000),
        [],
        f"row 2, column '{head}'",
        "a cell of 40,000 characters",
    )
    wide = [r + [""] * 600 for r in rows]
    wide[1][-1] = "远"
    cases["csv row of 600 columns"] = (hostile.write_csv(d / "wide.csv", wide), [], "row 2: 6", "at most 512 columns")
    cases["xlsx dimension bomb"] = (
        hostile.xlsx_dimension_bomb(d / "dim.xlsx", rows),
        [],
        "declares 5,000 rows × 16,384 columns",
        "at most 512 columns",
    )
    cases["xlsx cell far right"] = (hostile.xlsx_wide_row(d / "far.xlsx", rows), [], "row 1: 702 cells", "at most 512")
    many = rows + [list(rows[1]) for _ in range(60)]
    cases["xlsx XML cut off"] = (
        hostile.xlsx_truncated_xml(d / "cut-xml.xlsx", many),
        [],
        "cannot read the sheet",
        "damaged or cut off",
    )
    cases["xlsx entity expansion"] = (
        hostile.xlsx_entity_expansion(d / "lol.xlsx", rows),
        [],
        "cannot read the sheet",
        "",
    )
    cases["duplicate header"] = (
        hostile.write_csv(d / "dup.csv", [r + [r[col]] for r in rows]),
        [],
        f"'{head}'",
        "keep one",
    )
    cases["duplicate header xlsx"] = (
        hostile.write_xlsx(d / "dup.xlsx", [r + [r[col]] for r in rows]),
        [],
        f"'{head}'",
        "keep one",
    )
    cases["header only"] = (hostile.write_csv(d / "head.csv", rows[:1]), [], "nothing to import", "")
    cases["header and blank lines"] = (
        hostile.write_csv(d / "blank.csv", rows[:1] + [[""] * len(rows[0])] * 3),
        [],
        "nothing to import",
        "",
    )
    cases["header only xlsx"] = (hostile.write_xlsx(d / "head.xlsx", rows[:1]), [], "nothing to import", "")
    if target.encoding_option:
        gbk = hostile.write_csv(d / "gbk.csv", hostile.spoiled(rows, col, "近亲属在该单位任职"), encoding="gbk")
        cases["GBK read as --encoding utf-8"] = (
            gbk,
            ["--encoding", "utf-8"],
            "line 1: the bytes",
            "are not utf-8 text",
        )
        cases["unknown --encoding"] = (gbk, ["--encoding", "klingon"], "--encoding 'klingon'", "unknown encoding")
    return cases


ALIASES = {  # two headers that name the same field
    "entities": ("单位名称", "企业名称"),
    "score": ("值", "数值"),
    "findings": ("备注", "备注"),
    "inspectors": ("姓名", "名字"),
    "conflicts": ("回避原因", "原因"),
}


def _expect_refused(world: World, target: Target, path: Path, extra: list, words: tuple[str, ...], out: Path) -> None:
    started = time.monotonic()
    code, output = cli(world, *target.args(path, out), *extra)
    elapsed = time.monotonic() - started
    assert code == 1, output
    assert "Traceback" not in output
    message = output[output.index("error: ") :] if "error: " in output else output
    assert str(path) in message or "--encoding" in message, message
    for w in words:
        assert w in message, message
    assert not out.exists()
    assert elapsed < 10, f"{elapsed:.1f} s"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_every_hostile_file_is_refused_by_every_reader(world, target, bombs, tmp_path):
    """(The database is compared once after all cases: no case may write, and nothing deletes.)"""
    out = tmp_path / "bundle.json"
    before = dump(world.engine)
    for path, words in bombs.values():
        _expect_refused(world, target, path, [], (words,), out)
    for name, (path, extra, *words) in _cases(target, world, tmp_path).items():
        try:
            _expect_refused(world, target, path, extra, tuple(w for w in words if w), out)
        except AssertionError as exc:
            raise AssertionError(f"{target.name}, case {name!r}: {exc}") from None
    assert dump(world.engine) == before


@pytest.mark.parametrize("target", [t for t in TARGETS if t.name in ALIASES], ids=lambda t: t.name)
def test_two_headers_naming_one_field_are_refused(world, target, tmp_path):
    first, second = ALIASES[target.name]
    rows = target.rows(world)
    j = rows[0].index(first)
    rows = [rows[0] + [second], rows[1] + [rows[1][j] + "改"]]
    path = hostile.write_csv(tmp_path / "alias.csv", rows)
    before = dump(world.engine)
    _expect_refused(world, target, path, [], ("keep one",), tmp_path / "out.json")
    assert dump(world.engine) == before


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_formula_looking_cells_are_stored_as_text(world, target, tmp_path):
    """Nothing is evaluated or dropped on import: '=...', '+...', '-...', '@...' stay the text they are."""
    from sqlalchemy import select

    from inspect_kit.storage.models import Conflict, Entity, Finding, Inspector, ManualValue, Task

    rows = target.rows(world)
    for i, text in enumerate(hostile.FORMULA_LOOKING):
        for fmt in ("csv", "xlsx"):
            values = [list(r) for r in rows]
            values[1][target.text_col] = text
            if target.name == "entities":  # a new entity each time
                values[1][0] = make_uscc(990100 + 2 * i + (fmt == "xlsx"))
            if target.name == "inspectors":
                values[1][0] = f"ZF99{i}{fmt}"
            if target.name == "findings":
                values[1][0] = world.tasks[1 + (fmt == "xlsx")]
            path = tmp_path / f"f{i}.{fmt}"
            (hostile.write_csv if fmt == "csv" else hostile.write_xlsx)(path, values)
            out = tmp_path / f"f{i}{fmt}.json"
            code, output = cli(world, *target.args(path, out))
            assert code == 0, output
            key = values[1][0]
            with world.engine.connect() as c:
                if target.name == "entities":
                    stored = c.execute(select(Entity.name).where(Entity.identifier == key)).scalar_one()
                elif target.name == "inspectors":
                    stored = c.execute(select(Inspector.name).where(Inspector.cert_no == key.upper())).scalar_one()
                elif target.name == "conflicts":
                    stored = c.execute(
                        select(Conflict.reason)
                        .join(Inspector, Inspector.id == Conflict.inspector_id)
                        .join(Entity, Entity.id == Conflict.entity_id)
                        .where(Inspector.cert_no == key, Entity.identifier == values[1][1])
                    ).scalar_one()
                elif target.name == "findings":
                    stored = c.execute(
                        select(Finding.notes).join(Task, Task.id == Finding.task_id).where(Task.task_no == key)
                    ).scalar_one()
                elif target.name == "score":
                    stored = c.execute(select(ManualValue.note).order_by(ManualValue.id.desc()).limit(1)).scalar_one()
                else:
                    stored = json.loads(out.read_text())["frame"]["rows"][0][1]
            assert stored == text, (target.name, fmt)


# -- command-line text options --------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, words",
    [
        (
            ["score", "input", "STHJ", "training", "3", "--year", "2026", "--note", "签到表\x00"],
            "--note: contains the control character U+0000 (NUL)",
        ),
        (
            ["score", "input", "STHJ", "training", "3", "--year", "2026", "--note", "ok", "--by", "张\u202e三"],
            "--by: contains the bidirectional-text control U+202E",
        ),
        (
            [
                "findings",
                "add",
                "{task}",
                "--date",
                "2026-03-05",
                "-r",
                "R05",
                "--problems=废气\u202e未运行",
                "-f",
                "F01",
                "--by",
                "张三",
                "--as-of",
                AS_OF,
            ],
            "--problems: contains the bidirectional-text control U+202E",
        ),
        (
            ["findings", "add", "{task}", "--notes", "a\x1b[2Jb", "--by", "张三", "--as-of", AS_OF],
            "--notes: contains the control character U+001B (ESCAPE)",
        ),
        (["findings", "add", "{task}\u2066", "--by", "张三"], "the argument"),
        (
            [
                "draw",
                "run",
                "--quarter",
                "2026Q1",
                "--seed",
                "x" * 24,
                "--seed-source",
                "dice",
                "--redraw",
                "--reason",
                "重抽\u0085",
            ],
            "--reason: contains the control character U+0085 (NEXT LINE)",
        ),
        (["registry", "list", "--search", "\u200e青山"], "--search: contains the bidirectional-text control U+200E"),
    ],
)
def test_text_options_are_checked_like_cells(world, args, words):
    before = dump(world.engine)
    code, output = cli(world, *[a.replace("{task}", world.tasks[0]) for a in args])
    assert code == 1 and words in output and "Traceback" not in output, output
    assert dump(world.engine) == before


def test_a_text_option_from_the_environment_is_checked_by_the_service(world):
    """--by may come from INSPECT_USER, which the command line never shows: the service refuses it."""
    before = dump(world.engine)
    code, output = cli(
        world,
        "findings",
        "add",
        world.tasks[0],
        "--date",
        "2026-03-05",
        "-r",
        "未发现问题",
        "-f",
        "无需后续处置",
        "--recorded-by",
        "张三",
        "--as-of",
        AS_OF,
        env={"INSPECT_USER": "张三\x7f"},
    )
    assert code == 1 and "--by: contains the control character U+007F (DELETE)" in output, output
    assert dump(world.engine) == before


def test_refusals_are_fast_and_one_line_through_main(bombs, tmp_path):
    """The real command (main()): exit 1, one line, no traceback; the bombs refused at once."""
    from inspect_kit.registry.tabular import read_table

    for name in ("cell bomb", "shared strings bomb"):
        started = time.monotonic()
        with pytest.raises(InspectError):
            read_table(bombs[name][0], lambda row: 0)
        assert time.monotonic() - started < 1.0
    dim = hostile.xlsx_dimension_bomb(tmp_path / "dim.xlsx", [["名称", "类别"], ["a", "b"]])
    started = time.monotonic()
    with pytest.raises(InspectError):
        read_table(dim, lambda row: 0)
    assert time.monotonic() - started < 1.0
    from inspect_kit.storage.db import init_database, make_engine

    url = f"sqlite:///{tmp_path / 'x.db'}"
    init_database(make_engine(url))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspect_kit",
            "--config",
            str(CONFIGS),
            "--db",
            url,
            "registry",
            "import",
            "entities",
            str(bombs["cell bomb"][0]),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "1000"},
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "expands 1,010 times" in r.stderr, r.stderr


# -- random input: only InspectError may come out --------------------------------------------------


def _random_import(world: World, kind: str, path: Path, encoding: str | None = None) -> None:
    import datetime as dt

    from inspect_kit.config import load_config
    from inspect_kit.findings.service import import_findings
    from inspect_kit.registry.importer import ImportOptions, import_registry

    try:
        if kind == "findings":
            import_findings(world.engine, path, as_of=dt.date(2026, 6, 30), now=NOW, encoding=encoding, dry_run=True)
        else:
            cfg = load_config(CONFIGS)
            import_registry(
                world.engine,
                kind,
                path,
                ImportOptions(now=NOW, dry_run=True, encoding=encoding, known_categories=cfg.categories),
            )
    except InspectError:
        pass


KINDS = ["entities", "inspectors", "conflicts", "findings"]
KNOWN_HEADERS = ENTITY_HEADER + [
    "执法证号",
    "姓名",
    "所属部门",
    "回避原因",
    "任务编号",
    "检查日期",
    "检查结果",
    "后续处置",
    "录入人",
    "备注",
]


def test_random_bytes_never_give_a_traceback(world, tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    parts = st.dictionaries(
        st.sampled_from(
            [
                "[Content_Types].xml",
                "xl/workbook.xml",
                "xl/worksheets/sheet1.xml",
                "xl/sharedStrings.xml",
                "_rels/.rels",
                "xl/_rels/workbook.xml.rels",
            ]
        ),
        st.binary(max_size=300),
        max_size=6,
    )

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        kind=st.sampled_from(KINDS),
        suffix=st.sampled_from([".csv", ".xlsx", ".txt"]),
        data=st.binary(max_size=2000),
        zipped=parts,
        as_zip=st.booleans(),
    )
    def run(kind, suffix, data, zipped, as_zip):
        path = tmp_path / f"random{suffix}"
        if as_zip:
            import zipfile

            with zipfile.ZipFile(path, "w") as z:
                for name, content in zipped.items():
                    z.writestr(name, content)
        else:
            path.write_bytes(data)
        _random_import(world, kind, path)

    before = dump(world.engine)
    run()
    assert dump(world.engine) == before


def test_random_csv_shapes_never_give_a_traceback(world, tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    cell = st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            KNOWN_HEADERS + [world.tasks[0], make_uscc(3), "2026-03-05", "未发现问题", "无需后续处置", "STHJ", ""]
        ),
    )
    table = st.lists(st.lists(cell, max_size=8), min_size=0, max_size=6)
    header = st.lists(st.sampled_from(KNOWN_HEADERS) | st.text(max_size=6), max_size=8)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        kind=st.sampled_from(KINDS),
        header=header,
        rows=table,
        encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
        delimiter=st.sampled_from([",", "\t", ";"]),
        claimed=st.sampled_from([None, None, "utf-8", "gbk", "utf-16"]),
    )
    def run(kind, header, rows, encoding, delimiter, claimed):
        path = tmp_path / "random.csv"
        try:
            hostile.write_csv(path, [header] + rows, encoding=encoding, delimiter=delimiter)
        except UnicodeEncodeError:
            return
        _random_import(world, kind, path, claimed)

    before = dump(world.engine)
    run()
    assert dump(world.engine) == before


# -- the shared reader itself ----------------------------------------------------------------------


def _read_all(path: Path, **kw):
    from inspect_kit.registry.tabular import read_table

    table = read_table(path, lambda row: 0, **kw)
    return table.headers, list(table.rows)


def test_a_decoding_error_names_its_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("名称,类别\n甲,乙\n丙,".encode() + b"\xff\xfe\n")
    with pytest.raises(InspectError, match=r"bad.csv, line 3: the bytes ff \(at byte \d+\) are not utf-8 text"):
        _read_all(path, encoding="utf-8")
    big = tmp_path / "big.csv"  # past the first megabyte, and past the rows read to find the header
    big.write_bytes(("名称,类别\n" + "甲乙丙丁戊,己\n" * 80_000).encode() + "坏,".encode("gbk") + b"\n")
    with pytest.raises(InspectError, match=r"big.csv, line 80002: the bytes"):
        _read_all(big, encoding="utf-8")


def test_an_oversized_field_is_named_by_its_column_through_quotes_and_delimiters(tmp_path):
    path = hostile.write_csv(
        tmp_path / "q.csv", [["名称", "说明", "备注"], ['a,"b"', 'x,\n"y",' + "长" * 140_000, "z"]]
    )
    with pytest.raises(InspectError, match=r"q.csv, row 2, column '说明': a cell of more than 131,072 characters"):
        _read_all(path)
    path = hostile.write_csv(tmp_path / "later.csv", [["名称", "说明"]] + [["a", "b"]] * 30 + [["a", "长" * 140_000]])
    with pytest.raises(InspectError, match=r"later.csv, row 32, column '说明'"):
        _read_all(path)


def test_a_clean_file_reads_as_before(tmp_path):
    """Tabs and line breaks inside cells, empty rows and ragged rows still read."""
    rows = [["名称", "说明"], ["甲", "第一行\n第二行\t制表"], [], ["乙"]]
    headers, read = _read_all(hostile.write_csv(tmp_path / "ok.csv", rows))
    assert headers == ["名称", "说明"] and [r for _, r in read] == rows[1:]


def test_a_workbook_of_too_many_sheets_is_refused_before_parsing(world, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    for i in range(300):
        wb.create_sheet(f"s{i}").append(["任务编号", "检查日期"])
    wb.save(tmp_path / "many.xlsx")
    before = dump(world.engine)
    code, output = cli(world, "findings", "import", tmp_path / "many.xlsx", "--as-of", AS_OF)
    assert code == 1 and "300 worksheets; at most 255" in output, output
    assert dump(world.engine) == before


def test_a_chart_sheet_is_not_read_as_a_table(world, tmp_path):
    """Chart sheets have no cells: the findings import skips them, --sheet does not name them."""
    import openpyxl

    target = BY_NAME["findings"]
    from openpyxl.chart import BarChart, Reference

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in target.rows(world):
        ws.append(row)
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=2))
    wb.create_chartsheet("图表").add_chart(chart)
    path = tmp_path / "chart.xlsx"
    wb.save(path)
    code, output = cli(world, "findings", "import", path, "--as-of", AS_OF, "--dry-run")
    assert code == 0 and "dry run" in output, output
    code, output = cli(world, "score", "import", path, "--year", 2026, "--sheet", "图表")
    assert code == 1 and "no sheet '图表'" in output, output


def test_a_prompted_answer_is_checked_and_asked_again(world):
    """`findings add -i` asks for 录入人; an answer with a bidi control is refused there, asked again."""
    r = runner.invoke(
        app,
        [
            "--config",
            str(CONFIGS),
            "--db",
            world.url,
            "findings",
            "add",
            world.tasks[0],
            "--date",
            "2026-03-05",
            "-r",
            "未发现问题",
            "-f",
            "无需后续处置",
            "-i",
            "--dry-run",
            "--as-of",
            AS_OF,
        ],
        input="张\u202e三\n张三\n" + "符合\n" * 5,  # then STHJ-01's five checklist items
    )
    assert r.exit_code == 0 and "U+202E" in r.output and "dry run" in r.output, r.output
