"""Registry import: formats, encodings, normalisation, every rejection reason, atomicity,
upsert with history, dry runs and the export → import round trip. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from inspect_kit.errors import ValidationFailed
from inspect_kit.registry.importer import CHUNK, import_registry
from inspect_kit.registry.query import export_registry, list_records, show_record
from inspect_kit.storage.models import Conflict, Entity, ImportBatch, Inspector, RegistryChange
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
        return tuple(sorted(tuple(str(v) for v in r) for r in c.execute(select(t)))
                     for t in (Entity.__table__, RegistryChange.__table__, ImportBatch.__table__, Inspector.__table__))


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
    rows = [["青山县检查对象名录库"], ["identifier", "name", "category", "township", "credit_class"],
            [make_uscc(1), "甲公司", "企业", "城关镇", "A"], [make_uscc(2), "乙公司", "企业", "清水镇", "d类"]]
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

@pytest.mark.parametrize("over, column, reason", [
    ({"统一社会信用代码": make_uscc(3)[:-1] + ("0" if make_uscc(3)[-1] != "0" else "1")}, "统一社会信用代码", "check character"),
    ({"类别": "外星企业"}, "类别", "unknown category '外星企业'"),
    ({"单位名称": ""}, "单位名称", "missing required field name"),
    ({"豁免起始日期": "2026-02-30", "豁免原因": "正面清单"}, "豁免起始日期", "not a real date"),
    ({"豁免截止日期": "明年", "豁免原因": "正面清单"}, "豁免截止日期", "cannot read"),
    ({"信用等级": "E"}, "信用等级", "credit class"),
    ({"状态": "失踪"}, "状态", "unknown status"),
])
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
        import_registry(configured, "entities", write_csv(tmp_path / "dup2.csv", rows), import_options(skip_duplicate_rows=True))


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
    import_registry(configured, "entities", write_csv(tmp_path / "a.csv", [ENTITY_HEADER, entity_row(1)]), import_options())
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
    import_registry(configured, "entities", write_csv(tmp_path / "a.csv", [ENTITY_HEADER, entity_row(1)]), import_options())
    slim = [["统一社会信用代码", "单位名称", "类别"], [make_uscc(1), "改名公司", "企业"]]
    import_registry(configured, "entities", write_csv(tmp_path / "b.csv", slim), import_options())
    rec = entities(configured)[make_uscc(1)]
    assert rec["name"] == "改名公司" and rec["phone"] == "13800000000" and rec["credit_class"] == "B"


# -- inspectors and conflicts ------------------------------------------------------------------------

INSPECTOR_HEADER = ["执法证号", "姓名", "所属部门", "人员类别", "状态", "证件有效期至", "执法资格"]


def test_inspectors_with_qualifications_and_unit_names(configured, import_options, tmp_path):
    rows = [INSPECTOR_HEADER, ["a001", "王伟", "青山县生态环境局", "执法人员", "在岗", "2028/12/31", "生态环境执法；重点排污单位"],
            ["A002", "李娜", "STHJ", "专家", "休假", "", "生态环境执法"]]
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
    import_registry(configured, "entities", write_csv(tmp_path / "e.csv", [ENTITY_HEADER, entity_row(1)]), import_options())
    import_registry(configured, "inspectors", write_csv(tmp_path / "i.csv", [INSPECTOR_HEADER, ["A1", "王伟", "STHJ", "", "", "", "x"]]),
                    import_options())
    bad = [["执法证号", "统一社会信用代码", "回避原因"], ["A1", make_uscc(1), "亲属"], ["B9", make_uscc(2), "亲属"]]
    with pytest.raises(ValidationFailed) as err:
        import_registry(configured, "conflicts", write_csv(tmp_path / "c.csv", bad), import_options())
    reasons = [p.reason for p in err.value.problems]
    assert any("no inspector with 执法证号 B9" in r for r in reasons) and any("no entity with identifier" in r for r in reasons)
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
