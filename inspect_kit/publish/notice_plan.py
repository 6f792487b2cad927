"""The annual plan notice (年度“双随机、一公开”抽查计划) from the matters list. Pure: config in,
``NoticeDocument`` out (no database, files or clock).

One plan per issuing unit: the matters it leads (``matter.unit``) and the joint matters it takes
part in (a department of ``matter.team``), each with its legal basis, the entity categories and
strata, the quota with its rounding and per-stratum quotas, the period and the periods of the
year, the coverage rules, the method, the team (joint matters: the lead unit and the officers per
department) and the checklist's items. A summary table comes first; the transparency log's head
comes last (the config the plan reflects is a logged import).

A plan issued again after its first publication lists the changes since then (计划调整情况): one
row per change of a matter in the plan — added, taken out, or a field the plan prints changed
(old → new; ``describe_changes``), with its date. The changes are given (``PlanChange``);
inspect_kit.publish.plan_service reads them from the configuration's history. Fields the plan does
not print (qualifications, pair caps, 回避 rules, ticket groups) are not listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspect_kit.config.models import Matter, Unit
from inspect_kit.publish.document import NoticeDocument, Section, Table, chinese_date, heading_number

ROUNDING_ZH = {"ceil": "向上取整（不低于）", "floor": "向下取整", "round": "四舍五入"}
PERIOD_ZH = {"quarter": "每季度", "month": "每月", "year": "每年"}
PERIODS_OF_YEAR = {"quarter": "第一季度至第四季度各抽取一次", "month": "1月至12月各抽取一次", "year": "全年抽取一次"}
STRATUM_ZH = {
    "category": "对象类别",
    "credit_class": "信用风险分类",
    "township": "所在乡镇",
    "industry": "行业",
    "department": "主管部门",
}
BASIS = (
    "根据《国务院办公厅关于推广随机抽查规范事中事后监管的通知》（国办发〔2015〕58号）、《国务院关于在市场监管领域"
    "全面推行部门联合“双随机、一公开”监管的意见》（国发〔2019〕5号）和《国务院办公厅关于严格规范涉企行政检查的意见》"
    "（国办发〔2024〕54号）"
)


# The spec fields the plan prints, in the order their changes are listed, with their Chinese names.
FIELD_ZH = {
    "name": "事项名称",
    "unit": "实施单位",
    "legal_basis": "抽查依据",
    "categories": "抽查对象",
    "strata": "分层方式",
    "quota": "抽查比例",
    "stratum_quota": "分层抽查比例",
    "rounding": "取整方式",
    "period": "抽查频次",
    "coverage": "覆盖要求",
    "exclude_clean_within_months": "抽查间隔（月）",
    "method": "检查方式",
    "team_size": "每个对象选派执法人员数",
    "team": "联合检查部门及人数",
    "checklist": "检查内容",
    "materials": "需准备的材料",
}
COVERAGE_ZH = {"annual": "全年覆盖全部对象", "independent": "各期独立抽取"}


@dataclass(frozen=True)
class PlanChange:
    """One change to a matter of the plan after its first publication."""

    on: dt.date
    matter_code: str
    matter_name: str
    text: str  # what changed, in Chinese


def _value_zh(key: str, v: Any) -> str:
    if v is None or v == [] or v == {}:
        return "无"
    if key == "quota":
        return quota_zh(str(v))
    if key == "period":
        return PERIOD_ZH.get(str(v), str(v))
    if key == "rounding":
        return ROUNDING_ZH.get(str(v), str(v))
    if key == "coverage":
        return COVERAGE_ZH.get(str(v), str(v))
    if key == "strata":
        return "、".join(STRATUM_ZH.get(str(x), str(x)) for x in v)
    if key == "stratum_quota":
        return "，".join(f"{k}：{quota_zh(str(x))}" for k, x in v.items())
    if isinstance(v, Mapping):
        return "，".join(f"{k}：{x}" for k, x in v.items())
    if isinstance(v, list):
        return "、".join(map(str, v))
    return str(v)


def _checklist_changes(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> list[str]:
    before = {str(i["code"]): i for i in old or []}
    after = {str(i["code"]): i for i in new or []}
    out = []
    for code, item in after.items():
        if code not in before:
            out.append(f"检查内容增加第{code}项“{item.get('content', '')}”")
        elif dict(item) != dict(before[code]):
            out.append(f"检查内容第{code}项调整为“{item.get('content', '')}”")
    out += [f"检查内容删除第{code}项“{item.get('content', '')}”" for code, item in before.items() if code not in after]
    return out


def describe_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What changed between two specs of a matter, in the plan's words (fields it prints only)."""
    out: list[str] = []
    for key, label in FIELD_ZH.items():
        a, b = old.get(key), new.get(key)
        if (a or None) == (b or None):
            continue
        if key == "checklist":
            out += _checklist_changes(a or [], b or [])
        elif isinstance(a, list) and isinstance(b, list) and a and b and set(map(str, a)) != set(map(str, b)):
            added = [x for x in b if x not in a]
            removed = [x for x in a if x not in b]
            parts = [f"增加“{_value_zh(key, added)}”" for _ in added[:1]]
            parts += [f"删除“{_value_zh(key, removed)}”" for _ in removed[:1]]
            out.append(label + "，".join(parts))
        elif a in (None, [], {}):
            out.append(f"{label}增加“{_value_zh(key, b)}”")
        elif b in (None, [], {}):
            out.append(f"取消{label}（原为“{_value_zh(key, a)}”）")
        else:
            out.append(f"{label}由“{_value_zh(key, a)}”调整为“{_value_zh(key, b)}”")
    return out


