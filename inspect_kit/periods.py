"""Periods as users write them: 2026Q1 (quarter), 2026-03 (month), 2026 (year)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from inspect_kit.errors import InspectError

_Q = re.compile(r"^(\d{4})[Qq]([1-4])$")
_M = re.compile(r"^(\d{4})-(\d{1,2})$")
_Y = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: str  # quarter | month | year
    index: int  # 0-based quarter or month within the year; 0 for a year

    @property
    def label(self) -> str:
        if self.kind == "quarter":
            return f"{self.year}Q{self.index + 1}"
        if self.kind == "month":
            return f"{self.year}-{self.index + 1:02d}"
        return str(self.year)

    @property
    def periods_per_year(self) -> int:
        return {"quarter": 4, "month": 12, "year": 1}[self.kind]

    @property
    def start(self) -> dt.date:
        month = {"quarter": self.index * 3 + 1, "month": self.index + 1, "year": 1}[self.kind]
        return dt.date(self.year, month, 1)

    @property
    def end(self) -> dt.date:
        if (
            self.kind == "year"
            or (self.kind == "quarter" and self.index == 3)
            or (self.kind == "month" and self.index == 11)
        ):
            return dt.date(self.year, 12, 31)
        nxt = Period(self.year, self.kind, self.index + 1).start
        return nxt - dt.timedelta(days=1)

    def previous(self, n: int = 1) -> "Period":
        k = self.periods_per_year
        flat = self.year * k + self.index - n
        return Period(flat // k, self.kind, flat % k)

    def contains(self, other: "Period") -> bool:
        """Whether `other` lies within this period (a year contains its quarters and months)."""
        return self.start <= other.start and other.end <= self.end

    def __str__(self) -> str:
        return self.label


def parse_period(text: str) -> Period:
    t = text.strip()
    if m := _Q.match(t):
        return Period(int(m[1]), "quarter", int(m[2]) - 1)
    if (m := _M.match(t)) and 1 <= int(m[2]) <= 12:
        return Period(int(m[1]), "month", int(m[2]) - 1)
    if m := _Y.match(t):
        return Period(int(m[1]), "year", 0)
    raise InspectError(f"cannot read period {text!r}: use 2026Q1, 2026-03 or 2026")


class _HasPeriodKind(Protocol):
    @property
    def period(self) -> str: ...


_Matter = TypeVar("_Matter", bound=_HasPeriodKind)


def matters_for(matters: Iterable[_Matter], period: Period) -> list[_Matter]:
    """The matters a command for `period` acts on: those whose period kind is the same
    (`--quarter 2026Q1` acts on quarterly matters, `--year 2026` on yearly ones)."""
    return [m for m in matters if m.period == period.kind]
