"""The results notice (抽查结果公示): a summary per matter, then each task's result. Pure;
re-exported by inspect_kit.publish.notices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from inspect_kit.findings.estimates import Estimate, percent, stratified
from inspect_kit.findings.items import ItemCount, ItemResult, item_summary
from inspect_kit.periods import Period
from inspect_kit.publish import texts
from inspect_kit.publish.document import NoticeDocument, Section, Table, heading_number
from inspect_kit.publish.notices import (
    DASH,
    PENDING,
    _id_label,
    _title,
    log_head_paragraph,
    period_text,
    public_entity_name,
    scrub,
)

# -- the results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskOutcome:
    """One task of a results notice; ``recorded=False`` means no finding yet (待录入).

    ``results`` and ``follow_ups`` are labels (the codebook's Chinese); ``problems`` is the raw
    description (scrubbed when printed); ``rectified`` is as of the issue date.
    """

    task_no: str
    identifier: str
    name: str
    recorded: bool
    category: str | None = None
    inspection_start: dt.date | None = None
    inspection_end: dt.date | None = None
    results: Sequence[str] = ()
    problems: str | None = None
    follow_ups: Sequence[str] = ()
    problem_found: bool = False
    rectification_ordered: bool = False
    rectification_deadline: dt.date | None = None
    rectified: bool = False
    stratum: str | None = None  # the draw's stratum (for the estimate of the whole frame)
    items: Sequence[ItemResult] = ()  # results per checklist item (inspect_kit.findings.items)


@dataclass(frozen=True)
class MatterResults:
    matter_code: str
    matter_name: str
    authority: str  # 检查实施机关
    tasks: Sequence[TaskOutcome]
    frame_sizes: Mapping[str, int] = field(default_factory=dict)  # stratum → N of the draw's frame
    checklist: Sequence[tuple[str, str]] = ()  # (item code, content) of the matter's checklist

    def item_counts(self) -> list[ItemCount]:
        """Per checklist item: entities checked, failed, not applicable (recorded tasks with items)."""
        codes = [c for c, _ in self.checklist]
        return item_summary(codes, ({i.code: i for i in t.items} for t in self.tasks if t.recorded and t.items))

    def estimate(self) -> Estimate | None:
        """What the sample says about the whole frame (inspect_kit.findings.estimates), or None
        when the frame's strata are unknown or nothing was inspected."""
        if not self.frame_sizes or not self.inspected:
            return None
        strata = []
        for label, N in sorted(self.frame_sizes.items()):
            mine = [t for t in self.tasks if t.stratum == label and t.recorded]
            strata.append((label, N, len(mine), sum(t.problem_found for t in mine)))
        return stratified(strata)

    @property
    def inspected(self) -> int:
        return sum(t.recorded for t in self.tasks)

    @property
    def problems(self) -> int:
        return sum(t.recorded and t.problem_found for t in self.tasks)

    @property
    def rectified(self) -> int:
        return sum(t.recorded and t.rectified for t in self.tasks)

    @property
    def pending(self) -> list[str]:
        return [t.task_no for t in self.tasks if not t.recorded]


def _inspection_days(t: TaskOutcome) -> str:
    if t.inspection_start is None:
        return DASH
    if t.inspection_end is None or t.inspection_end == t.inspection_start:
        return t.inspection_start.isoformat()
    return f"{t.inspection_start.isoformat()}至\n{t.inspection_end.isoformat()}"


def _result_cell(t: TaskOutcome) -> str:
    if not t.recorded:
        return PENDING
    text = "；".join(t.results) or DASH
    problems = scrub(t.problems).strip()
    return f"{text}\n问题：{problems}" if problems else text


def _follow_up_cell(t: TaskOutcome) -> str:
    if not t.recorded:
        return DASH
    text = "；".join(t.follow_ups) or DASH
    if t.rectification_ordered:
        if t.rectified:
            text += "（已整改）"
        elif t.rectification_deadline is not None:
            text += f"（整改期限{t.rectification_deadline.isoformat()}）"
    return text


def results_notice(
    issuer: str,
    period: Period,
    matters: Sequence[MatterResults],
    issue_date: dt.date,
    *,
    id_scheme: str = "uscc",
    doc_number: str | None = None,
    log_head: str | None = None,
) -> NoticeDocument:
    """The results notice of ``period`` for one issuer; tasks without a finding print as 待录入."""
    when = period_text(period)
    id_label = _id_label(id_scheme)
    drawn = sum(len(m.tasks) for m in matters)
    inspected = sum(m.inspected for m in matters)
    problems = sum(m.problems for m in matters)
    rectified = sum(m.rectified for m in matters)
    pending = [no for m in matters for no in m.pending]
    summary = (
        f"{when}，{issuer}共对{len(matters)}个抽查事项随机抽取检查对象{drawn}家，已完成检查并录入结果{inspected}家，"
        f"其中发现问题{problems}家，截至发布之日已整改{rectified}家"
    )
    summary += f"；另有{len(pending)}家检查结果待录入，录入后另行公示。" if pending else "。"
    rows = [
        [
            m.matter_name,
            m.authority,
            str(len(m.tasks)),
            str(m.inspected),
            str(m.problems),
            str(m.rectified),
            str(len(m.pending)),
        ]
        for m in matters
    ]
    if len(matters) > 1:
        rows.append(["合计", "", str(drawn), str(inspected), str(problems), str(rectified), str(len(pending))])
    sections = [
        Section(
            f"{heading_number(1)}抽查结果汇总",
            [summary],
            Table(
                ["抽查事项", "检查实施机关", "抽取", "已检查", "发现问题", "已整改", PENDING],
                rows,
                align=["left", "left", "right", "right", "right", "right", "right"],
            ),
            notes=[texts.RESULTS_NOTE],
        ),
        Section(f"{heading_number(2)}检查结果明细"),
    ]
    for k, m in enumerate(matters, 1):
        # 检查实施机关 and 抽查事项 are the same for every task of a matter: stated once above its
        # table, since eight columns cannot be read on the 156 mm measure.
        rows = [
            [
                t.task_no,
                f"{public_entity_name(t.name, t.identifier, t.category)}\n{t.identifier}",
                _inspection_days(t),
                _result_cell(t),
                _follow_up_cell(t),
            ]
            for t in m.tasks
        ]
        sections.append(
            Section(
                f"{heading_number(k, 2)}{m.matter_name}（{m.matter_code}）",
                [
                    f"抽查事项：{m.matter_name}。检查实施机关：{m.authority}。本事项抽取{len(m.tasks)}家，"
                    f"已检查{m.inspected}家，发现问题{m.problems}家，已整改{m.rectified}家"
                    + (f"，待录入{len(m.pending)}家。" if m.pending else "。")
                ],
                Table(
                    ["任务编号", f"单位名称\n{id_label}", "检查日期", "检查结果", "后续处置"], rows, align=["left"] * 5
                )
                if rows
                else None,
                level=2,
            )
        )
    if pending:
        sections.append(
            Section(
                f"{heading_number(3)}待录入的检查任务",
                [
                    f"以下{len(pending)}项检查任务的检查结果尚未录入（{PENDING}），录入后将另行公示：{'、'.join(pending)}。"
                ],
            )
        )
    number = 4 if pending else 3
    item_section = _items_section(number, matters)
    if item_section is not None:
        sections.append(item_section)
        number += 1
    estimates = [(m, e) for m in matters if (e := m.estimate()) is not None]
    if estimates:
        sections.append(_estimate_section(number, estimates))
        number += 1
    if log_head:
        sections.append(Section(f"{heading_number(number)}透明日志", log_head_paragraph(log_head)))
    return NoticeDocument(
        issuer=issuer,
        title=_title(f"{issuer}{when}", "“双随机、一公开”抽查结果公示"),
        issue_date=issue_date,
        doc_number=doc_number,
        intro=[texts.RESULTS_INTRO.format(issuer=issuer, when=when)],
        sections=sections,
        closing=[texts.CLOSING],
        keywords=("双随机、一公开", "抽查结果", period.label, *(m.matter_code for m in matters)),
    )


def _items_section(number: int, matters: Sequence[MatterResults]) -> Section | None:
    """How many entities failed each checklist item (一表通查), for the matters whose findings
    record results per item; None when none does."""
    rows = []
    for m in matters:
        recorded = sum(1 for t in m.tasks if t.recorded and t.items)
        if not m.checklist or not recorded:
            continue
        contents = dict(m.checklist)
        for c in m.item_counts():
            short = contents.get(c.code, "").split("：")[0]
            rows.append(
                [m.matter_name, f"{c.code} {short}".strip(), str(c.checked), str(c.failed), str(c.not_applicable)]
            )
    if not rows:
        return None
    return Section(
        f"{heading_number(number)}逐项检查结果",
        [texts.ITEMS],
        Table(
            ["抽查事项", "检查项", "已检查", "不符合", "不涉及"],
            rows,
            align=["left", "left", "right", "right", "right"],
        ),
    )


def _estimate_section(number: int, estimates: Sequence[tuple[MatterResults, Estimate]]) -> Section:
    """What the random sample says about every entity of the frame, per matter and stratum."""
    rows = []
    for m, e in estimates:
        for s in e.strata:
            rows.append(
                [
                    m.matter_name,
                    s.stratum,
                    str(s.N),
                    str(s.n),
                    str(s.x),
                    percent(s.share),
                    "—" if s.low is None else f"{percent(s.low)}～{percent(s.high)}",
                ]
            )
        if len(e.strata) > 1:
            rows.append(
                [
                    m.matter_name,
                    "全部（分层估计）",
                    str(e.N),
                    str(e.n),
                    str(e.x),
                    percent(e.share),
                    "—" if e.low is None else f"{percent(e.low)}～{percent(e.high)}",
                ]
            )
    return Section(
        f"{heading_number(number)}抽查结果推断",
        [texts.ESTIMATE],
        Table(
            ["抽查事项", "抽取层", "对象数", "已检查", "发现问题", "问题率", "95%置信区间"],
            rows,
            align=["left", "center", "right", "right", "right", "right", "center"],
        ),
    )
