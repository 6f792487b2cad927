"""Results per checklist item stored with a finding: the rules on add, import and the template
round trip (inspect_kit.findings.items, .write, .template). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import select

from inspect_kit.errors import ValidationFailed
from inspect_kit.findings import service
from inspect_kit.findings.items import FAIL, PASS, ItemResult, item_key
from inspect_kit.findings.template import ITEM_HEADER, LISTS_SHEET
from inspect_kit.storage.models import Finding, FindingRevision
from tests.conftest import REGISTRIES
from tests.factories import make_draw
from tests.test_findings_service import clean, ordered

AS_OF = dt.date(2026, 6, 30)
T1 = dt.datetime(2026, 4, 1, 9, 0)
T2 = dt.datetime(2026, 4, 2, 9, 0)
KEY = ("01", "02", "03", "04", "05")  # STHJ-01's checklist in configs/matters.toml


@pytest.fixture
def tasks(configured, import_options):
    """Four key sources (STHJ-01, checklist 01-05) and three general ones (STHJ-02, 01-03) drawn for 2026Q1."""
    from inspect_kit.registry.importer import import_registry
    from inspect_kit.storage.models import Entity

    import_registry(configured, "entities", REGISTRIES / "entities_sthj.csv", import_options())
    with configured.connect() as c:

        def first(category: str, n: int) -> list[str]:
            stmt = select(Entity.identifier).where(Entity.category == category).order_by(Entity.identifier).limit(n)
            return list(c.execute(stmt).scalars())

        key, general = first("重点排污单位", 4), first("一般排污单位", 3)
    return (
        configured,
        make_draw(configured, "STHJ-01", "2026Q1", key),
        make_draw(configured, "STHJ-02", "2026Q1", general),
    )


def items(**over: str) -> dict[str, str]:
    out = {item_key(c): PASS for c in KEY}
    out.update({item_key(k.lstrip("_")): v for k, v in over.items()})
    return out


def add(engine, task_no, values, now=T1):
    return service.add_finding(engine, task_no, values, as_of=AS_OF, now=now, by="张三")


def reasons(exc: ValidationFailed) -> list[str]:
    return [f"{p.column}: {p.reason}" for p in exc.problems]


def test_add_stores_items_in_checklist_order_and_history_records_changes(tasks):
    engine, key, _ = tasks
    values = {k: v for k, v in ordered(key[0]).items() if k != "task_no"}
    given = items(_04="不符合：台账缺2026年1-2月记录：R05", _05="不涉及：无危险废物产生")
    add(engine, key[0], {**values, **dict(reversed(list(given.items())))})
    with engine.connect() as c:
        stored = c.execute(select(Finding.item_results)).scalar_one()
    assert [d["code"] for d in stored] == list(KEY)
    assert stored[3] == {"code": "04", "result": FAIL, "category": "R05", "note": "台账缺2026年1-2月记录"}
    assert stored[4]["note"] == "无危险废物产生" and stored[4]["category"] is None
    rec = service.get_finding(engine, key[0], as_of=AS_OF, policy=service.FindingsPolicy())[1]
    assert rec is not None and rec.item_results[3] == ItemResult("04", FAIL, "R05", "台账缺2026年1-2月记录")
    # one item changed: a new revision whose changes name item_results, old and new
    out = add(engine, key[0], {item_key("02"): "不符合：R05"}, now=T2)
    assert out.action == "updated" and list(out.changes) == ["item_results"]
    old, new = out.changes["item_results"]
    assert old[1]["result"] == PASS and new[1] == {"code": "02", "result": FAIL, "category": "R05", "note": None}
    with engine.connect() as c:
        revs = c.execute(select(FindingRevision.revision, FindingRevision.changes).order_by(FindingRevision.id)).all()
    assert [r.revision for r in revs] == [1, 2] and "item_results" in revs[0].changes
    # the same items again: no change, no revision
    assert add(engine, key[0], {item_key("02"): "不符合：发现问题已责令改正"}, now=T2).action == "unchanged"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        # 未发现问题 beside a 不符合 item
        (lambda k: {**clean(k), **items(_02="不符合：设施停运")}, "未发现问题 contradicts the 不符合 item(s) 02"),
        # an item code the matter's checklist does not have
        (lambda k: {**ordered(k), **items(_99="符合")}, "no item '99' in the matter's checklist"),
        # 不符合 without a problem category
        (lambda k: {**ordered(k), **items(_02="不符合：设施停运")}, "a 不符合 item needs a problem category"),
        # a category that is no problem, or not among the finding's results
        (lambda k: {**ordered(k), **items(_02="不符合：x：R06")}, "is not among the finding's results"),
        (lambda k: {**ordered(k), **items(_02="不符合：x：R99")}, "unknown problem category 'R99'"),
        # a 符合 item with a category, an unreadable result, a missing item
        (lambda k: {**ordered(k), **items(_02="符合：R05")}, "a 符合 item carries no problem category"),
        (lambda k: {**ordered(k), **items(_02="也许")}, "'也许' is not an item result"),
        (lambda k: {**ordered(k), **items(_05="")}, "no result for item(s) 05"),
    ],
)
def test_add_refuses_broken_item_rules_and_writes_nothing(tasks, row, expected):
    engine, key, _ = tasks
    values = {k: v for k, v in row(key[0]).items() if k != "task_no"}
    with pytest.raises(ValidationFailed) as exc:
        add(engine, key[0], values)
    assert any(expected in r for r in reasons(exc.value)), reasons(exc.value)
    with engine.connect() as c:
        assert c.execute(select(Finding.id)).first() is None


def test_items_on_a_matter_without_them_and_a_task_of_another_matter(tasks):
    engine, _, general = tasks  # STHJ-02: checklist 01, 02, 03
    values = {k: v for k, v in ordered(general[0]).items() if k != "task_no"}
    with pytest.raises(ValidationFailed) as exc:
        add(engine, general[0], {**values, **items()})
    assert any("no item '04'" in r for r in reasons(exc.value)), reasons(exc.value)
    three = {item_key("01"): "符合", item_key("02"): "不符合：设施未运行：R05", item_key("03"): "不涉及"}
    assert add(engine, general[0], {**values, **three}).action == "added"


def _fill(path, fills: dict[str, dict[str, str]]) -> None:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        if ws.title == LISTS_SHEET:
            continue
        headers = [c.value for c in ws[2]]
        for r in range(3, ws.max_row + 1):
            for header, value in fills.get(ws.cell(r, 1).value, {}).items():
                col = next(j for j, h in enumerate(headers, 1) if h and str(h).startswith(header))
                ws.cell(r, col, value)
    wb.save(path)


def test_template_has_item_columns_with_drop_downs_and_round_trips(tasks, tmp_path):
    engine, key, general = tasks
    path = tmp_path / "t.xlsx"
    service.write_template(engine, path, period="2026Q1")
    wb = openpyxl.load_workbook(path)
    ws = wb["STHJ-01"]
    headers = [c.value for c in ws[2]]
    item_cols = [h for h in headers if h and h.startswith(ITEM_HEADER)]
    assert item_cols[0] == "检查项01 排污许可证执行情况" and len(item_cols) == 5
    assert headers[-1] == "版本号" and headers.index(item_cols[-1]) == len(headers) - 2
    assert len([h for h in (c.value for c in wb["STHJ-02"][2]) if h and h.startswith(ITEM_HEADER)]) == 3
    letter = openpyxl.utils.get_column_letter(headers.index(item_cols[0]) + 1)
    lists = [dv for dv in ws.data_validations.dataValidation if dv.formula1 == "ItemResults"]
    assert lists and any(letter in str(r) for r in lists[0].sqref.ranges)
    assert [c.value for c in wb[LISTS_SHEET]["D"]][1:4] == ["符合", "不符合", "不涉及"]
    formula = '=HYPERLINK("http://evil.example","点击")'
    fills = {
        key[0]: {
            "检查开始日期": "2026-03-06",
            "检查结束日期": "2026-03-06",
            "检查结果": "发现问题已责令改正",
            "问题描述": "台账不全",
            "后续处置": "责令改正",
            "整改期限": "2026-04-06",
            "录入人": "张三",
            **{f"{ITEM_HEADER}0{i}": "符合" for i in range(1, 6)},
            f"{ITEM_HEADER}04": f"不符合：{formula}：R05",
        },
        key[1]: {
            "检查开始日期": "2026-03-06",
            "检查结束日期": "2026-03-06",
            "检查结果": "未发现问题",
            "后续处置": "无需后续处置",
            "录入人": "张三",
            **{f"{ITEM_HEADER}0{i}": "符合" for i in range(1, 6)},
        },
    }
    _fill(path, fills)
    s = service.import_findings(engine, path, as_of=AS_OF, now=T1)
    assert s.added == 2 and not s.ignored_columns
    rec = service.get_finding(engine, key[0], as_of=AS_OF, policy=service.FindingsPolicy())[1]
    assert rec is not None and rec.item_results[3] == ItemResult("04", FAIL, "R05", formula)  # kept as text
    # written back: prefilled, the formula neutralised (a text cell), and importing it changes nothing
    again = tmp_path / "again.xlsx"
    service.write_template(engine, again, period="2026Q1")
    ws = openpyxl.load_workbook(again)["STHJ-01"]
    headers = [c.value for c in ws[2]]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == key[0])
    cell = ws.cell(row, headers.index(item_cols[3]) + 1)
    assert cell.data_type == "s" and not str(cell.value).startswith("=")
    assert service.import_findings(engine, again, as_of=AS_OF, now=T2).unchanged == 2
    # and as .csv
    csv = tmp_path / "t.csv"
    service.write_template(engine, csv, period="2026Q1")
    assert service.import_findings(engine, csv, as_of=AS_OF, now=T2).unchanged == 2


def test_import_refuses_item_rules_naming_row_and_column(tasks, tmp_path):
    engine, key, _ = tasks
    path = tmp_path / "t.xlsx"
    service.write_template(engine, path, period="2026Q1")
    base = {"检查开始日期": "2026-03-06", "检查结束日期": "2026-03-06", "录入人": "张三"}
    passes = {f"{ITEM_HEADER}0{i}": "符合" for i in range(1, 6)}
    _fill(
        path,
        {
            key[0]: {
                **base,
                "检查结果": "未发现问题",
                "后续处置": "无需后续处置",
                **passes,
                f"{ITEM_HEADER}02": "不符合：R05",
            },
            key[1]: {
                **base,
                "检查结果": "发现问题已责令改正",
                "问题描述": "x",
                "后续处置": "责令改正",
                "整改期限": "2026-04-06",
                **passes,
                f"{ITEM_HEADER}03": "不符合：数据缺失",
            },
        },
    )
    with pytest.raises(ValidationFailed) as exc:
        service.import_findings(engine, path, as_of=AS_OF, now=T1)
    found = {(p.row, p.column, p.reason.split(";")[0]) for p in exc.value.problems}
    assert any(c == "检查结果" and "contradicts the 不符合 item(s) 02" in r for _, c, r in found), found
    assert any(c and c.startswith("检查项03") and "needs a problem category" in r for _, c, r in found), found
    assert all(p.file and "STHJ-01" in p.file for p in exc.value.problems)
    with engine.connect() as c:
        assert c.execute(select(Finding.id)).first() is None


def test_a_formula_cell_in_an_item_column_is_not_evaluated(tasks, tmp_path):
    """A hostile file: an item cell holding a real formula is never evaluated (only a cached value
    would be read; here there is none), so the row lacks that item and is refused."""
    engine, key, _ = tasks
    path = tmp_path / "t.xlsx"
    service.write_template(engine, path, period="2026Q1")
    wb = openpyxl.load_workbook(path)
    ws = wb["STHJ-01"]
    headers = [c.value for c in ws[2]]
    values = {"检查开始日期": "2026-03-06", "检查结束日期": "2026-03-06", "录入人": "张三"}
    values |= {"检查结果": "未发现问题", "后续处置": "无需后续处置"}
    for h, v in values.items():
        ws.cell(3, headers.index(h) + 1, v)
    for j, h in enumerate(headers, 1):
        if h and h.startswith(ITEM_HEADER):
            ws.cell(3, j, "符合")
    j = next(j for j, h in enumerate(headers, 1) if h and h.startswith(f"{ITEM_HEADER}05"))
    ws.cell(3, j).value = '=CONCATENATE("符合","：",1+1)'
    wb.save(path)
    # read with its cached value only (none: openpyxl wrote it): a blank item, so the row is refused
    with pytest.raises(ValidationFailed) as exc:
        service.import_findings(engine, path, as_of=AS_OF, now=T1)
    assert [(p.row, (p.column or "")[:5], p.reason) for p in exc.value.problems] == [
        (3, "检查项05", "no result for item(s) 05: record every item of the checklist")
    ]
    with engine.connect() as c:
        assert c.execute(select(Finding.id)).first() is None
