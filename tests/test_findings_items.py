"""Results per checklist item: every rule attacked (unknown, twice, missing items; 不符合 without a
problem category, with a non-problem one, with one the finding does not hold; a category on a
符合 item; 未发现问题 beside a 不符合 item), the summary per item, and a 现场检查记录表 filled from
item results."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from inspect_kit.findings.codes import Codebook
from inspect_kit.findings.items import ItemResult, check_item_results, item_summary, parse_item_result
from inspect_kit.paper.papers import Item, Person, TaskPaper, site_record
from inspect_kit.publish import render

CODES = ["01", "02", "03"]
BOOK = Codebook.default()


def reasons(items, results=("R06",)):
    return [p.reason for p in check_item_results(CODES, items, list(results), BOOK, "f.xlsx")]


def ok_items(**over):
    items = {
        "01": ItemResult("01", "符合"),
        "02": ItemResult("02", "不符合", "R06", "台账缺失"),
        "03": ItemResult("03", "不涉及"),
    }
    items.update(over)
    return list(items.values())


def test_a_complete_consistent_record_passes_and_none_is_allowed():
    assert reasons(ok_items()) == []
    assert reasons([], results=("R01",)) == []
    assert reasons([ItemResult(c, "符合") for c in CODES], results=("R01",)) == []


@pytest.mark.parametrize(
    "items, results, words",
    [
        (ok_items(**{"02": ItemResult("02", "不符合")}), ("R06",), "needs a problem category"),
        (ok_items(**{"02": ItemResult("02", "不符合", "R05")}), ("R06",), "not among the finding's results"),
        (ok_items(**{"02": ItemResult("02", "不符合", "R01")}), ("R01",), "not a problem category"),
        (ok_items(**{"01": ItemResult("01", "符合", "R06")}), ("R06",), "carries no problem category"),
        (ok_items(), ("R01", "R06"), "contradicts the 不符合 item(s) 02"),
        (ok_items()[:2], ("R06",), "no result for item(s) 03"),
        (ok_items() + [ItemResult("09", "符合")], ("R06",), "no item '09'"),
        (ok_items() + [ItemResult("01", "符合")], ("R06",), "recorded twice"),
        (ok_items(**{"01": ItemResult("01", "good")}), ("R06",), "is not an item result"),
    ],
)
def test_each_rule_refuses(items, results, words):
    found = reasons(items, results)
    assert any(words in r for r in found), found


def test_parse_and_summary():
    parsed = [parse_item_result(t) for t in ("符合", " 不 符合", "N/A", "不合格")]
    assert parsed == ["符合", "不符合", "不涉及", "不符合"]
    with pytest.raises(ValueError, match="符合 / 不符合 / 不涉及"):
        parse_item_result("也许")
    a = {i.code: i for i in ok_items()}
    b = {c: ItemResult(c, "不符合", "R06") for c in CODES}
    summary = item_summary(CODES, [a, b, {}])
    assert [(s.code, s.checked, s.failed, s.not_applicable) for s in summary] == [
        ("01", 2, 1, 0),
        ("02", 2, 2, 0),
        ("03", 1, 1, 1),
    ]


def test_the_record_is_filled_from_item_results():
    t = TaskPaper(
        "T-1",
        "2026Q1",
        "某局",
        "某局",
        "M",
        "某事项",
        "某法第一条",
        "现场检查",
        "某公司",
        "913601990000000000",
        (Person("甲", "C1", "某局"), Person("乙", "C2", "某局")),
        checklist=(Item("01", "第一项"), Item("02", "第二项")),
        item_results=(ItemResult("01", "符合"), ItemResult("02", "不符合", "R06", "台账缺失三个月")),
    )
    text = "".join(PdfReader(io.BytesIO(render(site_record(t, dt.date(2026, 1, 8))))).pages[0].extract_text().split())
    assert "■符合□不符合□不涉及" in text and "□符合■不符合□不涉及" in text and "台账缺失三个月" in text
