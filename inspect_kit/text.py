"""Normalisation of text typed into spreadsheets: full-width forms, stray spaces, odd blanks."""

from __future__ import annotations

import re
import unicodedata

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


def clean_code(value: object) -> str:
    """An identifier-like cell: half-width, upper-case, every blank removed."""
    s = to_halfwidth(clean_cell(value))
    return "".join(s.split()).upper()


_DATE_SEPARATORS = str.maketrans({"/": "-", ".": "-", "年": "-", "月": "-", "日": None, "号": None})


def parse_date(value: object):
    """A date as people type it: 2026-01-05, 2026/1/5, 2026.1.5, 2026年1月5日, 20260105,
    full-width digits, or a date/datetime cell from Excel. '' → None. Raises ValueError."""
    import datetime as dt

    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = to_halfwidth(clean_cell(value))
    if " " in s and ":" in s.rsplit(" ", 1)[1]:  # "2026-01-05 00:00:00" from a spreadsheet
        s = s.rsplit(" ", 1)[0]
    s = s.replace(" ", "")
    if not s:
        return None
    if s.isdigit() and len(s) == 8:
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    parts = s.translate(_DATE_SEPARATORS).strip("-").split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise ValueError(f"cannot read {value!r} as a date (use YYYY-MM-DD)")
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a real date ({exc})") from None
