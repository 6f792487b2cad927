"""Results per checklist item in the public output: the results notice counts, per item, the
entities checked, failing and not concerned (its text extracted from the rendered PDF)."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader

from inspect_kit.findings.items import FAIL, NOT_APPLICABLE, PASS, ItemResult
from inspect_kit.periods import parse_period
from inspect_kit.publish import notices as nt
from inspect_kit.publish import render

CHECKLIST = [
    ("01", "排污许可证执行情况：是否持证排污"),
    ("02", "污染防治设施运行：设施是否正常运行"),
    ("03", "台账记录"),
]


def _text(pdf: bytes) -> str:
    return "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def _task(no: int, results: tuple[str, str, str] | None, recorded: bool = True) -> nt.TaskOutcome:
    items = (
        tuple(ItemResult(c, r, "R05" if r == FAIL else None) for (c, _), r in zip(CHECKLIST, results))
        if results
        else ()
    )
    return nt.TaskOutcome(
        f"T-{no:03d}",
        f"91330100MA2{no:07d}",
        f"青山县某化工有限公司{no}",
        recorded=recorded,
        inspection_start=dt.date(2026, 3, 5) if recorded else None,
        results=("发现问题已责令改正",) if results and FAIL in results else ("未发现问题",),
        problem_found=bool(results and FAIL in results),
        items=items,
    )


def test_results_notice_counts_failures_per_item():
    tasks = [
        _task(1, (PASS, FAIL, PASS)),
        _task(2, (FAIL, FAIL, NOT_APPLICABLE)),
        _task(3, (PASS, PASS, NOT_APPLICABLE)),
        _task(4, None),  # recorded without items: not counted
        _task(5, None, recorded=False),  # pending
    ]
    m = nt.MatterResults(
        "STHJ-01", "重点排污单位污染物排放情况监督检查", "青山县生态环境局", tasks, checklist=CHECKLIST
    )
    assert [(c.code, c.checked, c.failed, c.not_applicable) for c in m.item_counts()] == [
        ("01", 3, 1, 0),
        ("02", 3, 2, 0),
        ("03", 1, 0, 2),
    ]
    doc = nt.results_notice("青山县生态环境局", parse_period("2026Q1"), [m], dt.date(2026, 4, 20))
    text = _text(render(doc, None, dt.date(2026, 4, 20)))
    assert "逐项检查结果" in text
    # each row: matter, item, checked, failed, not applicable
    assert "01排污许可证执行情况310" in text and "02污染防治设施运行320" in text and "03台账记录102" in text
    # a matter without item records prints no such section
    plain = nt.MatterResults("X-01", "某事项", "某局", [_task(1, None)], checklist=CHECKLIST)
    doc = nt.results_notice("某局", parse_period("2026Q1"), [plain], dt.date(2026, 4, 20))
    assert "逐项检查结果" not in _text(render(doc, None, dt.date(2026, 4, 20)))
