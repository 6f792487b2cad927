"""Working-day calendar: real 2025/2026 arrangements, counting convention, limits, overrides.

The holiday facts asserted here were read from chinese_calendar's own data (holidays / workdays
dicts of chinesecalendar 1.11.0), and each is cross-checked against that data in the test.
"""

from __future__ import annotations

import datetime as dt
import time

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_kit.errors import InspectError
from inspect_kit.findings import calendar as cal_module
from inspect_kit.findings.calendar import WorkingCalendar

D = dt.date
CAL = WorkingCalendar()

MAKE_UP_WORKDAYS = [  # weekends that were working days (调休)
    D(2025, 1, 26),  # Sunday before Spring Festival 2025
    D(2025, 2, 8),  # Saturday after it
    D(2025, 9, 28),  # Sunday before National Day 2025
    D(2025, 10, 11),  # Saturday after it
    D(2026, 1, 4),  # Sunday after New Year 2026
    D(2026, 2, 14),  # Saturday before Spring Festival 2026
    D(2026, 2, 28),  # Saturday after it
    D(2026, 9, 20),  # Sunday before National Day 2026
    D(2026, 10, 10),  # Saturday after it
]
WEEKDAY_HOLIDAYS = [
    *(D(2025, 1, d) for d in (28, 29, 30, 31)),
    D(2025, 2, 3),
    D(2025, 2, 4),
    *(D(2025, 10, d) for d in (1, 2, 3, 6, 7, 8)),
    *(D(2026, 2, d) for d in (16, 17, 18, 19, 20, 23)),
    D(2026, 9, 25),  # Mid-Autumn 2026, a Friday
    *(D(2026, 10, d) for d in (1, 2, 5, 6, 7)),
]


@pytest.mark.parametrize("day", MAKE_UP_WORKDAYS)
def test_make_up_weekend_days_are_working_days(day: dt.date) -> None:
    assert day.weekday() >= 5 and day in chinese_calendar.workdays
    assert CAL.is_working_day(day)


@pytest.mark.parametrize("day", WEEKDAY_HOLIDAYS)
def test_weekday_holidays_are_not_working_days(day: dt.date) -> None:
    assert day.weekday() < 5 and day in chinese_calendar.holidays
    assert not CAL.is_working_day(day)


def test_ordinary_days() -> None:
    assert CAL.is_working_day(D(2025, 3, 5))  # Wednesday
    assert not CAL.is_working_day(D(2025, 3, 8))  # Saturday
    assert CAL.is_working_day(dt.datetime(2025, 1, 26, 15, 30))  # datetimes count by their day


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Spring Festival 2025: holiday 01-28..02-04, make-up Sunday 01-26 and Saturday 02-08.
        (D(2025, 1, 24), 1, D(2025, 1, 26)),
        (D(2025, 1, 24), 2, D(2025, 1, 27)),
        (D(2025, 1, 24), 3, D(2025, 2, 5)),
        (D(2025, 1, 24), 6, D(2025, 2, 8)),
        (D(2025, 1, 24), 20, D(2025, 2, 27)),
        (D(2025, 1, 29), 1, D(2025, 2, 5)),  # starting on a holiday: the start never counts
        # National Day 2025: holiday 10-01..10-08, make-up Sunday 09-28 and Saturday 10-11.
        (D(2025, 9, 26), 1, D(2025, 9, 28)),
        (D(2025, 9, 26), 4, D(2025, 10, 9)),
        (D(2025, 9, 26), 6, D(2025, 10, 11)),
        (D(2025, 9, 26), 7, D(2025, 10, 13)),
        (D(2025, 9, 30), 20, D(2025, 11, 4)),
        # Spring Festival 2026: holiday 02-15..02-23, make-up Saturdays 02-14 and 02-28.
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 13), 2, D(2026, 2, 24)),
        (D(2026, 2, 12), 20, D(2026, 3, 18)),
        # Mid-Autumn 09-25..27 and National Day 10-01..07 2026, make-up 09-20 and 10-10.
        (D(2026, 9, 18), 1, D(2026, 9, 20)),
        (D(2026, 9, 24), 1, D(2026, 9, 28)),
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 9, 30), 3, D(2026, 10, 10)),
        (D(2026, 9, 30), 20, D(2026, 11, 3)),
        # Across the year end: 2026-01-01..03 off, Sunday 01-04 worked.
        (D(2025, 12, 31), 2, D(2026, 1, 5)),
        # Zero and backwards.
        (D(2025, 2, 1), 0, D(2025, 2, 1)),
        (D(2025, 2, 5), -1, D(2025, 1, 27)),
        (D(2026, 1, 5), -2, D(2025, 12, 31)),
    ],
)
def test_add_working_days(start: dt.date, n: int, expected: dt.date) -> None:
    assert CAL.add_working_days(start, n) == expected


def test_working_days_between() -> None:
    assert CAL.working_days_between(D(2025, 1, 24), D(2025, 2, 27)) == 20
    assert CAL.working_days_between(D(2025, 2, 27), D(2025, 1, 24)) == -20
    assert CAL.working_days_between(D(2025, 10, 1), D(2025, 10, 8)) == 0
    assert CAL.working_days_between(D(2025, 12, 31), D(2026, 1, 5)) == 2
    assert CAL.working_days_between(D(2025, 3, 3), D(2025, 3, 3)) == 0
    assert CAL.working_days_between(D(2025, 1, 1), D(2026, 12, 31)) == sum(
        1 for i in range(1, 730) if chinese_calendar.is_workday(D(2025, 1, 1) + dt.timedelta(i))
    )


