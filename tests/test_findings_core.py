"""Findings core: code lists, row validation (one test per rule), deadlines and due items."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from inspect_kit.errors import ValidationFailed
from inspect_kit.findings import (
    DEFAULT_CODEBOOK,
    HEADER_KEYS,
    Codebook,
    FindingInput,
    WorkingCalendar,
    due_items,
    effective_rectification_deadline,
    key_for_header,
    parse_date,
    publicity_deadline,
    rectification_status,
    validate_row,
    validate_rows,
)

D = dt.date
CAL = WorkingCalendar()
AS_OF = D(2026, 3, 20)
CATS = DEFAULT_CODEBOOK.categories
FUS = DEFAULT_CODEBOOK.follow_ups

# ============================================================================== codes


def test_default_categories_in_domain_order() -> None:
    assert [c.code for c in CATS] == [f"R{i:02d}" for i in range(1, 11)]
    assert [c.label for c in CATS] == [
        "未发现问题",
        "未按规定公示应当公示的信息",
        "公示信息隐瞒真实情况、弄虚作假",
        "通过登记的住所（经营场所）无法联系",
        "发现问题已责令改正",
        "发现问题待后续处理",
        "未发现开展本次抽查涉及的经营活动",
        "已关闭停业或正在组织清算",
        "不配合检查情节严重",
        "违反其他部门相关规定",
    ]
    assert {c.code for c in CATS if c.problem} == {"R02", "R03", "R04", "R05", "R06", "R09", "R10"}


def test_default_follow_ups() -> None:
    assert [(f.code, f.label) for f in FUS] == [
        ("F01", "无需后续处置"),
        ("F02", "责令改正"),
        ("F03", "立案查处"),
        ("F04", "发现案件线索移送"),
        ("F05", "抄告相关部门"),
        ("F06", "其他"),
    ]
    assert [f.code for f in FUS if f.no_action] == ["F01"]
    assert DEFAULT_CODEBOOK.orders_rectification(["F02"]) and not DEFAULT_CODEBOOK.orders_rectification(["F03"])
    assert DEFAULT_CODEBOOK.opens_case(["F05", "F03"]) and not DEFAULT_CODEBOOK.opens_case(["F01"])
    assert DEFAULT_CODEBOOK.problem_found(["R08", "R02"]) and not DEFAULT_CODEBOOK.problem_found(["R01"])


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("R05", "R05"),
        ("r05", "R05"),
        ("Ｒ０５", "R05"),
        (" 责 令 改 正 ", "F02"),
        ("通过登记的住所(经营场所)无法联系", "R04"),
        ("通过登记的住所（经营场所）无法联系", "R04"),
    ],
)
def test_lookup_by_code_or_label(text: str, code: str) -> None:
    item = CATS.get(text) or FUS.get(text)
    assert item is not None and item.code == code


def test_lookup_misses() -> None:
    assert CATS.get("未发现问题了") is None
    with pytest.raises(KeyError):
        CATS["R99"]


def test_split_multi_entry_cell() -> None:
    found, unknown = CATS.split(
        "公示信息隐瞒真实情况、弄虚作假、R02；未按规定公示应当公示的信息\n通过登记的住所（经营场所）无法联系，火星;;"
    )
    assert [c.code for c in found] == ["R03", "R02", "R04"]  # re-joined label, no repeats
    assert unknown == ["火星"]
    assert CATS.split("") == ([], [])


def test_codebook_extra_categories_appended() -> None:
    book = Codebook.from_dict(
        {
            "extra_categories": [
                {"code": "X01", "label": "超标排放", "problem": True, "requires_follow_up": "f02"},
            ]
        }
    )
    assert len(book.categories) == 11 and book.categories["超标排放"].requires_follow_up == "F02"
    assert len(book.follow_ups) == 6
    by_label = Codebook.from_dict(
        {
            "extra_categories": [
                {"code": "X01", "label": "超标排放", "problem": True, "requires_follow_up": "立案查处"},
            ]
        }
    )
    assert by_label.categories["X01"].requires_follow_up == "F03"


def test_codebook_replaced_lists() -> None:
    book = Codebook.from_dict(
        {
            "categories": [
                {"code": "A", "label": "合格", "problem": False, "excludes_problems": True},
                {"code": "B", "label": "不合格", "problem": True},
            ],
            "follow_ups": [
                {"code": "N", "label": "无", "no_action": True},
                {"code": "Z", "label": "限期整改", "rectification": True},
            ],
        }
    )
    assert [c.code for c in book.categories] == ["A", "B"]
    result = validate_row(base_row(results="不合格", follow_up="限期整改"), as_of=AS_OF, codebook=book)
    assert isinstance(result, FindingInput) and result.results == ("B",) and result.follow_ups == ("Z",)


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"extra_categories": [{"code": "R01", "label": "重复", "problem": False}]}, "categories"),
        ({"extra_categories": [{"code": "X1", "label": "未发现问题", "problem": False}]}, "categories"),
        ({"extra_categories": [{"code": "X1", "label": "缺标志"}]}, "extra_categories[0].problem"),
        ({"extra_categories": [{"code": "1X", "label": "坏代码", "problem": True}]}, "extra_categories[0].code"),
        ({"extra_categories": [{"code": "X1", "label": "", "problem": True}]}, "extra_categories[0].label"),
        (
            {"extra_categories": [{"code": "X1", "label": "a", "problem": True, "colour": 1}]},
            "extra_categories[0].colour",
        ),
        (
            {"extra_categories": [{"code": "X1", "label": "a", "problem": True, "requires_follow_up": "F9"}]},
            "categories[10].requires_follow_up",
        ),
        (
            {"extra_categories": [{"code": "X1", "label": "a", "problem": True, "excludes_problems": True}]},
            "extra_categories[0]",
        ),
        ({"categories": [], "extra_categories": []}, "extra_categories"),
        ({"extra_follow_ups": [{"code": "G1", "label": "x", "no_action": True, "case": True}]}, "extra_follow_ups[0]"),
        ({"extra_follow_ups": "责令改正"}, "extra_follow_ups"),
        ({"colours": []}, "colours"),
    ],
)
def test_codebook_settings_are_validated(settings: dict[str, Any], key: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        Codebook.from_dict(settings)
    assert key in [p.key for p in err.value.problems]


# ============================================================================== validate


def base_row(**changes: Any) -> dict[str, Any]:
    """A valid row: problem found, rectification ordered, not yet re-checked."""
    row: dict[str, Any] = {
        "task_no": "rw-2026-0001",
        "inspection_start": "2026-03-05",
        "inspection_end": "2026-03-06",
        "results": "未按规定公示应当公示的信息",
        "problems": "2025年度年报未公示",
        "follow_up": "责令改正",
        "rectification_deadline": "2026-04-30",
        "recorded_by": "张三",
    }
    row.update(changes)
    return row


def problems_of(row: dict[str, Any], as_of: dt.date = AS_OF) -> list[tuple[str | None, str]]:
    result = validate_row(row, as_of=as_of, row_no=7)
    assert isinstance(result, list), f"expected problems, got {result}"
    assert all(p.row == 7 for p in result)
    return [(p.column, p.reason) for p in result]


def assert_problem(row: dict[str, Any], column: str, fragment: str, as_of: dt.date = AS_OF) -> None:
    found = problems_of(row, as_of)
    assert any(c == column and fragment in r for c, r in found), found


def accepted(row: dict[str, Any], as_of: dt.date = AS_OF) -> FindingInput:
    result = validate_row(row, as_of=as_of)
    assert isinstance(result, FindingInput), result
    return result


def test_valid_row() -> None:
    f = accepted(base_row(notes=" 电话联系 ", rectification_status="整改中"))
    assert f.task_no == "RW-2026-0001"
    assert (f.inspection_start, f.inspection_end) == (D(2026, 3, 5), D(2026, 3, 6))
    assert f.results == ("R02",) and f.follow_ups == ("F02",) and f.problem_found
    assert f.rectification_deadline == D(2026, 4, 30) and f.rectification_status == "open"
    assert f.notes == "电话联系" and f.case_no is None


def test_valid_row_without_problems() -> None:
    f = accepted(base_row(results="未发现问题", problems="", follow_up="无需后续处置", rectification_deadline=None))
    assert not f.problem_found and f.results == ("R01",) and f.rectification_deadline is None


# rule 1: required fields
@pytest.mark.parametrize("key", ["task_no", "results", "follow_up", "recorded_by"])
def test_required_fields(key: str) -> None:
    assert_problem(base_row(**{key: "  "}), key, "required")


def test_inspection_dates_required() -> None:
    assert_problem(base_row(inspection_start=None, inspection_end=None), "inspection_date", "required")
    assert_problem(base_row(inspection_end=""), "inspection_end", "required when")


def test_both_date_forms_refused() -> None:
    assert_problem(base_row(inspection_date="2026-03-05"), "inspection_date", "not both")


# rule 2: dates
@pytest.mark.parametrize(
    "value",
    [
        "2026-03-05",
        "2026/3/5",
        "2026.3.5",
        "2026年3月5日",
        "2026年3月5",
        "２０２６年３月５日",
        "2026 年 3 月 5 日",
        "20260305",
        20260305,
        46086,
        46086.0,
        "2026-03-05 00:00:00",
        D(2026, 3, 5),
        dt.datetime(2026, 3, 5, 9, 30),
    ],
)
def test_accepted_date_forms(value: object) -> None:
    assert parse_date(value) == D(2026, 3, 5)
    f = accepted(base_row(inspection_start=None, inspection_end=None, inspection_date=value))
    assert f.inspection_start == f.inspection_end == D(2026, 3, 5)


@pytest.mark.parametrize("value", ["3/5/2026", "2026-02-30", "明天", "2026-03/05", 12345, float("nan"), True])
def test_unparseable_dates(value: object) -> None:
    assert_problem(base_row(inspection_start=value), "inspection_start", "not a")


def test_inspection_date_range() -> None:
    f = accepted(base_row(inspection_start=None, inspection_end=None, inspection_date="2026年3月5日至2026-03-07"))
    assert (f.inspection_start, f.inspection_end) == (D(2026, 3, 5), D(2026, 3, 7))
    f = accepted(base_row(inspection_start=None, inspection_end=None, inspection_date="2026/3/5～2026/3/6"))
    assert f.inspection_end == D(2026, 3, 6)


def test_end_before_start() -> None:
    assert_problem(
        base_row(inspection_start="2026-03-06", inspection_end="2026-03-05"), "inspection_end", "before it starts"
    )
    assert_problem(
        base_row(inspection_start=None, inspection_end=None, inspection_date="2026-03-07至2026-03-05"),
        "inspection_date",
        "before it starts",
    )


def test_inspection_not_in_the_future() -> None:
    assert_problem(base_row(inspection_end="2026-03-21"), "inspection_end", "in the future")
    accepted(base_row(inspection_end="2026-03-20", rectification_deadline="2026-04-30"))  # as_of itself is fine


# rule 3: code lists
def test_unknown_category_and_follow_up() -> None:
    found = problems_of(base_row(results="未按规定公示应当公示的信息、合格", follow_up="罚款"))
    assert any(c == "results" and "unknown result category '合格'" in r for c, r in found)
    assert any(c == "follow_up" and "unknown follow-up '罚款'" in r for c, r in found)


# rule 4
def test_no_problem_cannot_be_combined_with_a_problem() -> None:
    assert_problem(base_row(results="未发现问题；未按规定公示应当公示的信息"), "results", "cannot be combined")


def test_other_non_problem_categories_may_accompany_a_problem() -> None:
    f = accepted(base_row(results="已关闭停业或正在组织清算、未按规定公示应当公示的信息"))
    assert f.results == ("R08", "R02") and f.problem_found


# rule 5
def test_problem_needs_description() -> None:
    assert_problem(base_row(problems=""), "problems", "description is required")


def test_problem_needs_a_real_follow_up() -> None:
    assert_problem(
        base_row(follow_up="无需后续处置", rectification_deadline=None),
        "follow_up",
        "needs a follow-up other than '无需后续处置'",
    )


def test_no_action_stands_alone() -> None:
    assert_problem(base_row(follow_up="无需后续处置、责令改正"), "follow_up", "cannot be combined")


# rule 6
def test_rectification_or_case_needs_a_problem() -> None:
    row = base_row(results="未发现开展本次抽查涉及的经营活动", problems="")
    assert_problem(row, "follow_up", "needs a result category that reports a problem")


def test_category_asserting_a_follow_up_needs_it() -> None:
    assert_problem(
        base_row(results="发现问题已责令改正", follow_up="抄告相关部门", rectification_deadline=None),
        "follow_up",
        "needs follow-up '责令改正'",
    )
    accepted(base_row(results="发现问题已责令改正"))


# rule 7
def test_rectification_needs_deadline() -> None:
    assert_problem(base_row(rectification_deadline=""), "rectification_deadline", "required")


def test_rectification_deadline_after_inspection_end() -> None:
    assert_problem(base_row(rectification_deadline="2026-03-06"), "rectification_deadline", "must be after")
    accepted(base_row(rectification_deadline="2026-03-07"))


def test_rectification_fields_without_rectification() -> None:
    row = base_row(follow_up="抄告相关部门", rectification_status="整改中")
    assert_problem(row, "rectification_deadline", "only allowed")
    assert_problem(row, "rectification_status", "only allowed")


def test_unknown_rectification_status() -> None:
    assert_problem(base_row(rectification_status="差不多"), "rectification_status", "unknown status")


# rule 8
def test_closed_rectification_needs_recheck_date() -> None:
    assert_problem(base_row(rectification_status="已整改"), "recheck_date", "closed")
    f = accepted(base_row(rectification_status="closed", recheck_date="2026-03-18", recheck_outcome="已改正"))
    assert f.rectification_status == "closed" and f.recheck_date == D(2026, 3, 18)


def test_overdue_status_only_after_the_deadline() -> None:
    row = base_row(rectification_deadline="2026-03-20", rectification_status="逾期未整改")
    assert_problem(row, "rectification_status", "cannot be overdue", as_of=D(2026, 3, 20))  # deadline day
    assert accepted(row, as_of=D(2026, 3, 21)).rectification_status == "overdue"


# rule 9
def test_recheck_date_after_end_and_not_in_future() -> None:
    assert_problem(base_row(recheck_date="2026-03-06"), "recheck_date", "must be after the inspection end")
    assert_problem(base_row(recheck_date="2026-03-21"), "recheck_date", "in the future")


def test_recheck_outcome_needs_date() -> None:
    assert_problem(base_row(recheck_outcome="已整改到位"), "recheck_date", "re-check outcome")


# rule 10
CASE_ROW = {"follow_up": "责令改正、立案查处"}


def test_case_needs_case_number() -> None:
    assert_problem(base_row(**CASE_ROW), "case_no", "required")


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("某市监立〔2026〕12号", "某市监立〔2026〕12号"),
        ("某市监立[2026]12号", "某市监立〔2026〕12号"),
        ("某市监立【２０２６】第０１２号", "某市监立〔2026〕第012号"),
        ("某 环罚 (2026) 3 号", "某环罚〔2026〕3号"),
    ],
)
def test_case_number_formats(raw: str, normalised: str) -> None:
    assert accepted(base_row(**CASE_ROW, case_no=raw)).case_no == normalised


@pytest.mark.parametrize("raw", ["12号", "某市监立2026-12", "〔2026〕12号", "某市监立〔26〕12号"])
def test_bad_case_numbers(raw: str) -> None:
    assert_problem(base_row(**CASE_ROW, case_no=raw), "case_no", "is not a case number")


def test_case_number_year_range() -> None:
    assert_problem(base_row(**CASE_ROW, case_no="某市监立〔2025〕12号"), "case_no", "between 2026 and 2026")
    assert_problem(base_row(**CASE_ROW, case_no="某市监立〔2027〕12号"), "case_no", "between")


def test_case_number_without_case() -> None:
    assert_problem(base_row(case_no="某市监立〔2026〕12号"), "case_no", "only allowed")


# rule 11 and reporting
def test_validate_rows_numbers_rows_and_refuses_duplicates() -> None:
    rows = [base_row(), base_row(task_no="RW-2026-0002"), base_row(task_no=" rw-2026-0001"), base_row(results="")]
    findings, problems = validate_rows(rows, as_of=AS_OF, columns={"task_no": "任务编号", "results": "检查结果"})
    assert [f.row for f in findings] == [2, 3]
    assert [(p.row, p.column) for p in problems] == [(4, "任务编号"), (5, "检查结果")]
    assert "row 2" in problems[0].reason


def test_all_problems_reported_at_once() -> None:
    found = problems_of({"results": "火星", "inspection_date": "明天"})
    columns = {c for c, _ in found}
    assert {"task_no", "inspection_date", "results", "follow_up", "recorded_by"} <= columns


def test_header_mapping() -> None:
    expected = {
        "任务编号": "task_no",
        "检查日期": "inspection_date",
        "检查结果": "results",
        "后续处置": "follow_up",
        "整改期限": "rectification_deadline",
        "复查日期": "recheck_date",
        "复查结果": "recheck_outcome",
        "立案号": "case_no",
        "问题描述": "problems",
        "录入人": "recorded_by",
        "备注": "notes",
        "整改状态": "rectification_status",
        "检查开始日期": "inspection_start",
        "检查结束日期": "inspection_end",
    }
    assert {h: HEADER_KEYS[h] for h in expected} == expected
    assert key_for_header(" 整改期限（YYYY-MM-DD）* ") == "rectification_deadline"
    assert key_for_header("task_no") == "task_no"
    assert key_for_header("企业名称") is None


# ============================================================================== deadlines


def finding(**changes: Any) -> FindingInput:
    """A valid finding with dates moved freely (the deadline functions do not re-validate)."""
    f = accepted(base_row())
    if "inspection_end" in changes:
        changes.setdefault("inspection_start", changes["inspection_end"])
    return replace(f, **changes)


def test_publicity_deadline_is_20_working_days_after_end() -> None:
    assert publicity_deadline(D(2025, 1, 24), CAL) == D(2025, 2, 27)  # across Spring Festival 2025
    assert publicity_deadline(D(2026, 9, 30), CAL) == D(2026, 11, 3)  # across National Day 2026
    assert publicity_deadline(D(2025, 1, 24), CAL, working_days=10) == D(2025, 2, 13)


@pytest.mark.parametrize(
    ("as_of", "status"),
    [(D(2026, 4, 29), "open"), (D(2026, 4, 30), "open"), (D(2026, 5, 1), "overdue"), (D(2026, 5, 6), "overdue")],
)
def test_rectification_status_boundary(as_of: dt.date, status: str) -> None:
    assert rectification_status(finding(rectification_deadline=D(2026, 4, 30)), as_of, CAL) == status


def test_declared_status_only_closed_counts() -> None:
    closed = finding(rectification_deadline=D(2026, 4, 30), rectification_status="closed")
    assert rectification_status(closed, D(2026, 6, 1), CAL) == "closed"
    stale = finding(rectification_deadline=D(2026, 4, 30), rectification_status="overdue")
    assert rectification_status(stale, D(2026, 4, 1), CAL) == "open"
    assert rectification_status(finding(rectification_deadline=None), D(2026, 4, 1), CAL) is None


def test_deadline_on_a_holiday_rolls_to_next_working_day() -> None:
    f = finding(rectification_deadline=D(2026, 10, 3))  # Saturday inside National Day 2026
    assert effective_rectification_deadline(f, CAL) == D(2026, 10, 8)
    assert rectification_status(f, D(2026, 10, 8), CAL) == "open"
    assert rectification_status(f, D(2026, 10, 9), CAL) == "overdue"
    assert rectification_status(f, D(2026, 10, 4), CAL, roll_to_working_day=False) == "overdue"


def test_due_items() -> None:
    end = D(2025, 1, 24)  # publicity deadline 2025-02-27 (Thursday)
    findings = [
        finding(task_no="A", inspection_end=end, rectification_deadline=D(2025, 2, 28)),
        finding(task_no="B", inspection_end=D(2025, 2, 20), rectification_deadline=None),  # due 2025-03-20
        finding(task_no="C", inspection_end=end, rectification_deadline=D(2025, 2, 10), rectification_status="closed"),
        finding(task_no="D", inspection_end=D(2025, 1, 2), rectification_deadline=D(2025, 2, 26)),
    ]
    items = due_items(findings, D(2025, 2, 27), CAL, published={"D"})
    summary = [(i.task_no, i.kind, i.deadline, i.overdue, i.working_days, i.calendar_days) for i in items]
    assert summary == [
        ("D", "rectification", D(2025, 2, 26), True, 1, 1),
        ("A", "publicity", D(2025, 2, 27), False, 0, 0),  # deadline day: still due, not overdue
        ("C", "publicity", D(2025, 2, 27), False, 0, 0),  # closed rectification is not listed
        ("A", "rectification", D(2025, 2, 28), False, 1, 1),
    ]  # B's publicity deadline is 15 working days away, beyond the default horizon of 5
    everything = due_items(findings, D(2025, 2, 27), CAL, horizon=None)
    assert ("B", "publicity") in [(i.task_no, i.kind) for i in everything]
    assert ("D", "publicity") in [(i.task_no, i.kind) for i in everything]


def test_due_items_overdue_counts_after_the_deadline() -> None:
    f = [finding(task_no="A", inspection_end=D(2025, 1, 24), rectification_deadline=None)]
    (next_day,) = due_items(f, D(2025, 2, 28), CAL)  # Friday after the Thursday deadline
    assert next_day.overdue and (next_day.working_days, next_day.calendar_days) == (1, 1)
    (weekend,) = due_items(f, D(2025, 3, 2), CAL)  # Sunday
    assert weekend.overdue and (weekend.working_days, weekend.calendar_days) == (1, 3)
    # A Thursday deadline followed by a holiday: overdue by 0 working days, 1 calendar day.
    g = [finding(task_no="G", rectification_deadline=D(2026, 4, 30))]
    (holiday,) = due_items(g, D(2026, 5, 1), CAL, published={"G"})
    assert holiday.overdue and (holiday.working_days, holiday.calendar_days) == (0, 1)


def test_due_items_configurable_publicity_days() -> None:
    f = [finding(task_no="A", inspection_end=D(2025, 1, 24), rectification_deadline=None)]
    (item,) = due_items(f, D(2025, 2, 13), CAL, publicity_days=10)
    assert item.deadline == D(2025, 2, 13) and not item.overdue
