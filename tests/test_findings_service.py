"""Findings in the database: revisions, import (problems by file/row/column, atomicity, idempotence,
conflicts), the template round trip, deadlines through the service, and the demo step.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, insert, select, text

from inspect_kit.errors import InspectError, ValidationFailed
from inspect_kit.findings import service
from inspect_kit.findings.calendar import WorkingCalendar, add_working_days
from inspect_kit.findings.codes import DEFAULT_CODEBOOK, Codebook
from inspect_kit.findings.template import COLUMNS, LISTS_SHEET
from inspect_kit.storage.models import Entity, Finding, FindingRevision, Notice
from tests.conftest import REGISTRIES, write_csv
from tests.factories import make_draw

D = dt.date
AS_OF = D(2026, 6, 30)
T1 = dt.datetime(2026, 4, 1, 9, 0)
T2 = dt.datetime(2026, 4, 20, 15, 0)
POLICY = service.FindingsPolicy()
HEADER = [c.header for c in COLUMNS if not c.reference or c.key == "task_no"]  # result columns + 任务编号


@pytest.fixture
def tasks(configured, import_options):
    """Two quarterly matters drawn for 2026Q1 from the demo's 生态环境 registry."""
    from inspect_kit.registry.importer import import_registry

    import_registry(configured, "entities", REGISTRIES / "entities_sthj.csv", import_options())
    with configured.connect() as c:
        key = [
            r[0]
            for r in c.execute(
                select(Entity.identifier).where(Entity.category == "重点排污单位").order_by(Entity.identifier).limit(4)
            )
        ]
        general = [
            r[0]
            for r in c.execute(
                select(Entity.identifier).where(Entity.category == "一般排污单位").order_by(Entity.identifier).limit(3)
            )
        ]
    return (
        configured,
        make_draw(configured, "STHJ-01", "2026Q1", key),
        make_draw(configured, "STHJ-02", "2026Q1", general),
    )


def clean(task_no: str, **over) -> dict:
    row = {
        "task_no": task_no,
        "inspection_date": "2026-03-05",
        "results": "未发现问题",
        "follow_up": "无需后续处置",
        "recorded_by": "张三",
    }
    row.update(over)
    return row


def ordered(task_no: str, **over) -> dict:
    values = {
        "inspection_date": "2026-03-06",
        "results": "R05",
        "problems": "废气处理设施未正常运行",
        "follow_up": "F02",
        "rectification_deadline": "2026-04-06",
    }
    return clean(task_no, **{**values, **over})


def counts(engine) -> tuple[int, int]:
    with engine.connect() as c:
        return (
            c.execute(select(func.count()).select_from(Finding)).scalar_one(),
            c.execute(select(func.count()).select_from(FindingRevision)).scalar_one(),
        )


def snapshot(engine) -> tuple:
    with engine.connect() as c:
        return tuple(
            sorted(tuple(str(v) for v in r) for r in c.execute(select(t)))
            for t in (Finding.__table__, FindingRevision.__table__)
        )


