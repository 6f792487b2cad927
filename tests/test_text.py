import datetime as dt

import pytest

from inspect_kit.text import clean_cell, clean_code, parse_date, to_halfwidth


def test_fullwidth_digits_letters_and_spaces():
    assert to_halfwidth("９１３６０１ＡＢ") == "913601AB"
    assert clean_code(" ９１３６　０１ab ") == "913601AB"
    assert clean_cell("  青山县\u3000 某某\u200b公司 ") == "青山县 某某公司"
    assert clean_cell(None) == ""


@pytest.mark.parametrize("text", ["2026-01-05", "2026/1/5", "2026.1.5", "2026年1月5日", "２０２６年１月５日", "20260105",
                                  "2026-01-05 00:00:00", dt.datetime(2026, 1, 5, 0, 0), dt.date(2026, 1, 5)])
def test_dates_as_people_type_them(text):
    assert parse_date(text) == dt.date(2026, 1, 5)


@pytest.mark.parametrize("text", ["2026-02-30", "5/1/2026", "next tuesday", "2026-13-01"])
def test_bad_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_empty_date_is_none():
    assert parse_date("  ") is None
