"""Small builders for test data."""

from __future__ import annotations

import random

from inspect_kit.registry.uscc import ALPHABET, with_check


def make_uscc(i: int, prefix: str = "91", division: str = "360199") -> str:
    """A valid 统一社会信用代码 numbered i (distinct for distinct i)."""
    return with_check(f"{prefix}{division}{i:09d}")


def random_uscc(rng: random.Random) -> str:
    body = rng.choice("159") + rng.choice("123") + "".join(rng.choice("0123456789") for _ in range(6))
    body += "".join(rng.choice(ALPHABET) for _ in range(9))
    return with_check(body)


ENTITY_HEADER = [
    "统一社会信用代码",
    "单位名称",
    "类别",
    "所属乡镇",
    "信用等级",
    "状态",
    "豁免原因",
    "豁免起始日期",
    "豁免截止日期",
    "联系电话",
    "法定代表人",
]


def entity_row(i: int, category: str = "企业", **over) -> list[str]:
    row = {
        "统一社会信用代码": make_uscc(i),
        "单位名称": f"测试企业{i}有限公司",
        "类别": category,
        "所属乡镇": "城关镇",
        "信用等级": "B",
        "状态": "存续",
        "豁免原因": "",
        "豁免起始日期": "",
        "豁免截止日期": "",
        "联系电话": "13800000000",
        "法定代表人": "张三",
    }
    row.update(over)
    return [row[h] for h in ENTITY_HEADER]
