"""How the interface writes dates, times and numbers (Chinese conventions): 2026年1月5日."""

from __future__ import annotations

import datetime as dt
from typing import Any


def cn_date(value: dt.date | dt.datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return f"{cn_date(value)} {value:%H:%M}"


def install_filters(env: Any) -> None:
    env.filters["cndate"] = cn_date
    env.filters["cndatetime"] = cn_datetime
    from inspect_kit.web.nav import nav_for

    env.globals["nav_for"] = nav_for
