"""Chinese line breaking with the basic 禁则 (kinsoku) rules.

ReportLab's ``wordWrap='CJK'`` lets a line start with "，" or end with "（", which official
documents never do, so the engine lays out its own lines with this pure function.

Rules kept:
- no line starts with closing punctuation (，。、；：？！）》」』】〕” and the like);
- no line ends with opening punctuation (（《「『【〔“ and the like);
- "——" (破折号) and "……" (省略号) are never split across lines;
- runs of Latin letters and digits (a 统一社会信用代码, a date "2026-01-05", a URL) stay whole
  unless one run alone is wider than the line.

When a closing mark would start a line, the character before it moves down with it (推出), so
the previous line ends a little short; the renderer then spreads the remaining lines' characters
to fill the measure, as Chinese word processors do.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

# Marks that must not begin a line: they close something or hang on what comes before.
CLOSING = frozenset("，。、；：？！）》」』】〕〗〙〉］｝”’…‥·・％‰℃°,.;:?!)]}%")
# Marks that must not end a line: they open something or belong to what follows.
OPENING = frozenset("（《「『【〔〖〘〈［｛“‘￥([{$£€¥")
# Marks written doubled that read as one sign and may not be split.
DOUBLED = frozenset("—…")

_EPSILON = 1e-6


def is_wide(char: str) -> bool:
    """True for characters set on the CJK grid, where a line may break on either side."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def tokens(text: str) -> list[str]:
    """Split one line of text into atoms: a wide char, a doubled mark, a Latin run, or a space."""
    atoms: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == " ":
            j = i + 1
        elif char in DOUBLED and i + 1 < len(text) and text[i + 1] == char:
            j = i + 2
        elif is_wide(char) or char in DOUBLED:
            j = i + 1
        else:  # a run of narrow non-space characters reads as one word
            j = i + 1
            while j < len(text) and text[j] != " " and not is_wide(text[j]) and text[j] not in DOUBLED:
                j += 1
        atoms.append(text[i:j])
        i = j
    return atoms


def glue(atoms: list[str]) -> list[str]:
    """Join atoms that may not be separated by a line break into unbreakable units."""
    units: list[str] = []
    join_next = False
    for atom in atoms:
        closes = atom != " " and atom[0] in CLOSING
        if closes and len(units) >= 2 and units[-1] == " " and units[-2] != " ":
            space = units.pop()  # "word ，": the space may not become the break
            units[-1] += space + atom
        elif units and (join_next or closes):
            units[-1] += atom  # a space after an opening mark joins too: "（ 甲" keeps together
        else:
            units.append(atom)
        if atom != " ":
            join_next = atom[-1] in OPENING
    return units


def break_lines(
    text: str,
    width: float,
    char_width: Callable[[str], float],
    first_line_width: float | None = None,
) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (``first_line_width`` for the first).

    ``char_width`` gives the advance of one character (font size and letter spacing included).
    A newline in ``text`` forces a break. ASCII spaces are break opportunities and are dropped
    at a line's ends; U+3000 (全角空格) is an ordinary character. Returns at least one line
    (possibly empty).
    """
    lines: list[str] = []
    for hard_line in text.split("\n"):
        available = first_line_width if (first_line_width is not None and not lines) else width
        lines.extend(_fill(glue(tokens(hard_line)), width, available, char_width))
    return lines


def _fill(units: list[str], width: float, first: float, char_width: Callable[[str], float]) -> list[str]:
    """Greedy fill: put each unit on the current line if it fits, else start a new line."""
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    limit = first

    def flush() -> None:
        nonlocal current, used, limit
        lines.append("".join(current).rstrip(" "))
        current, used, limit = [], 0.0, width

    for unit in units:
        if unit == " " and not current:
            continue  # a line never starts with a space
        unit_width = sum(map(char_width, unit))
        if used + unit_width <= limit + _EPSILON:
            current.append(unit)
            used += unit_width
            continue
        if unit == " ":
            flush()  # the break happens at the space, which is dropped
            continue
        if unit_width <= width + _EPSILON:
            if current:
                flush()
            current, used = [unit], unit_width
            continue
        # A unit wider than any line (a hash, a URL) cannot avoid a cut: start it here, cut it
        # by characters, rather than leave a short line before it.
        for char in unit:
            w = char_width(char)
            if current and used + w > limit + _EPSILON:
                flush()
            current.append(char)
            used += w
    if current or not lines:
        lines.append("".join(current).rstrip(" "))
    return lines


def check_line_rules(lines: list[str]) -> list[str]:
    """Describe every 禁则 violation in ``lines`` (empty list when all is well); for tests."""
    problems = []
    for n, line in enumerate(lines, 1):
        if n > 1 and line and line[0] in CLOSING:
            problems.append(f"line {n} starts with {line[0]!r}")
        if n < len(lines) and line and line[-1] in OPENING:
            problems.append(f"line {n} ends with {line[-1]!r}")
        if n < len(lines) and line and lines[n] and line[-1] in DOUBLED and lines[n][0] == line[-1]:
            run = len(line) - len(line.rstrip(line[-1]))
            if run % 2:  # an odd run at the end means one mark of a pair went to the next line
                problems.append(f"line {n} splits {line[-1] * 2!r}")
    return problems
