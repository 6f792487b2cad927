"""The columns of each registry file: accepted headers (Chinese and English), parsing, export name.

Header matching ignores spaces, full-width forms, case and a trailing '*' (Excel templates mark
required columns that way). The first header of each field is the one written on export.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from inspect_kit.text import clean_code, header_key, parse_date, to_halfwidth


@dataclass(frozen=True)
class Field:
    name: str  # attribute name on the model, and the English header
    headers: tuple[str, ...]  # accepted headers; headers[0] is the Chinese export header
    parse: Callable[[str], Any]  # raises ValueError(reason) on bad input; '' never reaches it
    required: bool = False
    private: bool = False  # personal data: never in a public notice
    export: Callable[[Any], str] = field(default=lambda v: "" if v is None else str(v))


# -- value parsers ------------------------------------------------------------------------------


def plain_text(s: str) -> str:  # cells are already cleaned; the importer skips this call
    return s


def _date(s: str) -> dt.date | None:
    return parse_date(s)


def _export_date(d: dt.date | None) -> str:
    return "" if d is None else d.isoformat()


CREDIT_CLASSES = ("A", "B", "C", "D")


def _credit_class(s: str) -> str:
    c = clean_code(s).removesuffix("类").removesuffix("级")
    if c not in CREDIT_CLASSES:
        raise ValueError(f"credit class must be one of A, B, C, D, got {s!r}")
    return c


_ENTITY_STATUS = {
    "active": "active",
    "存续": "active",
    "在业": "active",
    "正常": "active",
    "开业": "active",
    "在营": "active",
    "closed": "closed",
    "停业": "closed",
    "关闭": "closed",
    "歇业": "closed",
    "停产": "closed",
    "cancelled": "cancelled",
    "注销": "cancelled",
    "吊销": "cancelled",
    "撤销": "cancelled",
}
_INSPECTOR_STATUS = {
    "active": "active",
    "在岗": "active",
    "在职": "active",
    "正常": "active",
    "on_leave": "on_leave",
    "休假": "on_leave",
    "请假": "on_leave",
    "病假": "on_leave",
    "借调": "on_leave",
    "retired": "retired",
    "退休": "retired",
    "离职": "retired",
    "调离": "retired",
}
_KINDS = {
    "officer": "officer",
    "执法人员": "officer",
    "执法检查人员": "officer",
    "expert": "expert",
    "专家": "expert",
    "特邀专家": "expert",
    "技术专家": "expert",
}


def _choice(mapping: dict[str, str], what: str) -> Callable[[str], str]:
    allowed = ", ".join([*sorted(k for k in mapping if k.isascii()), *(k for k in mapping if not k.isascii())])

    def parse(s: str) -> str:
        v = mapping.get(s.lower()) or mapping.get(s)
        if v is None:
            raise ValueError(f"unknown {what} {s!r}; use one of: {allowed}")
        return v

    return parse


def _division(s: str) -> str:
    c = clean_code(s)
    if not (c.isdigit() and len(c) in (6, 9, 12)):
        raise ValueError(f"division code must be 6, 9 or 12 digits, got {s!r}")
    return c


def _count(s: str) -> int:
    c = clean_code(s)
    if c.endswith(".0"):  # Excel numbers
        c = c[:-2]
    if not c.isdigit():
        raise ValueError(f"expected a whole number ≥ 0, got {s!r}")
    return int(c)


_LIST_SPLIT = re.compile(r"[;；、,，|/\n]+")


def split_list(s: str) -> list[str]:
    return sorted({p.strip() for p in _LIST_SPLIT.split(s) if p.strip()})


def parse_phone(s: str) -> str:
    return to_halfwidth(s).replace(" ", "")


# -- the three files ----------------------------------------------------------------------------

ENTITY_FIELDS: tuple[Field, ...] = (
    Field(
        "identifier",
        ("统一社会信用代码", "社会信用代码", "信用代码", "统一代码", "代码", "uscc", "id"),
        clean_code,
        required=True,
    ),
    Field(
        "name",
        ("单位名称", "企业名称", "名称", "机构名称", "对象名称", "主体名称", "检查对象名称"),
        plain_text,
        required=True,
    ),
    Field("category", ("类别", "对象类别", "主体类别", "类型", "分类", "检查对象类别"), plain_text, required=True),
    Field("department", ("监管部门", "主管部门", "所属部门", "部门"), plain_text),
    Field("division_code", ("行政区划代码", "区划代码", "所属区划代码"), _division),
    Field("township", ("所属乡镇", "乡镇", "乡镇（街道）", "乡镇(街道)", "所属街道", "街道"), plain_text),
    Field("industry", ("行业", "所属行业", "行业类别", "行业门类"), plain_text),
    Field("credit_class", ("信用等级", "信用风险分类", "信用风险等级", "信用类别", "风险等级"), _credit_class),
    Field("status", ("状态", "经营状态", "登记状态"), _choice(_ENTITY_STATUS, "status")),
    Field("exempt_reason", ("豁免原因", "正面清单", "免检原因", "正面清单原因"), plain_text),
    Field("exempt_from", ("豁免起始日期", "豁免开始日期", "豁免起始"), _date, export=_export_date),
    Field("exempt_to", ("豁免截止日期", "豁免结束日期", "豁免截止"), _date, export=_export_date),
    Field("phone", ("联系电话", "电话", "手机", "手机号码"), parse_phone, private=True),
    Field("legal_rep", ("法定代表人", "负责人", "法人", "法定代表人（负责人）"), plain_text, private=True),
)

INSPECTOR_FIELDS: tuple[Field, ...] = (
    Field("cert_no", ("执法证号", "执法证件号", "执法证件号码", "证件号", "证号"), clean_code, required=True),
    Field("name", ("姓名", "名字"), plain_text, required=True),
    Field("department", ("所属部门", "部门", "单位", "所在单位"), plain_text, required=True),
    Field("home_township", ("户籍乡镇", "居住乡镇", "籍贯乡镇", "所在乡镇"), plain_text),
    Field("kind", ("人员类别", "人员类型"), _choice(_KINDS, "kind")),
    Field("status", ("状态", "在岗状态", "人员状态"), _choice(_INSPECTOR_STATUS, "status")),
    Field("cert_valid_from", ("证件有效期起", "有效期起", "发证日期"), _date, export=_export_date),
    Field("cert_valid_to", ("证件有效期至", "有效期至", "证件有效期止"), _date, export=_export_date),
    Field("max_tasks_per_period", ("每期任务上限", "任务上限"), _count),
    Field(
        "qualifications", ("执法资格", "检查资格", "资格", "执法领域"), split_list, export=lambda v: "；".join(v or ())
    ),
    Field("phone", ("联系电话", "电话", "手机"), parse_phone, private=True),
)

CONFLICT_FIELDS: tuple[Field, ...] = (
    Field("cert_no", ("执法证号", "执法证件号", "证件号"), clean_code, required=True),
    Field("identifier", ("统一社会信用代码", "社会信用代码", "信用代码", "代码", "uscc"), clean_code, required=True),
    Field("reason", ("回避原因", "利害关系", "原因", "说明"), plain_text, required=True),
)

FIELDS = {"entities": ENTITY_FIELDS, "inspectors": INSPECTOR_FIELDS, "conflicts": CONFLICT_FIELDS}
KEY_FIELDS = {"entities": ("identifier",), "inspectors": ("cert_no",), "conflicts": ("cert_no", "identifier")}


def header_index(fields: tuple[Field, ...]) -> dict[str, Field]:
    index: dict[str, Field] = {}
    for f in fields:
        for h in (f.name, *f.headers):
            index.setdefault(header_key(h), f)
    return index