def test_next_working_day_and_on_or_after() -> None:
    assert CAL.next_working_day(D(2025, 9, 30)) == D(2025, 10, 9)
    assert CAL.next_working_day(D(2025, 12, 31)) == D(2026, 1, 4)
    assert CAL.on_or_after(D(2026, 10, 3)) == D(2026, 10, 8)
    assert CAL.on_or_after(D(2026, 10, 8)) == D(2026, 10, 8)


def test_module_functions_use_the_package_calendar() -> None:
    assert cal_module.is_working_day(D(2025, 1, 26))
    assert cal_module.add_working_days(D(2025, 1, 24), 20) == D(2025, 2, 27)
    assert cal_module.working_days_between(D(2025, 1, 24), D(2025, 2, 27)) == 20
    assert cal_module.next_working_day(D(2025, 1, 24)) == D(2025, 1, 26)


@given(
    start=st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 10, 31)),
    n=st.integers(min_value=0, max_value=40),
)
@settings(max_examples=200, deadline=None)
def test_add_and_between_agree_with_package(start: dt.date, n: int) -> None:
    expected, counted = start, 0
    while counted < n:  # the definition, day by day, on the package's own predicate
        expected += dt.timedelta(days=1)
        counted += chinese_calendar.is_workday(expected)
    assert CAL.add_working_days(start, n) == expected
    assert CAL.working_days_between(start, expected) == n


# -- limits of the package's data -------------------------------------------------------------


def test_known_years_are_the_package_years() -> None:
    assert min(CAL.known_years) == 2004
    assert max(CAL.known_years) == max(chinese_calendar.holidays).year == 2026


def test_date_beyond_known_years_is_a_clear_error() -> None:
    with pytest.raises(InspectError) as err:
        CAL.is_working_day(D(2027, 3, 1))
    message = str(err.value)
    assert f"chinesecalendar {chinese_calendar.__version__}" in message
    assert "2004–2026" in message and "2027-03-01" in message
    assert "add the year's holidays in settings" in message
    with pytest.raises(InspectError, match="2003"):
        CAL.is_working_day(D(2003, 12, 31))


def test_counting_into_an_unknown_year_is_a_clear_error() -> None:
    with pytest.raises(InspectError, match=r"2027-01-01 is outside it \(counting 20 working days from 2026-12-20\)"):
        CAL.add_working_days(D(2026, 12, 20), 20)
    with pytest.raises(InspectError, match="2027"):
        CAL.working_days_between(D(2026, 12, 1), D(2027, 1, 10))
    with pytest.raises(InspectError):
        CAL.add_working_days(D(2027, 1, 5), 0)


# -- configuration -----------------------------------------------------------------------------


def test_extra_holiday_and_extra_workday() -> None:
    cal = WorkingCalendar(extra_holidays=[D(2025, 3, 5)], extra_workdays=["2025-03-08"])
    assert not cal.is_working_day(D(2025, 3, 5))  # a local holiday on a Wednesday
    assert cal.is_working_day(D(2025, 3, 8))  # a Saturday declared a working day
    # Tue 03-04 + 1: Wed is off, so Thu; + 3: Thu, Fri, Sat (worked).
    assert cal.add_working_days(D(2025, 3, 4), 1) == D(2025, 3, 6)
    assert cal.add_working_days(D(2025, 3, 4), 3) == D(2025, 3, 8)
    assert CAL.add_working_days(D(2025, 3, 4), 3) == D(2025, 3, 7)  # default calendar unchanged


def test_listing_a_years_holidays_makes_the_year_known() -> None:
    # A bureau types next year's arrangement before the package ships it (dates illustrative).
    cal = WorkingCalendar(
        extra_holidays=[D(2027, 1, 1), D(2027, 2, 8), D(2027, 2, 9)],
        extra_workdays=[D(2027, 2, 6)],
    )
    assert 2027 in cal.known_years
    assert not cal.is_working_day(D(2027, 1, 1))  # Friday, holiday
    assert cal.is_working_day(D(2027, 2, 6))  # Saturday, make-up day
    assert not cal.is_working_day(D(2027, 2, 9))
    assert cal.is_working_day(D(2027, 3, 1))  # ordinary Monday
    assert cal.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    with pytest.raises(InspectError, match="2004–2027"):
        cal.is_working_day(D(2028, 3, 1))


def test_known_years_can_be_restricted() -> None:
    cal = WorkingCalendar(known_years=[2025])
    assert cal.is_working_day(D(2025, 1, 26))
    with pytest.raises(InspectError, match="knows 2025; 2026-01-05"):
        cal.is_working_day(D(2026, 1, 5))


def test_a_day_cannot_be_both_holiday_and_workday() -> None:
    with pytest.raises(InspectError, match="2025-03-05"):
        WorkingCalendar(extra_holidays=[D(2025, 3, 5)], extra_workdays=[D(2025, 3, 5)])


def test_fast_enough_for_100k_calls() -> None:
    cal = WorkingCalendar()
    days = [D(2025, 1, 1) + dt.timedelta(days=i % 700) for i in range(100_000)]
    began = time.perf_counter()
    for day in days:
        cal.is_working_day(day)
    for day in days[:50_000]:
        cal.add_working_days(day, 20)
    assert time.perf_counter() - began < 3.0
