"""Normalisation of text typed into spreadsheets: full-width forms, stray spaces, odd blanks."""

from __future__ import annotations

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


def clean_cell(value: object) -> str:
    """A cell as text: None → '', invisible characters dropped, blanks collapsed and trimmed."""
    if value is None:
        return ""
    s = str(value).translate(_INVISIBLE).translate(_SPACES).replace("\u3000", " ")
    s = " ".join(s.split())
    return unicodedata.normalize("NFC", s)


def clean_code(value: object) -> str:
    """An identifier-like cell: half-width, upper-case, every blank removed."""
    s = to_halfwidth(clean_cell(value))
    return "".join(s.split()).upper()
