"""Working days (工作日) in mainland China: weekends, official holidays and make-up working days.

The State Council publishes each year's holiday arrangement in November of the year before; the
`chinese_calendar` package (PyPI: chinesecalendar) ships those arrangements, so it knows a fixed
range of years. A date outside that range raises `InspectError` instead of silently being counted
as an ordinary weekday — a wrong deadline is worse than none. A bureau that has the next year's
arrangement before the package does lists it in settings (`extra_holidays`, `extra_workdays`);
listing any holiday of a year makes that year known.

Counting convention, used for every deadline in inspect-kit:
    add_working_days(start, n) is the n-th working day strictly after `start` (start itself never
    counts, whether or not it is a working day). "Publish within 20 working days after the
    inspection ends on E" therefore means: by add_working_days(E, 20), that day included.
    working_days_between(a, b) counts working days d with a < d <= b, so
    working_days_between(a, add_working_days(a, n)) == n.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from functools import lru_cache

import chinese_calendar

from inspect_kit.errors import InspectError

_PACKAGE_YEARS = frozenset(range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1))
_PACKAGE_LABEL = f"chinesecalendar {chinese_calendar.__version__}"


def _as_date(value: dt.date | str) -> dt.date:
    # datetime is a subclass of date; keep only the day so sets and comparisons behave.
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def _year_ranges(years: Iterable[int]) -> str:
    """{2004..2026, 2028} -> '2004–2026, 2028' for error messages."""
    ordered = sorted(years)
    if not ordered:
        return "no years"
    parts, first, last = [], ordered[0], ordered[0]
    for y in ordered[1:]:
        if y == last + 1:
            last = y
            continue
        parts.append(f"{first}–{last}" if last > first else str(first))
        first = last = y
    parts.append(f"{first}–{last}" if last > first else str(first))
    return ", ".join(parts)


class WorkingCalendar:
    """Working-day arithmetic over the package's holiday data plus configured overrides.

    extra_holidays: days off that the package does not know (a local holiday, or a year it lacks).
    extra_workdays: make-up working days (调休) that the package does not know.
    known_years: the years to trust; default all years the package covers. Years of
        `extra_holidays` are always added, since listing a year's holidays is what defines it.
    """

    def __init__(
        self,
        extra_holidays: Iterable[dt.date | str] = (),
        extra_workdays: Iterable[dt.date | str] = (),
        known_years: Iterable[int] | None = None,
    ) -> None:
        self.extra_holidays = frozenset(map(_as_date, extra_holidays))
        self.extra_workdays = frozenset(map(_as_date, extra_workdays))
        both = sorted(self.extra_holidays & self.extra_workdays)
        if both:
            listed = ", ".join(d.isoformat() for d in both)
            raise InspectError(f"holiday settings list {listed} both as holiday and as working day")
        base = _PACKAGE_YEARS if known_years is None else frozenset(known_years)
        self.known_years = base | {d.year for d in self.extra_holidays}
        # Per year: sorted ordinals of its working days, and (ordinal of 1 January, a 0/1 flag
        # per day of the year) so is_working_day is one dict lookup and one index.
        self._ordinals: dict[int, list[int]] = {}
        self._flags: dict[int, tuple[int, bytes]] = {}

    # -- per-year tables --------------------------------------------------------------------

    def _outside(self, day: dt.date, context: str = "") -> InspectError:
        return InspectError(
            f"the holiday calendar ({_PACKAGE_LABEL}) knows {_year_ranges(self.known_years)}; "
            f"{day.isoformat()} is outside it{context}; "
            "add the year's holidays in settings or upgrade chinesecalendar"
        )

    def _is_working_uncached(self, day: dt.date) -> bool:
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        if day in chinese_calendar.workdays:
            return True
        return day.weekday() < 5 and day not in chinese_calendar.holidays

    def _year(self, year: int, day: dt.date, context: str = "") -> list[int]:
        ordinals = self._ordinals.get(year)
        if ordinals is not None:
            return ordinals
        if year not in self.known_years:
            raise self._outside(day, context)
        first = dt.date(year, 1, 1).toordinal()
        last = dt.date(year, 12, 31).toordinal()
        flags = bytes(self._is_working_uncached(dt.date.fromordinal(o)) for o in range(first, last + 1))
        self._flags[year] = (first, flags)
        self._ordinals[year] = ordinals = [first + i for i, f in enumerate(flags) if f]
        return ordinals

    # -- public arithmetic ------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """True if `day` is a working day (a weekday that is not a holiday, or a make-up day)."""
        day = _as_date(day)
        table = self._flags.get(day.year)
        if table is None:
            self._year(day.year, day)
            table = self._flags[day.year]
        first, flags = table
        return bool(flags[day.toordinal() - first])

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day strictly after `start` (n < 0: strictly before; n == 0: start)."""
        start = _as_date(start)
        if n == 0:
            self._year(start.year, start)  # still refuse a date the calendar cannot vouch for
            return start
        context = f" (counting {n} working days from {start.isoformat()})"
        year, target = start.year, start.toordinal()
        ordinals = self._year(year, start)
        if n > 0:
            index, remaining = bisect_right(ordinals, target), n
            while remaining > len(ordinals) - index:
                remaining -= len(ordinals) - index
                year += 1
                ordinals, index = self._year(year, dt.date(year, 1, 1), context), 0
            return dt.date.fromordinal(ordinals[index + remaining - 1])
        index, remaining = bisect_left(ordinals, target), -n  # working days before start
        while remaining > index:
            remaining -= index
            year -= 1
            ordinals = self._year(year, dt.date(year, 12, 31), context)
            index = len(ordinals)
        return dt.date.fromordinal(ordinals[index - remaining])

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days d with a < d <= b; negative (-(between(b, a))) when b < a."""
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        count_a = bisect_right(self._year(a.year, a), a.toordinal())
        count_b = bisect_right(self._year(b.year, b), b.toordinal())
        full_years = sum(len(self._year(y, dt.date(y, 1, 1))) for y in range(a.year, b.year))
        return full_years + count_b - count_a

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        return self.add_working_days(day, 1)

    def on_or_after(self, day: dt.date) -> dt.date:
        """`day` itself if it is a working day, else the next one (a period ending on a holiday)."""
        day = _as_date(day)
        return day if self.is_working_day(day) else self.next_working_day(day)


@lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """The package's calendar with no overrides, shared so its per-year tables are built once."""
    return WorkingCalendar()


def is_working_day(day: dt.date) -> bool:
    """`WorkingCalendar.is_working_day` on the default calendar."""
    return default_calendar().is_working_day(day)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """`WorkingCalendar.add_working_days` on the default calendar."""
    return default_calendar().add_working_days(start, n)


def working_days_between(a: dt.date, b: dt.date) -> int:
    """`WorkingCalendar.working_days_between` on the default calendar."""
    return default_calendar().working_days_between(a, b)


def next_working_day(day: dt.date) -> dt.date:
    """`WorkingCalendar.next_working_day` on the default calendar."""
    return default_calendar().next_working_day(day)