def _changes_section(number: int, changes: Sequence[PlanChange], first_issued: dt.date) -> Section:
    intro = f"本计划于{chinese_date(first_issued)}首次公布。"
    if not changes:
        return Section(heading=heading_number(number) + "计划调整情况", paragraphs=[intro + "此后本计划未作调整。"])
    return Section(
        heading=heading_number(number) + "计划调整情况",
        paragraphs=[intro + f"此后调整{len(changes)}项，调整内容如下。"],
        table=Table(
            ("序号", "调整日期", "抽查事项", "调整内容"),
            [
                (str(k), c.on.isoformat(), f"{c.matter_name}（{c.matter_code}）", c.text)
                for k, c in enumerate(changes, 1)
            ],
            col_widths_mm=(10, 24, 50, 72),
            align=("center", "center", "left", "left"),
        ),
    )


def unit_name(units: Sequence[Unit], code: str) -> str:
    u = next((u for u in units if u.code == code), None)
    return (u.issuer or u.name) if u else code


def plan_matters(matters: Sequence[Matter], unit: str) -> list[Matter]:
    """The matters in ``unit``'s plan: those it leads, then the joint matters it takes part in."""
    own = [m for m in matters if m.unit == unit]
    return own + [m for m in matters if m.unit != unit and unit in m.team]


def plan_units(matters: Sequence[Matter], units: Sequence[Unit]) -> list[str]:
    """Units with a plan (they lead or take part in a matter), in units.toml order."""
    return [u.code for u in units if plan_matters(matters, u.code)]


def quota_zh(quota: str) -> str:
    from inspect_kit.draw.core.quota import Quota, QuotaKind

    q = Quota.parse(quota)
    if q.kind is QuotaKind.FIXED:
        return f"{q.text}家"
    if q.kind is QuotaKind.PER_INSPECTOR:
        return f"在岗执法人员数×{q.text.split('×')[0]}"
    if q.kind is QuotaKind.RATIO:
        part, whole = q.text.split(":")
        return f"{q.text}（每{whole}家抽取{part}家）"
    return q.text


def quota_line(m: Matter) -> str:
    from inspect_kit.draw.core.quota import Quota, QuotaKind

    text = quota_zh(m.quota)
    if m.stratum_quota:
        text += "；其中" + "，".join(f"{k}：{quota_zh(v)}" for k, v in m.stratum_quota.items())
    if Quota.parse(m.quota).kind is QuotaKind.FIXED and not m.stratum_quota:
        return text + "（对象不足时全部抽取）"
    return text + f"。抽取数量按比例计算后{ROUNDING_ZH[m.rounding]}"


def team_line(m: Matter, units: Sequence[Unit]) -> str:
    if len(m.team) > 1:
        parts = "、".join(f"{unit_name(units, d)}{n}名" for d, n in m.team.items())
        return f"部门联合检查，牵头单位为{unit_name(units, m.unit)}；每个检查对象随机选派执法人员{parts}"
    n = m.team.get(m.unit, m.team_size) if m.team else m.team_size
    return f"每个检查对象从执法检查人员名录库中随机选派{n}名执法人员，存在利害关系的依法回避"


