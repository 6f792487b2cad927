import datetime as dt

import pytest

from inspect_kit.text import clean_cell, clean_code, parse_date, to_halfwidth


def test_fullwidth_digits_letters_and_spaces():
    assert to_halfwidth("９１３６０１ＡＢ") == "913601AB"
    assert clean_code(" ９１３６　０１ab ") == "913601AB"
    assert clean_cell("  青山县\u3000 某某\u200b公司 ") == "青山县 某某公司"
    assert clean_cell(None) == ""


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-05",
        "2026/1/5",
        "2026.1.5",
        "2026年1月5日",
        "２０２６年１月５日",
        "20260105",
        "2026-01-05 00:00:00",
        dt.datetime(2026, 1, 5, 0, 0),
        dt.date(2026, 1, 5),
    ],
)
def test_dates_as_people_type_them(text):
    assert parse_date(text) == dt.date(2026, 1, 5)


@pytest.mark.parametrize("text", ["2026-02-30", "5/1/2026", "next tuesday", "2026-13-01"])
def test_bad_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_empty_date_is_none():
    assert parse_date("  ") is None


def test_refused_characters_are_exactly_the_documented_ones():
    """Every code point of the BMP is checked against the documented rule (inspect_kit.text)."""
    from inspect_kit.text import REFUSED_TEXT, text_problem

    bidi = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
    for cp in range(0x10000):
        ch = chr(cp)
        control = (cp < 0x20 and ch not in "\t\n\r") or 0x7F <= cp <= 0x9F
        expected = control or cp in bidi or 0xD800 <= cp <= 0xDFFF
        assert (REFUSED_TEXT.search(ch) is not None) == expected, hex(cp)
    assert text_problem("第一行\n第二行\t制表\r\n") is None and text_problem(12) is None and text_problem(None) is None
    assert "U+0000 (NUL)" in text_problem("a\x00b")
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in text_problem("abc\u202e")
    assert "unpaired surrogate U+DCE9" in text_problem("caf\udce9")  # an undecodable byte from argv


def test_refused_characters_are_found_in_a_joined_block():
    """The readers test a block of cells joined by line feeds with one search: a line feed joins
    nothing refused, and every refused character is still found."""
    from inspect_kit.text import REFUSED_TEXT

    assert REFUSED_TEXT.search("\n".join(["青山县", "Acme Ltd", "第一行\n第二行", ""])) is None
    assert REFUSED_TEXT.search("\n".join(["青山县", "x\u2067y", ""])).group() == "\u2067"