def xlsx(path: Path, rows: list[dict], sheet: str = "STHJ-01") -> Path:
    """A findings sheet as people make them: a title row, then Chinese headers."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    keys = {c.header: c.key for c in COLUMNS}
    ws.append(["2026年第一季度检查结果"])
    headers = [
        "任务编号",
        "单位名称",
        "检查日期",
        "检查结果",
        "问题描述",
        "后续处置",
        "整改期限",
        "整改状态",
        "复查日期",
        "复查结果",
        "立案号",
        "录入人",
        "备注",
    ]
    ws.append(headers)
    for r in rows:
        ws.append([r.get(keys.get(h, "inspection_date" if h == "检查日期" else h)) for h in headers])
    wb.save(path)
    return path


def add(engine, values: dict, now=T1, **kw):
    values = dict(values)
    return service.add_finding(
        engine, values.pop("task_no"), values, as_of=kw.pop("as_of", AS_OF), now=now, policy=POLICY, **kw
    )


# -- revisions ---------------------------------------------------------------------------------


def test_revisions_keep_old_and_new_values_who_and_when(tasks):
    engine, q1, _ = tasks
    out = add(engine, ordered(q1[0]))
    assert out.action == "added"
    out = add(
        engine,
        {"task_no": q1[0], "recheck_date": "2026-04-03", "rectification_status": "已整改", "recheck_outcome": "已修复"},
        now=T2,
        by="李四",
    )
    assert out.action == "updated"
    assert add(engine, {"task_no": q1[0], "recheck_date": "2026/4/3"}, now=T2).action == "unchanged"
    first, second = service.finding_history(engine, q1[0])
    assert (first.at, first.by, first.source) == (T1, "张三", "cli")
    assert first.changes["results"] == [None, ["R05"]]
    assert first.changes["rectification_deadline"] == [None, "2026-04-06"]
    assert "notes" not in first.changes  # empty fields are not "changed"
    assert (second.at, second.by) == (T2, "李四")
    assert second.changes == {
        "rectification_status": [None, "closed"],
        "recheck_date": [None, "2026-04-03"],
        "recheck_outcome": [None, "已修复"],
    }
    # a field changed back and forth: old and new values in order
    add(engine, {"task_no": q1[0], "notes": "企业已提交整改报告"}, now=T2, by="李四")
    add(engine, {"task_no": q1[0], "notes": ""}, now=T2, by="李四")
    *_, set_note, cleared = service.finding_history(engine, q1[0])
    assert set_note.changes == {"notes": [None, "企业已提交整改报告"]}
    assert cleared.changes == {"notes": ["企业已提交整改报告", None]}
    assert counts(engine) == (1, 4)


def test_revisions_are_append_only_in_the_database(tasks):
    engine, q1, _ = tasks
    add(engine, clean(q1[0]))
    for stmt in ("UPDATE finding_revisions SET by = 'x'", "DELETE FROM finding_revisions"):
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as c:
                c.execute(text(stmt))
    assert counts(engine) == (1, 1)


def test_add_merges_into_the_stored_finding_or_refuses(tasks):
    engine, q1, _ = tasks
    with pytest.raises(ValidationFailed) as exc:
        add(engine, clean(q1[0], results="R05", follow_up="F02"), columns={"rectification_deadline": "--deadline"})
    where = {(p.column, p.reason.split(" ")[0]) for p in exc.value.problems}
    assert ("--deadline", "is") in where and ("问题描述", "a") in where
    with pytest.raises(InspectError, match="no task NOPE"):
        service.finding_row(engine, "nope")
    assert counts(engine) == (0, 0)
    # only the fields given change; a single date replaces the stored start and end
    add(engine, clean(q1[0], inspection_date="2026-03-05至2026-03-06"))
    add(engine, {"task_no": q1[0], "inspection_date": "2026-03-09"})
    _, f = service.get_finding(engine, q1[0], as_of=AS_OF, policy=POLICY)
    assert (f.inspection_start, f.inspection_end, f.recorded_by) == (D(2026, 3, 9), D(2026, 3, 9), "张三")


# -- import: problems, atomicity, idempotence ---------------------------------------------------


def test_import_reports_file_row_column_and_reason(tasks, tmp_path):
    engine, q1, q1b = tasks
    superseded = q1b[0]
    make_draw(engine, "STHJ-02", "2026Q1", [], now=dt.datetime(2026, 1, 6))  # a re-draw supersedes q1b
    path = xlsx(
        tmp_path / "r.xlsx",
        [
            clean(q1[0]),  # row 3: fine
            clean(q1[1], results="火星"),  # row 4: unknown category
            ordered(q1[2], rectification_deadline=None),  # row 5: deadline missing
            clean(q1[3], inspection_date="2026-07-01"),  # row 6: in the future
            clean("STHJ-01-2026Q1-D9-999"),  # row 7: no such task
            clean(superseded),  # row 8: superseded draw
            clean(q1[0], notes="again"),  # row 9: same task twice
        ],
    )
    with pytest.raises(ValidationFailed) as exc:
        service.import_findings(engine, path, as_of=AS_OF, now=T1)
    got = {(p.row, p.column): p for p in exc.value.problems}
    assert all(p.file == f"{path}, sheet 'STHJ-01'" for p in exc.value.problems)
    assert "unknown result category '火星'" in got[4, "检查结果"].reason
    assert "required when rectification" in got[5, "整改期限"].reason
    assert "in the future" in got[6, "检查日期"].reason
    assert "no task STHJ-01-2026Q1-D9-999" in got[7, "任务编号"].reason
    assert "superseded by draw" in got[8, "任务编号"].reason
    assert "already has a finding in row 3" in got[9, "任务编号"].reason
    assert (3, "任务编号") not in got
    assert "row 4, column '检查结果'" in str(exc.value)
    assert counts(engine) == (0, 0)


def test_inspection_before_the_draw_and_header_problems(tasks, tmp_path):
    engine, q1, _ = tasks  # drawn on 2026-01-05
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["任务编号", "检查开始日期", "检查结束日期", "检查结果", "后续处置", "录入人"],
            [q1[0], "2026-01-02", "2026-01-06", "R01", "F01", "张三"],
        ],
    )
    with pytest.raises(ValidationFailed) as exc:
        service.import_findings(engine, path, as_of=AS_OF, now=T1)
    (p,) = exc.value.problems
    assert (p.file, p.row, p.column) == (str(path), 2, "检查开始日期") and "before the task was drawn" in p.reason
    no_task = write_csv(tmp_path / "a.csv", [["单位", "检查日期", "检查结果"], ["x", "2026-03-01", "R01"]])
    with pytest.raises(ValidationFailed, match="no 任务编号 column"):
        service.import_findings(engine, no_task, as_of=AS_OF, now=T1)
    twice = write_csv(tmp_path / "b.csv", [["任务编号", "检查结果", "抽查结果"], [q1[0], "R01", "R01"]])
    with pytest.raises(ValidationFailed, match="both give results"):
        service.import_findings(engine, twice, as_of=AS_OF, now=T1)
    assert counts(engine) == (0, 0)


def test_one_bad_row_anywhere_leaves_the_database_unchanged(tasks, tmp_path):
    engine, q1, q1b = tasks
    add(engine, clean(q1[0]))
    before = snapshot(engine)
    good = [clean(q1[0], notes="changed"), ordered(q1[1]), clean(q1[2]), clean(q1[3])]
    bad_last = xlsx(tmp_path / "a.xlsx", good + [clean(q1b[0], follow_up="F03")])  # 立案查处 without a problem
    with pytest.raises(ValidationFailed):
        service.import_findings(engine, bad_last, as_of=AS_OF, now=T2)
    assert snapshot(engine) == before
    # the bad row on another sheet than the good ones
    wb = openpyxl.load_workbook(xlsx(tmp_path / "b.xlsx", good))
    ws = wb.create_sheet("STHJ-02")
    ws.append(["任务编号", "检查日期", "检查结果", "后续处置", "录入人"])
    ws.append([q1b[0], "2026-13-01", "R01", "F01", "张三"])
    wb.save(tmp_path / "b.xlsx")
    with pytest.raises(ValidationFailed) as exc:
        service.import_findings(engine, tmp_path / "b.xlsx", as_of=AS_OF, now=T2)
    (p,) = exc.value.problems
    assert (p.file, p.row, p.column) == (f"{tmp_path / 'b.xlsx'}, sheet 'STHJ-02'", 2, "检查日期")
    assert snapshot(engine) == before
    # dry run: checked, nothing written
    s = service.import_findings(engine, xlsx(tmp_path / "c.xlsx", good), as_of=AS_OF, now=T2, dry_run=True)
    assert (s.added, s.updated, s.dry_run) == (3, 1, True) and snapshot(engine) == before


def test_importing_the_same_file_twice_changes_nothing(tasks, tmp_path):
    engine, q1, _ = tasks
    rows = [
        clean(q1[0], results="未发现问题;", notes=" 现场  正常 "),
        ordered(q1[1], rectification_status="整改中"),
        clean(q1[2], results="R07", inspection_date=dt.datetime(2026, 3, 5, 0, 0)),
        ordered(q1[3], results="R05、R02", follow_up="责令改正，立案查处", case_no="青山环立[2026]第3号"),
    ]
    path = xlsx(tmp_path / "r.xlsx", rows)
    first = service.import_findings(engine, path, as_of=AS_OF, now=T1)
    assert (first.rows, first.added, first.revisions) == (4, 4, 4)
    before = snapshot(engine)
    again = service.import_findings(engine, path, as_of=AS_OF, now=T2)
    assert (again.added, again.updated, again.unchanged, again.revisions) == (0, 0, 4, 0)
    assert snapshot(engine) == before
    _, f = service.get_finding(engine, q1[3], as_of=AS_OF, policy=POLICY)
    assert f.results == ("R02", "R05") and f.follow_ups == ("F02", "F03")  # code-list order
    assert f.case_no == "青山环立〔2026〕第3号"


def test_a_file_with_some_columns_updates_only_those(tasks, tmp_path):
    engine, q1, _ = tasks
    add(engine, ordered(q1[1], notes="n"))
    path = write_csv(
        tmp_path / "recheck.csv",
        [
            ["任务编号", "复查日期", "整改状态", "复查结果", "单位名称"],
            [q1[1], "2026-04-02", "已整改", "已整改到位", "某公司"],
        ],
    )
    s = service.import_findings(engine, path, as_of=AS_OF, now=T2, by="复查组")
    assert (s.updated, s.ignored_columns) == (1, [])  # 单位名称 is a known reference column
    last = service.finding_history(engine, q1[1])[-1]
    assert last.by == "复查组" and last.source == "recheck.csv"
    assert set(last.changes) == {"recheck_date", "rectification_status", "recheck_outcome"}
    _, f = service.get_finding(engine, q1[1], as_of=AS_OF, policy=POLICY)
    assert (f.notes, f.status, f.recheck_on_time) == ("n", "closed", True)


# -- template round trip -------------------------------------------------------------------------


def test_template_fill_import_round_trip(tasks, tmp_path):
    engine, q1, q1b = tasks
    add(engine, ordered(q1[1]))  # prefilled in the template
    path = tmp_path / "t.xlsx"
    summary = service.write_template(engine, path, period="2026q1", policy=POLICY)
    assert summary.sheets == [("STHJ-01", 4, 1), ("STHJ-02", 3, 0)]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["STHJ-01", "STHJ-02", LISTS_SHEET]
    assert wb[LISTS_SHEET].sheet_state == "hidden"
    assert wb[LISTS_SHEET]["A2"].value == "未发现问题" and wb[LISTS_SHEET]["B3"].value == "责令改正"
    assert set(wb.defined_names) >= {"ResultCategories", "FollowUps", "RectificationStatuses"}
    ws = wb["STHJ-01"]
    col = {c.value: c.column for c in ws[2]}
    assert [ws.cell(r, 1).value for r in range(3, 7)] == q1
    lists = {dv.formula1: str(dv.sqref) for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert (
        lists["ResultCategories"] == f"{openpyxl.utils.get_column_letter(col['检查结果'])}3:"
        f"{openpyxl.utils.get_column_letter(col['检查结果'])}6"
    )
    assert "FollowUps" in lists
    assert ws.cell(3, col["检查开始日期"]).number_format == "yyyy-mm-dd"
    prefilled = 4  # q1[1] is on row 4
    assert ws.cell(prefilled, col["检查结果"]).value == "发现问题已责令改正"
    assert ws.cell(prefilled, col["整改期限"]).value.date() == D(2026, 4, 6)
    # an inspector fills in two more rows (dates as Excel dates, several categories in one cell)
    for r, values in (
        (
            3,
            {
                "检查开始日期": dt.datetime(2026, 3, 10),
                "检查结束日期": dt.datetime(2026, 3, 11),
                "检查结果": "未按规定公示应当公示的信息；发现问题已责令改正",
                "问题描述": "未公开监测数据",
                "后续处置": "责令改正",
                "整改期限": dt.datetime(2026, 4, 10),
                "录入人": "王五",
            },
        ),
        (prefilled, {"整改状态": "已整改", "复查日期": dt.datetime(2026, 4, 3), "复查结果": "合格"}),
    ):
        for header, value in values.items():
            ws.cell(r, col[header], value)
    ws2 = wb["STHJ-02"]
    for header, value in {
        "检查开始日期": D(2026, 3, 2),
        "检查结束日期": D(2026, 3, 2),
        "检查结果": "未发现问题",
        "后续处置": "无需后续处置",
        "录入人": "赵六",
    }.items():
        ws2.cell(3, col[header], value)
    wb.save(path)
    s = service.import_findings(engine, path, as_of=AS_OF, now=T2)
    assert (s.sheets, s.added, s.updated, s.blank_rows, s.ignored_columns) == (["STHJ-01", "STHJ-02"], 2, 1, 4, [])
    assert set(service.finding_history(engine, q1[1])[-1].changes) == {
        "rectification_status",
        "recheck_date",
        "recheck_outcome",
    }
    # written again: everything prefilled, and importing it changes nothing
    before = snapshot(engine)
    again = tmp_path / "t2.xlsx"
    assert service.write_template(engine, again, period="2026Q1", policy=POLICY).prefilled == 3
    s = service.import_findings(engine, again, as_of=AS_OF, now=T2)
    assert (s.rows, s.unchanged, s.revisions) == (3, 3, 0) and snapshot(engine) == before
    # the CSV form round-trips as well
    csv_path = tmp_path / "t.csv"
    service.write_template(engine, csv_path, period="2026Q1", matter="STHJ-01", policy=POLICY)
    s = service.import_findings(engine, csv_path, as_of=AS_OF, now=T2)
    assert (s.rows, s.unchanged, s.blank_rows) == (2, 2, 2) and snapshot(engine) == before
    with pytest.raises(InspectError, match="no drawn tasks"):
        service.write_template(engine, tmp_path / "t.xlsx", period="2026Q2", policy=POLICY)


def test_old_template_never_reverts_a_later_change(tasks, tmp_path):
    engine, q1, _ = tasks
    add(engine, ordered(q1[1]))
    add(engine, clean(q1[0]))
    path = tmp_path / "t.xlsx"
    service.write_template(engine, path, period="2026Q1", matter="STHJ-01", policy=POLICY)
    add(engine, {"task_no": q1[1], "recheck_date": "2026-04-03", "rectification_status": "closed"}, now=T2)
    wb = openpyxl.load_workbook(path)
    ws = wb["STHJ-01"]
    col = {c.value: c.column for c in ws[2]}
    ws.cell(3, col["备注"], "补充说明")  # q1[0]: unchanged since the file was written — accepted
    wb.save(path)
    with pytest.raises(ValidationFailed) as exc:  # q1[1]'s row would clear the re-check
        service.import_findings(engine, path, as_of=AS_OF, now=T2)
    (p,) = exc.value.problems
    assert (p.row, p.column) == (4, "版本号") and "changed after this file was written" in p.reason
    ws.cell(4, col["整改状态"], "已整改")
    ws.cell(4, col["复查日期"], D(2026, 4, 3))
    wb.save(path)
    s = service.import_findings(engine, path, as_of=AS_OF, now=T2)  # same values as stored: no conflict
    assert (s.updated, s.unchanged) == (1, 1)


# -- reading and deadlines -----------------------------------------------------------------------


def test_due_and_overdue_at_the_boundary_days(tasks):
    engine, q1, _ = tasks
    end = D(2026, 3, 6)
    add(engine, ordered(q1[0], inspection_date=end.isoformat(), rectification_deadline="2026-04-30"))
    publicity = add_working_days(end, 20)
    assert publicity == D(2026, 4, 3)

    def items(as_of, **kw):
        return [
            (i.task_no, i.kind, i.deadline, i.overdue, i.working_days)
            for i in service.due(engine, as_of=as_of, policy=POLICY, **kw).items
        ]

    assert items(D(2026, 3, 26)) == []  # 6 working days left: beyond the default horizon of 5
    assert items(D(2026, 3, 27)) == [(q1[0], "publicity", publicity, False, 5)]
    assert items(D(2026, 3, 26), horizon=None) == [
        (q1[0], "publicity", publicity, False, 6),
        (q1[0], "rectification", D(2026, 4, 30), False, 24),
    ]
    assert items(publicity) == [(q1[0], "publicity", publicity, False, 0)]  # the deadline day: still due
    assert items(publicity + dt.timedelta(days=1)) == [(q1[0], "publicity", publicity, True, 0)]  # Saturday
    assert items(D(2026, 4, 30))[-1] == (q1[0], "rectification", D(2026, 4, 30), False, 0)
    assert items(D(2026, 5, 1))[-1] == (q1[0], "rectification", D(2026, 4, 30), True, 0)  # Labour Day
    # a notice issued with the task pending does not publish it; one listing it does
    with engine.begin() as c:
        tid = c.execute(select(Finding.task_id)).scalar_one()
        for issued, pending in ((D(2026, 3, 20), [tid]), (D(2026, 4, 7), [])):
            c.execute(
                insert(Notice.__table__).values(
                    kind="results",
                    period="2026Q1",
                    matter_codes=["STHJ-01"],
                    task_ids=[tid],
                    pending_task_ids=pending,
                    path="n.pdf",
                    file_sha256="0" * 64,
                    pages=1,
                    issued_on=issued,
                    created_at=T2,
                )
            )
    assert [i[1] for i in items(D(2026, 5, 6))] == ["rectification"]
    _, f = service.get_finding(engine, q1[0], as_of=D(2026, 5, 6), policy=POLICY)
    assert (f.published_on, f.published_on_time, f.status, f.recheck_on_time) == (
        D(2026, 4, 7),
        False,
        "overdue",
        False,
    )
    add(engine, {"task_no": q1[0], "recheck_date": "2026-04-29", "rectification_status": "已整改"}, now=T2)
    assert items(D(2026, 5, 6)) == []
    # a deadline the holiday calendar cannot count yet: a warning, not a wrong date
    year_end = D(2026, 12, 31)
    add(engine, ordered(q1[1], inspection_date="2026-12-18", rectification_deadline="2027-01-20"), as_of=year_end)
    _, f = service.get_finding(engine, q1[1], as_of=year_end, policy=POLICY)
    assert f.publicity_deadline is None and "outside it" in f.warning
    report = service.due(engine, as_of=year_end, policy=POLICY)
    assert report.items == [] and report.warnings[0].startswith(q1[1])


def test_list_filters_and_task_results(tasks):
    engine, q1, q1b = tasks
    add(engine, ordered(q1[0], rectification_deadline="2026-07-15"))  # open on 30 June
    add(engine, ordered(q1[1]))  # overdue
    add(engine, ordered(q1[2], recheck_date="2026-04-01", rectification_status="closed"))  # closed
    add(engine, clean(q1b[0]))
    assert {
        f.task_no: f.status for f in service.list_findings(engine, as_of=AS_OF, policy=POLICY, period="2026Q1")
    } == {q1[0]: "open", q1[1]: "overdue", q1[2]: "closed", q1b[0]: None}
    assert [f.task_no for f in service.list_findings(engine, as_of=AS_OF, status="overdue")] == [q1[1]]
    assert [f.task_no for f in service.list_findings(engine, as_of=AS_OF, matter="STHJ-02")] == [q1b[0]]
    assert service.list_findings(engine, as_of=AS_OF, year=2025) == []
    results = service.task_results(engine, as_of=AS_OF, policy=POLICY, year=2026)
    assert len(results) == 7 and sum(r.finding is None for r in results) == 3
    f = next(r.finding for r in results if r.task.task_no == q1[0])
    assert (f.problem_found, f.rectification_ordered, f.case_opened) == (True, True, False)
    assert f.result_labels == ("发现问题已责令改正",) and f.to_dict()["results"] == ["R05"]


def test_policy_from_settings(config):
    from dataclasses import replace

    settings = config.settings.model_copy(
        update={
            "findings": config.settings.findings.model_copy(
                update={"publicity_working_days": 10, "extra_holidays": ["2026-03-09"]}
            )
        }
    )
    policy = service.policy_from_config(
        replace(config, settings=settings), codes={"extra_follow_ups": [{"code": "F07", "label": "约谈"}]}
    )
    assert policy.publicity_days == 10
    assert policy.calendar.add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 10)
    assert policy.codebook.follow_ups.get("约谈").code == "F07"
    default = service.policy_from_config(config)
    assert default.codebook is DEFAULT_CODEBOOK and default.publicity_days == 20


def test_custom_codes_flow_through_import(tasks, tmp_path):
    engine, q1, _ = tasks
    policy = service.FindingsPolicy(
        codebook=Codebook.from_dict({"extra_follow_ups": [{"code": "F07", "label": "约谈"}]}),
        calendar=WorkingCalendar(),
    )
    path = write_csv(
        tmp_path / "r.csv",
        [
            HEADER[:1] + ["检查日期", "检查结果", "问题描述", "后续处置", "录入人"],
            [q1[0], "2026-03-05", "R02", "未公示年报", "约谈", "张三"],
        ],
    )
    service.import_findings(engine, path, as_of=AS_OF, now=T1, policy=policy)
    _, f = service.get_finding(engine, q1[0], as_of=AS_OF, policy=policy)
    assert f.follow_ups == ("F07",) and f.follow_up_labels == ("约谈",)


# -- the demo step ---------------------------------------------------------------------------------


def test_demo_step_records_a_realistic_mix(tasks, config, tmp_path, import_options):
    from inspect_kit.demo import DEMO_TODAY, DemoContext
    from inspect_kit.findings import demo
    from inspect_kit.registry.importer import import_registry

    engine, q1, _ = tasks
    import_registry(engine, "entities", REGISTRIES / "entities_jyty.xlsx", import_options())
    with engine.connect() as c:
        schools = [
            r[0]
            for r in c.execute(
                select(Entity.identifier).where(Entity.category == "校外培训机构").order_by(Entity.identifier).limit(12)
            )
        ]
    make_draw(engine, "JYTY-01", "2026", schools, now=dt.datetime(2026, 2, 2, 10, 0))
    lines: list[str] = []
    tables: list = []
    ctx = DemoContext(
        engine,
        config,
        REGISTRIES,
        tmp_path,
        echo=lines.append,
        table=lambda title, cols, rows: tables.append((cols, list(rows))),
    )
    demo.run(ctx)
    assert (tmp_path / "findings-2026Q1.xlsx").exists() and (tmp_path / "findings-2026.xlsx").exists()
    assert any("imported again: 0 changed, 0 new revisions" in line for line in lines)
    records = service.list_findings(engine, as_of=DEMO_TODAY, policy=POLICY)
    assert {f.period for f in records} == {"2026Q1", "2026"}
    assert len([f for f in records if f.period == "2026Q1"]) == 7  # every Q1 task
    assert 0 < len([f for f in records if f.period == "2026"]) < 12  # some yearly tasks not inspected yet
    assert {f.status for f in records} <= {None, "open", "closed", "overdue"}
    assert any(f.problem_found for f in records) and any(not f.problem_found for f in records)
    ((cols, rows),) = tables
    assert cols[:4] == ["matter", "period", "tasks", "recorded"] and len(rows) == 3
