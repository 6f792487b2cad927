"""Registry import: formats, encodings, normalisation, every rejection reason, atomicity,
upsert with history, dry runs and the export → import round trip. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from inspect_kit.errors import ValidationFailed
from inspect_kit.registry.importer import CHUNK, import_registry
from inspect_kit.registry.query import export_registry, list_records, show_record
from inspect_kit.storage.models import Conflict, Entity, ImportBatch, Inspector, RegistryChange, RegistryInsertBlock
from tests.conftest import write_csv, write_xlsx
from tests.helpers import ENTITY_HEADER, entity_row, make_uscc


def count(engine, model) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(model)).scalar_one()


def entities(engine) -> dict[str, dict]:
    with engine.connect() as c:
        return {r.identifier: r._asdict() for r in c.execute(select(Entity.__table__))}


def snapshot(engine) -> tuple:
    with engine.connect() as c:
        return tuple(
            sorted(tuple(str(v) for v in r) for r in c.execute(select(t)))
            for t in (
                Entity.__table__,
                RegistryChange.__table__,
                RegistryInsertBlock.__table__,
                ImportBatch.__table__,
                Inspector.__table__,
            )
        )


# -- formats and encodings -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(configured, import_options, tmp_path, encoding):
    rows = [ENTITY_HEADER] + [entity_row(i, 单位名称=f"青山县鑫源化工{i}有限公司") for i in range(5)]
    path = write_csv(tmp_path / "e.csv", rows, encoding)
    s = import_registry(configured, "entities", path, import_options())
    assert (s.added, s.rejected) == (5, 0)
    assert entities(configured)[make_uscc(3)]["name"] == "青山县鑫源化工3有限公司"


def test_utf16_tab_separated(configured, import_options, tmp_path):
    path = tmp_path / "unicode.txt"
    text = "\n".join("\t".join(r) for r in [ENTITY_HEADER] + [entity_row(i) for i in range(3)]) + "\n"
    path.write_bytes(text.encode("utf-16"))
    s = import_registry(configured, "entities", path, import_options())
    assert s.added == 3 and s.encoding == "utf-16"


def test_xlsx_with_title_row_and_english_headers(configured, import_options, tmp_path):
    rows = [
        ["青山县检查对象名录库"],
        ["identifier", "name", "category", "township", "credit_class"],
        [make_uscc(1), "甲公司", "企业", "城关镇", "A"],
        [make_uscc(2), "乙公司", "企业", "清水镇", "d类"],
    ]
    s = import_registry(configured, "entities", write_xlsx(tmp_path / "e.xlsx", rows), import_options())
    assert s.added == 2
    assert entities(configured)[make_uscc(2)]["credit_class"] == "D"


def test_normalisation_of_fullwidth_lowercase_and_spaces(configured, import_options, tmp_path):
    code = make_uscc(7, prefix="92")
    messy = " " + code.lower().translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "　"
    rows = [ENTITY_HEADER, entity_row(7, 统一社会信用代码=messy, 单位名称="  青山县 某某店 ", 信用等级="ｃ")]
    import_registry(configured, "entities", write_csv(tmp_path / "e.csv", rows), import_options())
    rec = entities(configured)[code]
    assert rec["name"] == "青山县 某某店" and rec["credit_class"] == "C"


# -- rejection reasons: every bad row reported, nothing written -----------------------------------


@pytest.mark.parametrize(
    "over, column, reason",
    [
        (
            {"统一社会信用代码": make_uscc(3)[:-1] + ("0" if make_uscc(3)[-1] != "0" else "1")},
            "统一社会信用代码",
            "check character",
        ),
        ({"类别": "外星企业"}, "类别", "unknown category '外星企业'"),
        ({"单位名称": ""}, "单位名称", "missing required field name"),
        ({"豁免起始日期": "2026-02-30", "豁免原因": "正面清单"}, "豁免起始日期", "not a real date"),
        ({"豁免截止日期": "明年", "豁免原因": "正面清单"}, "豁免截止日期", "cannot read"),
        ({"信用等级": "E"}, "信用等级", "credit class"),
        ({"状态": "失踪"}, "状态", "unknown status"),
    ],
)
def test_each_rejection_reason_names_file_row_column(configured, import_options, tmp_path, over, column, reason):
    rows = [ENTITY_HEADER, entity_row(1), entity_row(2), entity_row(3, **over)]
    path = write_csv(tmp_path / "bad.csv", rows)
    before = snapshot(configured)
    with pytest.raises(ValidationFailed) as err:
        import_registry(configured, "entities", path, import_options())
    [p] = err.value.problems
    assert (p.file, p.row, p.column) == (str(path), 4, column)
    assert reason in p.reason
    assert snapshot(configured) == before and count(configured, Entity) == 0


def test_repeated_identifier_is_refused_and_identical_rows_can_be_skipped(configured, import_options, tmp_path):
    rows = [ENTITY_HEADER, entity_row(1), entity_row(2), entity_row(1)]
    path = write_csv(tmp_path / "dup.csv", rows)
    with pytest.raises(ValidationFailed) as err:
        import_registry(configured, "entities", path, import_options())
    assert "repeated in the file: first at row 2 (an identical row)" in str(err.value)
    s = import_registry(configured, "entities", path, import_options(skip_duplicate_rows=True))
    assert (s.added, s.skipped_duplicates) == (2, 1)
    rows[-1] = entity_row(1, 单位名称="另一个名字")
    with pytest.raises(ValidationFailed, match="with different values"):
        import_registry(
            configured, "entities", write_csv(tmp_path / "dup2.csv", rows), import_options(skip_duplicate_rows=True)
        )


def test_missing_required_column(configured, import_options, tmp_path):
    path = write_csv(tmp_path / "e.csv", [["单位名称", "类别"], ["甲", "企业"]])
    with pytest.raises(ValidationFailed, match="missing required column 统一社会信用代码"):
        import_registry(configured, "entities", path, import_options())


def test_every_bad_row_is_reported(configured, import_options, tmp_path):
    rows = [ENTITY_HEADER] + [entity_row(i, 类别="错" if i % 3 == 0 else "企业") for i in range(1, 31)]
    with pytest.raises(ValidationFailed) as err:
        import_registry(configured, "entities", write_csv(tmp_path / "e.csv", rows), import_options())
    assert sorted(p.row for p in err.value.problems) == [i + 1 for i in range(1, 31) if i % 3 == 0]


def test_one_bad_row_after_many_good_chunks_leaves_database_unchanged(configured, import_options, tmp_path):
    import_registry(
        configured, "entities", write_csv(tmp_path / "a.csv", [ENTITY_HEADER, entity_row(1)]), import_options()
    )
    before = snapshot(configured)
    n = CHUNK * 2 + 10
    rows = [ENTITY_HEADER] + [entity_row(i, 单位名称=f"改名{i}") for i in range(1, n)] + [entity_row(n, 信用等级="Z")]
    with pytest.raises(ValidationFailed):
        import_registry(configured, "entities", write_csv(tmp_path / "b.csv", rows), import_options())
    assert snapshot(configured) == before


def test_dry_run_counts_but_writes_nothing(configured, import_options, tmp_path):
    path = write_csv(tmp_path / "e.csv", [ENTITY_HEADER] + [entity_row(i) for i in range(4)])
    before = snapshot(configured)
    s = import_registry(configured, "entities", path, import_options(dry_run=True))
    assert s.added == 4 and s.dry_run
    assert count(configured, Entity) == 0
    assert snapshot(configured) == before


# -- upsert and history ----------------------------------------------------------------------------


def test_upsert_updates_changed_rows_and_keeps_history(configured, import_options, tmp_path):
    rows = [ENTITY_HEADER] + [entity_row(i) for i in range(3)]
    import_registry(configured, "entities", write_csv(tmp_path / "v1.csv", rows), import_options())
    rows[2] = entity_row(1, 单位名称="新名称有限公司", 信用等级="D")
    later = dt.datetime(2026, 3, 1, 10, 0)
    s = import_registry(configured, "entities", write_csv(tmp_path / "v2.csv", rows), import_options(now=later))
    assert (s.added, s.updated, s.unchanged) == (0, 1, 2)
    rec = show_record(configured, "entities", make_uscc(1))
    assert rec["name"] == "新名称有限公司"
    insert, update = rec["history"]
    assert insert["action"] == "insert" and update["action"] == "update"
    assert update["changes"] == {"name": ["测试企业1有限公司", "新名称有限公司"], "credit_class": ["B", "D"]}
    assert update["at"] == later


def test_columns_absent_from_the_file_are_left_alone(configured, import_options, tmp_path):
    import_registry(
        configured, "entities", write_csv(tmp_path / "a.csv", [ENTITY_HEADER, entity_row(1)]), import_options()
    )
    slim = [["统一社会信用代码", "单位名称", "类别"], [make_uscc(1), "改名公司", "企业"]]
    import_registry(configured, "entities", write_csv(tmp_path / "b.csv", slim), import_options())
    rec = entities(configured)[make_uscc(1)]
    assert rec["name"] == "改名公司" and rec["phone"] == "13800000000" and rec["credit_class"] == "B"


# -- inspectors and conflicts ------------------------------------------------------------------------

INSPECTOR_HEADER = ["执法证号", "姓名", "所属部门", "人员类别", "状态", "证件有效期至", "执法资格"]


def test_inspectors_with_qualifications_and_unit_names(configured, import_options, tmp_path):
    rows = [
        INSPECTOR_HEADER,
        ["a001", "王伟", "青山县生态环境局", "执法人员", "在岗", "2028/12/31", "生态环境执法；重点排污单位"],
        ["A002", "李娜", "STHJ", "专家", "休假", "", "生态环境执法"],
    ]
    import_registry(configured, "inspectors", write_csv(tmp_path / "i.csv", rows), import_options())
    _, recs = list_records(configured, "inspectors")
    by = {r["cert_no"]: r for r in recs}
    assert by["A001"]["department"] == "STHJ" and by["A001"]["qualifications"] == ["生态环境执法", "重点排污单位"]
    assert by["A001"]["cert_valid_to"] == dt.date(2028, 12, 31)
    assert (by["A002"]["kind"], by["A002"]["status"]) == ("expert", "on_leave")
    rows[1][-1] = "生态环境执法"
    s = import_registry(configured, "inspectors", write_csv(tmp_path / "i2.csv", rows), import_options())
    assert (s.updated, s.unchanged) == (1, 1)
    hist = show_record(configured, "inspectors", "A001")["history"]
    assert hist[-1]["changes"] == {"qualifications": [["生态环境执法", "重点排污单位"], ["生态环境执法"]]}


def test_unknown_department_is_refused(configured, import_options, tmp_path):
    rows = [INSPECTOR_HEADER, ["A1", "王伟", "外星局", "", "", "", "x"]]
    with pytest.raises(ValidationFailed, match="unknown department '外星局'"):
        import_registry(configured, "inspectors", write_csv(tmp_path / "i.csv", rows), import_options())


def test_conflicts_need_both_sides_in_the_registry(configured, import_options, tmp_path):
    import_registry(
        configured, "entities", write_csv(tmp_path / "e.csv", [ENTITY_HEADER, entity_row(1)]), import_options()
    )
    import_registry(
        configured,
        "inspectors",
        write_csv(tmp_path / "i.csv", [INSPECTOR_HEADER, ["A1", "王伟", "STHJ", "", "", "", "x"]]),
        import_options(),
    )
    bad = [["执法证号", "统一社会信用代码", "回避原因"], ["A1", make_uscc(1), "亲属"], ["B9", make_uscc(2), "亲属"]]
    with pytest.raises(ValidationFailed) as err:
        import_registry(configured, "conflicts", write_csv(tmp_path / "c.csv", bad), import_options())
    reasons = [p.reason for p in err.value.problems]
    assert any("no inspector with 执法证号 B9" in r for r in reasons) and any(
        "no entity with identifier" in r for r in reasons
    )
    assert count(configured, Conflict) == 0
    import_registry(configured, "conflicts", write_csv(tmp_path / "c2.csv", bad[:2]), import_options())
    assert count(configured, Conflict) == 1


# -- export / import round trip --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_import_round_trip(demo_db, import_options, tmp_path, suffix, db_url):
    from inspect_kit.config.sync import sync_config
    from inspect_kit.storage.db import init_database, make_engine
    from tests.conftest import CONFIGS, NOW

    for kind in ("entities", "inspectors", "conflicts"):
        out = tmp_path / f"{kind}{suffix}"
        export_registry(demo_db, kind, out)
        s = import_registry(demo_db, kind, out, import_options())
        assert s.added == s.updated == 0 and s.unchanged == s.rows > 0, kind
    # ...and into a brand-new database, then out again: the same files.
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    init_database(fresh)
    from inspect_kit.config import load_config

    sync_config(fresh, load_config(CONFIGS), NOW)
    for kind in ("entities", "inspectors", "conflicts"):
        import_registry(fresh, kind, tmp_path / f"{kind}{suffix}", import_options())
        export_registry(fresh, kind, tmp_path / f"again-{kind}{suffix}")
        _, a = list_records(demo_db, kind, limit=None)
        _, b = list_records(fresh, kind, limit=None)
        strip = lambda r: {k: v for k, v in r.items() if k not in ("id", "updated_at")}  # noqa: E731
        assert [strip(r) for r in a] == [strip(r) for r in b], kind
        if suffix == ".csv":
            assert (tmp_path / f"{kind}{suffix}").read_bytes() == (tmp_path / f"again-{kind}{suffix}").read_bytes()
    fresh.dispose()


def test_demo_registries_load(demo_db):
    assert count(demo_db, Entity) == 3205
    assert count(demo_db, Inspector) == 40
    assert count(demo_db, Conflict) == 6
    _, exempt = list_records(demo_db, "entities", limit=None, category="一般排污单位")
    assert sum(1 for e in exempt if e["exempt_reason"]) == 5


# -- the column-by-column path gives what the row-by-row path gives ----------------------------------


def _messy_entity_rows(
    n: int, *, bad_every: int = 0, bad_from: int = 0, seed: int = 1, renamed: bool = False
) -> list[list[str]]:
    """Rows for every entity column, with what real files have: stray and full-width spaces, full-width
    and lower-case codes, empty optional cells, unit names, exemption dates in several formats,
    quotes, backslashes and tabs; blank lines. With bad_every: from row bad_from on,
    every kind of bad row, and repeats (identical, or not) of keys first seen far earlier."""
    import random

    rng = random.Random(seed)
    fw = str.maketrans("0123456789", "０１２３４５６７８９")
    names = [
        "测试{i}有限公司",
        "Acme {i} Ltd",
        " 前后空格{i} ",
        '引号"{i}"\\斜杠',
        "制表\t符{i}",
        "e\u0301{i}",
        "全角\u3000空格{i}",
        "零宽\u200b{i}",
        "多  空格{i}",
        "百分%s{i}",
    ]
    bads = [
        ("统一社会信用代码", lambda c: c[:-1] + ("0" if c[-1] != "0" else "1")),
        ("类别", lambda c: "外星企业"),
        ("单位名称", lambda c: " "),
        ("豁免起始日期", lambda c: "2026-02-30"),
        ("信用等级", lambda c: "E"),
        ("状态", lambda c: "失踪"),
        ("监管部门", lambda c: "外星局"),
        ("行政区划代码", lambda c: "12345"),
    ]
    rows: list[list[str]] = []
    data: list[list[str]] = []
    for i in range(n):
        code = make_uscc(i)
        code = rng.choice([code, code, code, code.lower(), code.translate(fw), f" {code} "])
        exempt = rng.random() < 0.2
        row = {
            "统一社会信用代码": code,
            "单位名称": rng.choice(names).format(i=i) + ("改" if renamed else ""),
            "类别": rng.choice(["企业", "个体工商户", " 企业 "]),
            "监管部门": rng.choice(["", "SCJG", "青山县生态环境局"]),
            "行政区划代码": rng.choice(["", "360199", "３６０１９９１００"]),
            "所属乡镇": rng.choice(["", "城关镇"]),
            "行业": rng.choice(["", "制造业"]),
            "信用等级": rng.choice(["", "A", "b类", "Ｃ"]),
            "状态": rng.choice(["", "存续", "注销", "CLOSED"]),
            "豁免原因": "正面清单" if exempt else "",
            "豁免起始日期": rng.choice(["2026-01-05", "2026年1月5日", "20260105"]) if exempt else "",
            "豁免截止日期": rng.choice(["2026/12/31", ""]) if exempt else "",
            "联系电话": rng.choice(["", f"138{i:08d}", f"１３８ {i:08d}"]),
            "法定代表人": rng.choice(["", "张三", "李 四"]),
        }
        bad = bad_every and i >= bad_from
        if bad and i % bad_every == bad_every - 1:
            col, spoil = bads[(i // bad_every) % len(bads)]
            row[col] = spoil(row[col])
        data.append([row[h] for h in MESSY_HEADER])
        rows.append(data[-1])
        if i % 700 == 3:
            rows.append(["", " ", "\u3000"] + [""] * 11)
        if bad and i % 300 == 299:
            rows.append(list(data[i - 1500]))  # the same row again
            rows.append(data[i - 1400][:1] + ["另一个名字"] + data[i - 1400][2:])  # the same key, other values
    return [MESSY_HEADER] + rows


MESSY_HEADER = [
    "统一社会信用代码",
    "单位名称",
    "类别",
    "监管部门",
    "行政区划代码",
    "所属乡镇",
    "行业",
    "信用等级",
    "状态",
    "豁免原因",
    "豁免起始日期",
    "豁免截止日期",
    "联系电话",
    "法定代表人",
]


def _stored(engine) -> tuple:
    from sqlalchemy import Text, cast

    e, c, b, k = Entity.__table__, RegistryChange.__table__, ImportBatch.__table__, RegistryInsertBlock.__table__
    with engine.connect() as conn:
        return (
            [tuple(r) for r in conn.execute(select(e).order_by(e.c.id))],
            [
                tuple(r)
                for r in conn.execute(
                    select(
                        c.c.id, c.c.batch_id, c.c.at, c.c.table_name, c.c.key, c.c.action, cast(c.c.changes, Text)
                    ).order_by(c.c.id)
                )
            ],
            [tuple(r) for r in conn.execute(select(b).order_by(b.c.id))],
            [tuple(r) for r in conn.execute(select(k).order_by(k.c.id))],
        )


def _outcome(engine, path, opts):
    try:
        return ("ok", import_registry(engine, "entities", path, opts).__dict__)
    except ValidationFailed as exc:
        return ("refused", str(exc), [(p.reason, p.file, p.row, p.column) for p in exc.problems])


@pytest.mark.parametrize("scenario", ["clean", "bad rows", "updates", "skip repeats", "dry run"])
def test_column_path_stores_what_the_row_path_stores(configured, twin, import_options, tmp_path, monkeypatch, scenario):
    import dataclasses

    import inspect_kit.registry.columns as columns
    import inspect_kit.registry.importer as importer
    import inspect_kit.registry.writers as writers

    n = 2 * importer.BLOCK + 321
    # bad rows only after the first block: it goes the column way, and is written before the refusal
    rows = _messy_entity_rows(n, bad_every=37 if scenario == "bad rows" else 0, bad_from=importer.BLOCK + 50)
    if scenario == "skip repeats":
        rows += [list(r) for r in rows[1:400:7] if any(c.strip() for c in r)]
    path = write_csv(tmp_path / "e.csv", rows)
    opts = import_options(skip_duplicate_rows=scenario == "skip repeats", dry_run=scenario == "dry run")
    if scenario == "updates":  # every other key of the first block exists, with other values
        old = write_csv(
            tmp_path / "old.csv", [rows[0]] + _messy_entity_rows(importer.BLOCK, seed=2, renamed=True)[1::2]
        )
        for eng in (configured, twin):
            import_registry(eng, "entities", old, import_options(now=dt.datetime(2026, 1, 1)))

    built, kept = [], []
    monkeypatch.setattr(
        writers, "bulk_insert_columns", lambda *a, _f=writers.bulk_insert_columns, **k: built.append(1) or _f(*a, **k)
    )
    monkeypatch.setattr(
        columns.ColumnValidator,
        "block",
        lambda self, rows, _f=columns.ColumnValidator.block: kept.append(_f(self, rows)) or kept[-1],
    )
    fast = _outcome(configured, path, opts)
    assert any(cols is not None for cols in kept), "no block was validated column by column"
    if scenario != "dry run":
        assert built, "the column path was not taken"
    # the row-by-row path: record() for every row, write() for every chunk
    slow = _outcome(twin, path, dataclasses.replace(opts, columnwise=False))
    assert fast == slow
    assert _stored(configured) == _stored(twin)
    if scenario == "bad rows":
        assert fast[0] == "refused" and len(fast[2]) > 50
        assert any("(an identical row)" in p[0] for p in fast[2]) and any(
            "with different values" in p[0] for p in fast[2]
        )
    elif scenario == "skip repeats":
        assert fast[1]["skipped_duplicates"] > 0


@pytest.mark.parametrize(
    "over",
    [
        {"统一社会信用代码": make_uscc(30)[:-1] + ("0" if make_uscc(30)[-1] != "0" else "1")},
        {"统一社会信用代码": "91360199ABC"},
        {"类别": "外星企业"},
        {"单位名称": ""},
        {"监管部门": "外星局"},
        {"行政区划代码": "12345"},
        {"信用等级": "E"},
        {"状态": "失踪"},
        {"豁免起始日期": "2026-02-30", "豁免原因": "r"},
        {"豁免起始日期": "2026-01-05", "豁免原因": ""},
        {"豁免截止日期": "2026-01-05", "豁免原因": ""},
        {"豁免起始日期": "2026-05-01", "豁免截止日期": "2026-01-01", "豁免原因": "r"},
        {"统一社会信用代码": make_uscc(3)},
        {"单位名称": "多  空格"},
        {"统一社会信用代码": make_uscc(30).lower()},
        {"统一社会信用代码": make_uscc(31)[:4] + " " + make_uscc(31)[4:]},
        {"联系电话": "0791 1234567"},
    ],
)
def test_one_row_in_a_clean_block_is_judged_as_row_by_row(configured, twin, import_options, tmp_path, over):
    rows = [MESSY_HEADER] + [
        [
            make_uscc(i),
            f"名称{i}",
            "企业",
            "SCJG",
            "360199",
            "城关镇",
            "制造业",
            "A",
            "存续",
            "",
            "",
            "",
            f"138{i:08d}",
            "张三",
        ]
        for i in range(60)
    ]
    rows[31] = [over.get(h, c) for h, c in zip(MESSY_HEADER, rows[31])]
    path = write_csv(tmp_path / "e.csv", rows)
    fast = _outcome(configured, path, import_options())
    slow = _outcome(twin, path, import_options(columnwise=False))
    assert fast == slow
    assert _stored(configured) == _stored(twin)


def test_clean_cells_is_clean_cell_for_a_column():
    import random

    from inspect_kit.text import WHITE_SPACE_BUT_SPACE, clean_cell, clean_cells

    assert set(WHITE_SPACE_BUT_SPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()} - {" "}
    alphabet = list("ab 中\t\n\x00\x1c\x85\u3000\u00a0\u2028\u200b\ufeff\u00ad\u0301eé") + [
        "A\u030a",
        "\uf900",
        "\u1100\u1161",
    ]
    rng = random.Random(4)
    for _ in range(50_000):
        cells = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(7))) for _ in range(rng.randrange(1, 4))]
        assert list(clean_cells(cells)) == [clean_cell(c) for c in cells], cells
    plain = ("青山县某某店", "Acme Ltd", "")
    assert clean_cells(plain) is plain


def test_uscc_quick_check_agrees_with_uscc_problem():
    import random

    from inspect_kit.registry import uscc
    from inspect_kit.registry.rules import uscc_problem as _uscc_problem
    from inspect_kit.registry.uscc import is_valid as _uscc_ok
    from tests.helpers import random_uscc

    rng = random.Random(5)
    for _ in range(20_000):
        code = random_uscc(rng)
        if rng.random() < 0.6:  # spoil one character, or the length
            k = rng.randrange(19)
            code = code[:k] + rng.choice(uscc.ALPHABET + "IOSVZa9０\n") + code[k + rng.choice((0, 1, 1)) :]
        assert _uscc_ok(code) == (uscc.problem(code) is None), code
        assert _uscc_problem(code) == uscc.problem(code)


def test_progress_is_reported_in_bytes_up_to_the_file_size(configured, import_options, tmp_path):
    rows = [ENTITY_HEADER] + [entity_row(i) for i in range(CHUNK * 3)]
    path = write_csv(tmp_path / "big.csv", rows)
    calls: list[tuple[int, int]] = []
    import_registry(
        configured, "entities", path, import_options(), progress=lambda done, total: calls.append((done, total))
    )
    assert len(calls) >= 3
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert calls[-1] == (path.stat().st_size, path.stat().st_size)


def test_each_rule_judges_a_column_as_it_judges_its_rows_one_by_one():
    """The rules are written once: on a block they flag exactly the rows (and reasons) that the
    same rules flag on each row alone, and normalise the values the same way."""
    import random

    from inspect_kit.registry.rules import RULES, Flag, RuleContext, check, passes

    rng = random.Random(12)
    units = {"SCJG": "SCJG", "市场监督管理局": "SCJG", "STHJ": "STHJ"}
    present = frozenset({"identifier", "category", "department", "exempt_from", "exempt_to", "exempt_reason", "status"})
    days = [None, None, dt.date(2026, 1, 5), dt.date(2026, 3, 1)]
    for trial in range(300):
        ctx = RuleContext(
            present if trial % 3 else present - {"exempt_reason"},
            units if trial % 4 else {},
            frozenset({"企业", "个体工商户"}) if trial % 5 else None,
            "uscc" if trial % 2 else "other",
            r"^[0-9A-Z][0-9A-Z\-]{3,31}$",
        )
        n = rng.randrange(1, 8)
        bad = rng.random() < 0.5  # clean blocks too, where the column path keeps the block
        cols = {
            "identifier": [
                make_uscc(rng.randrange(500))
                if not bad or rng.random() < 0.7
                else rng.choice(["91360199ABC", "ab", make_uscc(3)[:-1] + "0"])
                for _ in range(n)
            ],
            "category": [rng.choice(["企业", "个体工商户"] + (["外星企业"] if bad else [])) for _ in range(n)],
            "department": [
                rng.choice(["SCJG", "市场监督管理局", None] + (["外星局"] if bad else [])) for _ in range(n)
            ],
            "exempt_from": [rng.choice(days) if bad else None for _ in range(n)],
            "exempt_to": [rng.choice(days) if bad else None for _ in range(n)],
            "exempt_reason": [rng.choice(["r", None]) for _ in range(n)],
            "status": [rng.choice(["active", "closed", None]) for _ in range(n)],
        }
        rules = RULES["entities"]
        block = {k: list(v) for k, v in cols.items()}
        flags = check(rules, ctx, block)
        one_by_one: list[Flag] = []
        rows = []
        for i in range(n):
            row = {k: [v[i]] for k, v in cols.items()}
            one_by_one += [f._replace(row=i) for f in check(rules, ctx, row)]
            rows.append({k: v[0] for k, v in row.items()})
        assert sorted(flags) == sorted(one_by_one)
        assert passes(rules, ctx, {k: list(v) for k, v in cols.items()}) == (not one_by_one)
        if not flags:  # normalised alike: department codes, the default status
            assert [{k: v[i] for k, v in block.items()} for i in range(n)] == rows


def test_a_unit_scoped_import_takes_only_that_units_rows(configured, import_options, tmp_path):
    """A coordinator's import (ImportOptions.unit): a row of another unit, an empty department or a
    file without the column is refused, row and column named; nothing is written."""
    head = ENTITY_HEADER + ["监管部门"]
    rows = [head] + [entity_row(i) + [dep] for i, dep in enumerate(["STHJ", "SCJG", "", "青山县生态环境局"])]
    path = write_csv(tmp_path / "e.csv", rows)
    with pytest.raises(ValidationFailed) as exc:
        import_registry(configured, "entities", path, import_options(unit="STHJ"))
    flagged = {(p.row, p.column) for p in exc.value.problems}
    assert flagged == {(3, "监管部门"), (4, "监管部门")}  # the unit's name (row 5) counts as the unit
    with configured.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Entity)).scalar() == 0
    no_column = write_csv(tmp_path / "n.csv", [ENTITY_HEADER, entity_row(9)])
    with pytest.raises(ValidationFailed) as exc:
        import_registry(configured, "entities", no_column, import_options(unit="STHJ"))
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "department")]
    own = write_csv(tmp_path / "o.csv", [head, entity_row(1) + ["STHJ"], entity_row(2) + ["STHJ"]])
    summary = import_registry(configured, "entities", own, import_options(unit="STHJ", by="coord"))
    assert summary.added == 2
    with configured.connect() as conn:
        assert conn.execute(select(ImportBatch.by).order_by(ImportBatch.id.desc())).scalar() == "coord"
    # unscoped (the CLI): another unit's rows import as before
    assert import_registry(configured, "entities", path, import_options()).rows == 4


def test_a_coordinator_cannot_take_over_another_units_rows(configured, import_options, tmp_path):
    """Attack: STHJ's coordinator uploads a row naming STHJ as department but the identifier (or
    执法证号) of an entity (officer) stored under SCJG — or under no unit — to move it into STHJ and
    rewrite it. Refused with the row and column named, nothing written; SCJG's own coordinator, and
    the unscoped CLI, may still change it."""
    head = ENTITY_HEADER + ["监管部门"]
    theirs = write_csv(tmp_path / "t.csv", [head, entity_row(1) + ["SCJG"], entity_row(2) + [""]])
    import_registry(configured, "entities", theirs, import_options())  # the county's own import
    with configured.connect() as conn:
        before = conn.execute(select(Entity.identifier, Entity.name, Entity.department).order_by(Entity.id)).all()
    grab = write_csv(
        tmp_path / "g.csv",
        [head, entity_row(3) + ["STHJ"], entity_row(1, 单位名称="改名企业") + ["STHJ"], entity_row(2) + ["STHJ"]],
    )
    with pytest.raises(ValidationFailed) as exc:
        import_registry(configured, "entities", grab, import_options(unit="STHJ"))
    problems = exc.value.problems
    assert {(p.row, p.column) for p in problems} == {(3, "统一社会信用代码"), (4, "统一社会信用代码")}
    assert any("under unit SCJG" in p.reason for p in problems) and any("under no unit" in p.reason for p in problems)
    with configured.connect() as conn:
        after = conn.execute(select(Entity.identifier, Entity.name, Entity.department).order_by(Entity.id)).all()
    assert after == before  # not even row 2's new entity: nothing half-written
    renamed = write_csv(tmp_path / "r.csv", [head, entity_row(1, 单位名称="改名企业") + ["SCJG"]])
    assert import_registry(configured, "entities", renamed, import_options(unit="SCJG")).updated == 1
    officers = write_csv(
        tmp_path / "i.csv",
        [INSPECTOR_HEADER, ["b001", "王伟", "SCJG", "执法人员", "在岗", "2028/12/31", "市场监管执法"]],
    )
    import_registry(configured, "inspectors", officers, import_options())
    moved = write_csv(
        tmp_path / "m.csv",
        [INSPECTOR_HEADER, ["b001", "王伟", "STHJ", "执法人员", "在岗", "2028/12/31", "生态环境执法"]],
    )
    with pytest.raises(ValidationFailed) as exc:
        import_registry(configured, "inspectors", moved, import_options(unit="STHJ"))
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "执法证号")]
