"""统一社会信用代码 (GB 32100-2015): 18 characters, the last a mod-31 check character.

Layout: 1 registration authority, 2 entity type, 3–8 administrative division code,
9–17 organisation code (GB 11714), 18 check character. The alphabet is the digits and the
capitals without I, O, Z, S, V (they read as digits); each character's value is its index.
The check character c18 makes  Σ value(c_i)·w_i + value(c18) ≡ 0 (mod 31),  w_i = 3^(i−1) mod 31.
"""

from __future__ import annotations

import re
from itertools import repeat
from operator import mod, mul, neg
from typing import Sequence

from inspect_kit.registry import fast_csv

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, ...
LENGTH = 18


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (which must be in the alphabet)."""
    if len(first17) != 17:
        raise ValueError(f"need 17 characters, got {len(first17)}")
    total = sum(map(mul, map(VALUE.__getitem__, first17), WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why `code` is not a valid USCC, or None if it is. Expects an already normalised code."""
    if len(code) != LENGTH:
        return f"统一社会信用代码 must have 18 characters, got {len(code)}"
    bad = sorted({c for c in code if c not in VALUE})
    if bad:
        return f"统一社会信用代码 contains characters outside GB 32100 ({''.join(bad)!r}; I, O, S, V, Z are never used)"
    if not code[2:8].isdigit():
        return f"统一社会信用代码 positions 3–8 must be the division code digits, got {code[2:8]!r}"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码 check character is {code[17]!r}, expected {expected!r}"
    return None


# is_valid uses C-speed string operations (a million codes per import): the shape by a pattern, the
# mod-31 sum by reading the 17 values as one base-34 number (34 ≡ 3 mod 31, so Σ v·34^i ≡ Σ v·3^i).
# It agrees with problem() (tests/test_registry_import.py checks it on random codes).
_SHAPE = re.compile(f"[{ALPHABET}]{{2}}[0-9]{{6}}[{ALPHABET}]{{10}}")
_BASE34 = str.maketrans({ch: "0123456789ABCDEFGHIJKLMNOPQRSTU"[v] for ch, v in VALUE.items()})


def is_valid(code: str) -> bool:
    """problem(code) is None, quickly."""
    return _SHAPE.fullmatch(code) is not None and ALPHABET[-int(code[16::-1].translate(_BASE34), 34) % 31] == code[17]


def with_check(first17: str) -> str:
    """Complete a 17-character prefix with its check character (for generated demo data)."""
    return first17 + check_character(first17)


_SHAPES = re.compile(f"(?:{_SHAPE.pattern}\n)*{_SHAPE.pattern}")


def all_valid(codes: Sequence[str]) -> bool:
    """all(map(is_valid, codes)), for a column of codes at once: one pattern match over the codes
    joined by newlines, one translation of the join read backwards; then a C-level int() and mod
    per code. Compiled where the C extension is built (registry.fast_csv)."""
    if fast_csv.active() and type(codes) is list:
        fast = fast_csv.uscc_all_valid(codes)
        if fast is not None:
            return fast
    if not codes:
        return True
    joined = "\n".join(codes)
    if len(joined) != (LENGTH + 1) * len(codes) - 1 or _SHAPES.fullmatch(joined) is None:  # a "\n" in a code
        return False
    back = joined[::-1]  # every code reversed, the last code first: check character, c17 … c1, "\n"
    digits = back.translate(_BASE34)
    sums = map(int, [digits[i : i + 17] for i in range(1, len(back), 19)], repeat(34))
    return "".join(map(ALPHABET.__getitem__, map(mod, map(neg, sums), repeat(31)))) == back[::19]