def _matter_section(k: int, m: Matter, units: Sequence[Unit], year: int) -> Section:
    rows = [
        f"抽查依据：{m.legal_basis}。",
        f"抽查对象：检查对象名录库中的{'、'.join(m.categories)}，"
        f"按{'、'.join(STRATUM_ZH[s] for s in m.strata)}分层抽取。",
        f"抽查比例：{quota_line(m)}。",
        f"抽查频次：{PERIOD_ZH[m.period]}一次，{year}年{PERIODS_OF_YEAR[m.period]}。",
    ]
    if m.coverage == "annual":
        rows.append("覆盖要求：各期只从本年度尚未抽取的对象中抽取，全年覆盖全部对象。")
    if m.exclude_clean_within_months:
        rows.append(f"抽查间隔：检查未发现问题的对象，{m.exclude_clean_within_months}个月内不再抽取。")
    rows.append(f"检查方式：{m.method}。")
    rows.append(f"检查人员：{team_line(m, units)}。")
    if m.checklist:
        items = (f"{i}.{c.content.split('：')[0]}" for i, c in enumerate(m.checklist, 1))
        rows.append("检查内容：" + "；".join(items) + "。")
    return Section(heading=f"{heading_number(k, 2)}{m.name}（{m.code}）", paragraphs=rows, level=2)


def build_plan_notice(
    matters: Sequence[Matter],
    units: Sequence[Unit],
    unit: str,
    year: int,
    issue_date: dt.date,
    publicity_working_days: int = 20,
    doc_number: str | None = None,
    log_head: str | None = None,
    changes: Sequence[PlanChange] = (),
    first_issued: dt.date | None = None,
) -> NoticeDocument:
    """The plan of ``unit`` for ``year``; ValueError if the unit has no matter. ``log_head``: the
    transparency log's head when the plan is issued, printed in a last section. ``first_issued``:
    the date the plan was first published, when this is a later issue: a section then lists
    ``changes`` (or says there were none)."""
    from inspect_kit.publish.notices import log_head_paragraph

    mine = plan_matters(matters, unit)
    if not mine:
        raise ValueError(f"unit {unit!r} leads and takes part in no matter")
    issuer = unit_name(units, unit)
    summary = Table(
        ("序号", "抽查事项", "抽查对象", "抽查比例", "频次", "实施单位"),
        [
            (
                str(k),
                f"{m.name}（{m.code}）",
                "、".join(m.categories),
                quota_zh(m.quota),
                PERIOD_ZH[m.period],
                "、".join(unit_name(units, d) for d in ([m.unit] + [d for d in m.team if d != m.unit])),
            )
            for k, m in enumerate(mine, 1)
        ],
        col_widths_mm=(10, 42, 30, 26, 14, 34),
        align=("center", "left", "left", "left", "center", "left"),
    )
    sections = [
        Section(heading=heading_number(1) + "抽查事项一览", table=summary),
        Section(heading=heading_number(2) + "抽查事项"),
        *(_matter_section(k, m, units, year) for k, m in enumerate(mine, 1)),
        Section(
            heading=heading_number(3) + "实施要求",
            paragraphs=[
                "（一）随机抽取。检查对象和执法检查人员均通过随机抽取产生；每次抽取使用公开的随机数种子，抽取前冻结并公布名录库的"
                "哈希值，任何人可以复核抽取结果。",
                "（二）依法检查。检查前履行审批程序，向检查对象送达检查通知书，一次性告知需要准备的材料和申请回避的权利；"
                "按事项检查表逐项检查并记录。",
                f"（三）结果公开。检查结果自检查完成之日起{publicity_working_days}个工作日内通过国家企业信用信息公示系统等"
                "渠道向社会公示。",
                "（四）计划调整。本计划执行中确需调整的，调整内容及时向社会公布。",
            ],
        ),
    ]
    number = 4
    if first_issued is not None:
        sections.append(_changes_section(number, changes, first_issued))
        number += 1
    if log_head:
        sections.append(Section(heading=heading_number(number) + "透明日志", paragraphs=log_head_paragraph(log_head)))
    intro = [f"{BASIS}等规定，结合工作实际，制定{issuer}{year}年度“双随机、一公开”抽查计划如下。"]
    return NoticeDocument(
        issuer=issuer,
        title=f"{issuer}\n{year}年度“双随机、一公开”抽查计划",
        issue_date=issue_date,
        doc_number=doc_number,
        intro=intro,
        sections=sections,
        keywords=(str(year), *[m.code for m in mine]),
    )
