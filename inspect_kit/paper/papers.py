"""The three papers of a lawful inspection (国办发〔2024〕54号), built from plain data. Pure: no
database, files or clock; each builder returns a ``publish.NoticeDocument`` that ``publish.render`` lays
out like the notices (GB/T 9704 page, embedded fonts, glyph check, byte-identical rebuilds).

- ``approval_form``: 行政检查审批表 — the task, the entity, the matter and its legal basis, the
  team with 执法证号, the planned dates, and blank fields for the opinions and the approver;
- ``inspection_notice``: 检查通知书 to the entity — who will come (names, 执法证号), when, on what
  legal basis, the materials to prepare (一次告知), the right to ask for 回避 and how, and the
  task's verification code with a QR code to its public page;
- ``site_record``: 现场检查记录表 — the matter's checklist with 符合 / 不符合 / 不涉及 boxes and a
  blank note per item, and blanks for the signatures.

A paper names the team of its own task and nobody else; it never prints phone numbers (the
data given here has none). These papers are not public documents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from inspect_kit.findings.items import ITEM_RESULTS, ItemResult
from inspect_kit.publish.document import NoticeDocument, Section, Table, chinese_date, heading_number

KINDS = {"approval": "行政检查审批表", "notice": "检查通知书", "record": "现场检查记录表"}
RESULT_BOXES = "\n".join(f"□{r}" for r in ITEM_RESULTS)
BLANK_DATE = "　　年　　月　　日"


@dataclass(frozen=True)
class Person:
    name: str
    cert_no: str  # 执法证号 (experts: their registry number)
    unit: str  # the department's name


@dataclass(frozen=True)
class Item:
    code: str
    content: str
    basis: str = ""
    method: str = ""


@dataclass(frozen=True)
class TaskPaper:
    """What the papers of one task print. ``verification_code`` and ``verification_url`` are
    needed by the notice only (``inspect_kit.paper.codes``)."""

    task_no: str
    period: str
    authority: str  # 检查实施机关 (joint matters: every department)
    issuer: str  # the unit that signs the paper
    matter_code: str
    matter_name: str
    legal_basis: str
    method: str
    entity_name: str
    identifier: str  # 统一社会信用代码
    officers: tuple[Person, ...]
    experts: tuple[Person, ...] = ()
    visit_from: dt.date | None = None
    visit_to: dt.date | None = None
    checklist: tuple[Item, ...] = ()
    materials: tuple[str, ...] = ()
    verification_code: str | None = None
    verification_url: str | None = None
    # results per item (inspect_kit.findings.items.ItemResult) fill the record; none: blank boxes
    item_results: tuple[ItemResult, ...] = ()


def visit_text(t: TaskPaper) -> str:
    if t.visit_from is None or t.visit_to is None:
        return "另行通知"
    if t.visit_from == t.visit_to:
        return chinese_date(t.visit_from)
    return f"{chinese_date(t.visit_from)}至{chinese_date(t.visit_to)}期间"


def team_table(t: TaskPaper) -> Table:
    rows = [(p.name, p.cert_no, p.unit, "执法人员") for p in t.officers]
    rows += [(p.name, p.cert_no, p.unit, "专家（不计入执法人员）") for p in t.experts]
    return Table(
        ("姓名", "执法证号", "单位", "身份"),
        rows,
        col_widths_mm=(28, 48, 48, 32),
        align=("center", "center", "left", "center"),
    )


def _team_line(t: TaskPaper) -> str:
    return "\n".join(f"{p.name}（执法证号{p.cert_no}）" for p in t.officers + t.experts)


def approval_form(t: TaskPaper, issue_date: dt.date) -> NoticeDocument:
    blank = "\n\n\n签名：　　　　　　　　" + BLANK_DATE
    rows = [
        ("检查任务编号", t.task_no),
        ("检查实施机关", t.authority),
        ("检查事项", f"{t.matter_name}（{t.matter_code}）"),
        ("检查依据", t.legal_basis),
        ("检查方式", t.method),
        ("检查对象", t.entity_name),
        ("统一社会信用代码", t.identifier),
        ("检查对象产生方式", f"“双随机”抽取（{t.period}）"),
        ("拟检查时间", visit_text(t)),
        ("检查人员", _team_line(t)),
        ("检查内容", f"按《现场检查记录表》所列{len(t.checklist)}项检查内容逐项检查" if t.checklist else "见检查方案"),
        ("承办人意见", blank),
        ("承办机构负责人意见", blank),
        ("审批人意见", "□同意　　□不同意" + blank),
    ]
    table = Table(("项目", "内容"), rows, col_widths_mm=(40, 116), align=("center", "left"))
    return NoticeDocument(
        issuer=t.issuer,
        title=KINDS["approval"],
        issue_date=issue_date,
        sections=[Section(table=table)],
        keywords=(t.task_no, t.matter_code),
    )


def inspection_notice(t: TaskPaper, issue_date: dt.date) -> NoticeDocument:
    if not t.verification_code or not t.verification_url:
        raise ValueError(f"{t.task_no}: a 检查通知书 needs the task's verification code and URL")
    n = iter(range(1, 10))
    sections = [
        Section(
            heading=heading_number(next(n)) + "检查人员",
            paragraphs=[
                f"本次检查由以下{len(t.officers)}名执法人员实施，检查时将出示行政执法证件。"
                "执法人员不出示执法证件或者证件与下表不符的，你单位有权拒绝接受检查。"
            ],
            table=team_table(t),
        ),
        Section(
            heading=heading_number(next(n)) + "检查依据",
            paragraphs=[f"{t.legal_basis}。检查对象由随机抽取产生（{t.period}，任务编号{t.task_no}）。"],
        ),
    ]
    if t.materials:
        sections.append(
            Section(
                heading=heading_number(next(n)) + "需要准备的材料（一次性告知）",
                paragraphs=["请你单位在检查时提供以下材料，本机关不再另行要求提供与本次检查无关的材料："]
                + [f"{k}.{m}" for k, m in enumerate(t.materials, 1)],
            )
        )
    if t.checklist:
        sections.append(
            Section(
                heading=heading_number(next(n)) + "检查内容",
                paragraphs=["；".join(f"{k}.{i.content.split('：')[0]}" for k, i in enumerate(t.checklist, 1)) + "。"],
            )
        )
    sections += [
        Section(
            heading=heading_number(next(n)) + "申请回避的权利",
            paragraphs=[
                "你单位认为检查人员与你单位有直接利害关系，或者有其他关系可能影响公正检查的，有权申请回避。"
                "申请回避应当在检查开始前（检查中知道回避事由的，在知道后立即）向本机关书面或者口头提出，"
                "并说明理由；本机关依法审查后作出决定并告知你单位。"
            ],
        ),
        Section(
            heading=heading_number(next(n)) + "检查任务核验",
            paragraphs=[
                f"本次检查的核验码为{t.verification_code}。扫描下方二维码，或者访问{t.verification_url}，"
                "可以核验本次检查任务是否由随机抽取产生，以及上门检查人员的执法证号是否与抽取结果一致。"
            ],
            qr=t.verification_url,
        ),
    ]
    intro = [
        f"根据{t.authority}年度“双随机、一公开”抽查计划，经随机抽取，你单位被确定为“{t.matter_name}”的检查对象。"
        f"本机关定于{visit_text(t)}对你单位进行{t.method}。现将有关事项通知如下："
    ]
    return NoticeDocument(
        issuer=t.issuer,
        title=KINDS["notice"],
        issue_date=issue_date,
        addressee=f"{t.entity_name}：",
        intro=intro,
        sections=sections,
        closing=["请予配合。"],
        keywords=(t.task_no, t.matter_code),
    )


def site_record(t: TaskPaper, issue_date: dt.date) -> NoticeDocument:
    head = Table(
        ("项目", "内容"),
        [
            ("检查任务编号", t.task_no),
            ("检查事项", f"{t.matter_name}（{t.matter_code}）"),
            ("检查对象", f"{t.entity_name}\n统一社会信用代码：{t.identifier}"),
            ("检查时间", f"{BLANK_DATE}　　时　　分至　　时　　分"),
            ("检查地点", ""),
            ("检查人员", _team_line(t)),
        ],
        col_widths_mm=(40, 116),
        align=("center", "left"),
    )
    items: Sequence[Item] = t.checklist or (Item("—", "（本事项未配置检查表，按检查方案逐项记录）"),)
    recorded = {r.code: r for r in t.item_results}

    def boxes(code: str) -> tuple[str, str]:
        r = recorded.get(code)
        if r is None:
            return RESULT_BOXES, ""
        return "\n".join(("■" if v == r.result else "□") + v for v in ITEM_RESULTS), r.note or ""

    rows = [(str(k), i.content, i.basis, i.method, *boxes(i.code)) for k, i in enumerate(items, 1)]
    checklist = Table(
        ("序号", "检查内容", "检查依据", "检查方法", "检查结果", "说明"),
        rows,
        col_widths_mm=(12, 46, 32, 26, 20, 20),
        align=("center", "left", "left", "left", "left", "left"),
    )
    sections = [
        Section(table=head),
        Section(
            heading="一、检查内容及结果",
            paragraphs=["每项在“检查结果”栏勾选一项；勾选“不符合”的，在“说明”栏写明问题。"],
            table=checklist,
        ),
        Section(heading="二、其他需要说明的情况", paragraphs=["", ""]),
        Section(
            heading="三、签名",
            paragraphs=[
                f"检查人员（签名）：{'　' * 7}{BLANK_DATE}",  # 27 of the 28 characters a line
                f"检查对象负责人（签名）：{'　' * 4}{BLANK_DATE}",
                "检查对象对记录内容有异议的，可以在此写明：",
            ],
        ),
    ]
    return NoticeDocument(
        issuer=t.issuer,
        title=KINDS["record"],
        issue_date=issue_date,
        sections=sections,
        keywords=(t.task_no, t.matter_code),
    )


BUILDERS = {"approval": approval_form, "notice": inspection_notice, "record": site_record}


def file_name(kind: str, task_no: str) -> str:
    return f"{KINDS[kind]}-{task_no}.pdf"
