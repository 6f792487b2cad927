"""Normalisation of text typed into spreadsheets: full-width forms, stray spaces, odd blanks.

One rule for every text field (every cell of every file a reader reads, every command-line value):
characters that are never part of honest text are REFUSED, with a message naming where they are
(`text_problem`, `check_text`): the C0 controls except tab, line feed and carriage return (so NUL,
ESC, vertical tab, form feed...), DEL and the C1 controls U+0080–U+009F, the bidirectional-text
controls that reorder what a reader sees (embeddings and overrides U+202A–U+202E, isolates
U+2066–U+2069, the marks U+200E, U+200F and U+061C), and unpaired surrogates (bytes that were not
valid text). Tab and line breaks are allowed: multi-line notes keep working, and `clean_cell`
turns them into single spaces. Invisible formatting characters that change nothing a reader sees
(zero-width space and joiners, word joiner, BOM, soft hyphen) are STRIPPED by `clean_cell`, as are
stray blanks.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Sequence

# Full-width ASCII variants (U+FF01..U+FF5E) map to ASCII by a fixed offset; the ideographic
# space U+3000 becomes a plain space. NFKC would do this too but also rewrites CJK compatibility
# ideographs and circled digits in names, which must stay as the registry wrote them.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = {0x00A0: 0x20, 0x2002: 0x20, 0x2003: 0x20, 0x2009: 0x20, 0x202F: 0x20}


def to_halfwidth(s: str) -> str:
    """Full-width digits, letters and ASCII punctuation to their ASCII forms."""
    return s.translate(_FULLWIDTH)


# Anything that needs cleaning: any white space (\s covers U+3000, U+00A0 ...) or an invisible.
_NEEDS_CLEANING = re.compile("[\\s\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def clean_cell(value: object) -> str:
    """A cell as text: None → '', invisible characters dropped, blanks collapsed and trimmed."""
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    # Fast path: most cells of a million-row file need nothing done.
    if not _NEEDS_CLEANING.search(s) and (s.isascii() or unicodedata.is_normalized("NFC", s)):
        return s
    s = s.translate(_INVISIBLE).translate(_SPACES).replace("\u3000", " ")
    s = " ".join(s.split())
    return unicodedata.normalize("NFC", s)


# Every character but the space for which str.isspace() is true (so \s and str.split() agree);
# tests/test_registry_import.py checks the list against the running Python's Unicode data.
WHITE_SPACE_BUT_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_BLANK_OR_INVISIBLE = re.compile("[" + re.escape(WHITE_SPACE_BUT_SPACE + "\u200b\u200c\u200d\u2060\ufeff\u00ad") + "]")


def clean_cells(cells: Sequence[str]) -> Sequence[str]:
    """[clean_cell(c) for c in cells] for a column of str cells, in one pass over the column when
    nothing needs cleaning (then `cells` itself is returned). TypeError if a cell is not a str."""
    # A cell that clean_cell returns unchanged has no white space but single spaces inside, no
    # invisible, and is NFC. The test runs on the cells joined by NUL: NUL is not white space and
    # no character composes with it, so the NFC of the join is the join of the cells' NFCs, and
    # every cell's first and last character stay visible next to a NUL.
    joined = "\x00".join(cells)
    if (
        not _BLANK_OR_INVISIBLE.search(joined)
        and not (
            " " in joined
            and ("  " in joined or joined[:1] == " " or joined[-1:] == " " or "\x00 " in joined or " \x00" in joined)
        )
        and (joined.isascii() or unicodedata.is_normalized("NFC", joined))
    ):
        return cells
    return list(map(clean_cell, cells))


# What no text field may hold (see the module docstring); one compiled pattern, so that a whole
# block of cells joined by "\n" is checked by one C-speed search.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
REFUSED_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _BIDI + "\ud800-\udfff]")
_CONTROL_NAMES = {
    0x00: "NUL",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x0B: "VERTICAL TAB",
    0x0C: "FORM FEED",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
    0x85: "NEXT LINE",
}


def refused_reason(ch: str) -> str:
    """Why the character `ch` (a match of REFUSED_TEXT) is refused, for a message."""
    cp = ord(ch)
    if 0xD800 <= cp <= 0xDFFF:
        return f"contains bytes that are not valid text (unpaired surrogate U+{cp:04X})"
    if cp >= 0x200:
        return (
            f"contains the bidirectional-text control U+{cp:04X} ({unicodedata.name(ch)}), which can make "
            "text display in a misleading order; remove it"
        )
    name = f" ({_CONTROL_NAMES[cp]})" if cp in _CONTROL_NAMES else ""
    return f"contains the control character U+{cp:04X}{name}; remove it"


def text_problem(value: object) -> str | None:
    """None if `value` (a str; anything else passes) may be stored as text, else the reason."""
    if type(value) is not str:
        return None
    m = REFUSED_TEXT.search(value)
    return None if m is None else refused_reason(m.group())


def check_text(value: object, where: str) -> None:
    """Raise InspectError("<where>: <reason>") if `value` holds a refused character."""
    why = text_problem(value)
    if why is not None:
        from inspect_kit.errors import InspectError

        raise InspectError(f"{where}: {why}")


def header_key(h: object) -> str:
    """A header as it is matched: blanks removed, half-width, lower-case, a trailing '*' dropped
    (Excel templates mark required columns that way)."""
    return to_halfwidth(clean_cell(h)).replace(" ", "").rstrip("*").lower()


def clean_code(value: object) -> str:
    """An identifier-like cell: half-width, upper-case, every blank removed."""
    s = to_halfwidth(clean_cell(value))
    return "".join(s.split()).upper()


_YMD_SYMBOL = re.compile(r"^(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})$")
_YMD_CHINESE = re.compile(r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?$")
_YMD_DIGITS = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_TIME_OF_DAY = re.compile(r"(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?$")  # str() of a datetime
_EXCEL_SERIALS = range(32874, 73051)  # 1990-01-01 .. 2099-12-31: any other number is not a date


def parse_date(value: object) -> dt.date | None:
    """A date as people type it, or None for an empty cell; ValueError with a reason otherwise.

    Accepts 2026-01-05, 2026/1/5, 2026.1.5, 2026年1月5日, 20260105, full-width digits, a trailing
    time of day, date/datetime cells, and Excel date serials (numbers in 1990–2099)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a date")
        if value == int(value) and _YMD_DIGITS.match(str(int(value))):
            return parse_date(str(int(value)))
        if value == int(value) and int(value) in _EXCEL_SERIALS:
            return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))  # Excel's day 1 is 1900-01-01
        raise ValueError(f"the number {value} is not a date")
    text = "".join(_TIME_OF_DAY.sub("", to_halfwidth(clean_cell(value))).split())
    if not text:
        return None
    match = _YMD_SYMBOL.match(text) or _YMD_CHINESE.match(text) or _YMD_DIGITS.match(text)
    if match is None:
        raise ValueError(f"cannot read {clean_cell(value)!r}: it is not a date (write it as 2026-03-05)")
    try:
        return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        raise ValueError(f"{clean_cell(value)!r} is not a real date") from None
