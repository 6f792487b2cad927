"""Typesetting: GB/T 9704-2012 page geometry and the ReportLab flowables that set Chinese text on it.

It knows pages, lines, styles and tables — not notices: inspect_kit.publish.compose turns a NoticeDocument
into these flowables.

Imports ReportLab at module level: only the render path imports this module, so that
``import inspect_kit.publish`` stays light.

Text is laid out by this module, not by ReportLab's Paragraph: lines come from
``linebreak.break_lines`` (which keeps the 禁则), and each line is drawn with its own character
spacing so that 28 characters of 3号 fill the 156 mm measure (16 pt glyphs on a 15.8 pt grid,
as Word's document grid does) and justified lines end flush right.

One module over 400 lines on purpose: the page geometry, the lines drawn and the flowables share one
character grid and one set of font metrics, and must change together.
"""

from __future__ import annotations

import bisect
import io
import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reportlab import rl_config
from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from inspect_kit.errors import InspectError
from inspect_kit.publish.fonts import Face, FontSet, Role
from inspect_kit.publish.linebreak import break_lines, glue, tokens

MM = 72 / 25.4
RED = Color(0.9, 0.0, 0.0)
_FUZZ = 1e-6
_BUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class PageGeometry:
    """Page and type sizes; the defaults are GB/T 9704-2012's (lengths in mm, sizes in pt)."""

    page_width_mm: float = 210.0
    page_height_mm: float = 297.0
    top_margin_mm: float = 37.0
    left_margin_mm: float = 28.0
    block_width_mm: float = 156.0
    block_height_mm: float = 225.0
    lines_per_page: int = 22
    chars_per_line: int = 28
    body_size: float = 16.0  # 3号
    title_size: float = 22.0  # 2号
    page_number_size: float = 14.0  # 4号
    page_number_gap_mm: float = 7.0  # from the text block's lower edge to the number's em box
    table_size: float = 10.5  # 五号: tables of thousands of rows need a smaller face

    @property
    def page_size(self) -> tuple[float, float]:
        return self.page_width_mm * MM, self.page_height_mm * MM

    @property
    def block_left(self) -> float:
        return self.left_margin_mm * MM

    @property
    def block_width(self) -> float:
        return self.block_width_mm * MM

    @property
    def block_top(self) -> float:
        return (self.page_height_mm - self.top_margin_mm) * MM

    @property
    def block_bottom(self) -> float:
        return self.block_top - self.block_height_mm * MM

    @property
    def line_pitch(self) -> float:
        """Baseline-to-baseline distance that puts exactly ``lines_per_page`` lines in the block."""
        return self.block_height_mm * MM / self.lines_per_page

    @property
    def char_pitch(self) -> float:
        """Advance of one body character that puts exactly ``chars_per_line`` on a line."""
        return self.block_width / self.chars_per_line

    @property
    def body_letter_spacing(self) -> float:
        return self.char_pitch - self.body_size

    def page_number_baseline(self, face: Face) -> float:
        """Baseline for the page number: its em box top lies ``page_number_gap_mm`` below the block.

        The em box is [baseline + descent, baseline + descent + size], as PDF readers compute a
        CJK glyph's box from the font descriptor.
        """
        size = self.page_number_size
        return self.block_bottom - self.page_number_gap_mm * MM - size * (1 + face.descent / 1000)

    def page_number_x(self, page: int, text_width: float) -> float:
        """Odd pages right, even pages left, each one character (of the number's size) in."""
        inset = self.page_number_size
        if page % 2:
            return self.block_left + self.block_width - inset - text_width
        return self.block_left + inset


def page_number_text(page: int) -> str:
    return f"— {page} —"


@dataclass(frozen=True)
class TextStyle:
    role: Role
    size: float
    leading: float
    letter_spacing: float = 0.0
    align: str = "justify"  # justify | left | center | right
    left_indent: float = 0.0  # every line
    first_indent: float = 0.0  # added to the first line only (negative for a hanging indent)
    right_indent: float = 0.0
    color: Color | None = None


@dataclass(frozen=True)
class Line:
    runs: list[tuple[Face, str]]
    x: float  # offset from the flowable's left edge
    char_space: float


class _Advances(dict):
    """char → advance in pt for one role, size and letter spacing; a dict so lookups stay in C."""

    def __init__(self, fonts: FontSet, role: Role, size: float, spacing: float):
        super().__init__()
        self.fonts, self.role, self.size, self.spacing = fonts, role, size, spacing

    def __missing__(self, char: str) -> float:
        width = self[char] = self.fonts.face_for(char, self.role).advance(char, self.size) + self.spacing
        return width


class Typesetter:
    """Measures and breaks text for one FontSet, caching character widths."""

    def __init__(self, fonts: FontSet):
        self.fonts = fonts
        self._widths: dict[tuple[Role, float, float], Callable[[str], float]] = {}

    def char_width(self, role: Role, size: float, spacing: float) -> Callable[[str], float]:
        """A function char → advance (font size and letter spacing included), memoised."""
        key = (role, size, spacing)
        if key not in self._widths:
            self._widths[key] = _Advances(self.fonts, role, size, spacing).__getitem__
        return self._widths[key]

    def width(self, text: str, style: TextStyle) -> float:
        """Width of ``text`` on one line, counting the letter spacing after every character."""
        measure = self.char_width(style.role, style.size, style.letter_spacing)
        if "\n" in text:
            return max(sum(map(measure, line)) for line in text.split("\n"))
        return sum(map(measure, text))

    def lines(self, text: str, style: TextStyle, width: float) -> list[Line]:
        measure = self.char_width(style.role, style.size, style.letter_spacing)
        avail = width - style.left_indent - style.right_indent
        if "\r" in text or "\t" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        if "\n" not in text:
            natural = sum(map(measure, text))
            if natural <= avail - style.first_indent + _FUZZ:  # the common one-line table cell
                return [
                    self._place(
                        text.strip(" "),
                        style,
                        style.left_indent + style.first_indent,
                        avail - style.first_indent,
                        False,
                        measure,
                    )
                ]
        out: list[Line] = []
        for hard_line in text.split("\n"):
            first = not out
            first_width = avail - style.first_indent if first else avail
            broken = break_lines(hard_line, avail, measure, first_line_width=first_width)
            if style.align == "center" and len(broken) > 1:
                broken = self._balanced(hard_line, avail, measure, len(broken))
            for k, chars in enumerate(broken):
                indent = style.left_indent + (style.first_indent if first and k == 0 else 0.0)
                line_avail = first_width if first and k == 0 else avail
                last = k == len(broken) - 1
                out.append(self._place(chars, style, indent, line_avail, not last, measure))
        return out

    @staticmethod
    def _balanced(text: str, avail: float, measure: Callable[[str], float], count: int) -> list[str]:
        """The same number of lines, as even as possible: a centred title reads as a block
        (GB/T 9704 asks for 梯形 or 菱形), not a full line over a stub."""
        low, high = avail / count, avail
        for _ in range(12):  # bisect the narrowest measure that still needs only ``count`` lines
            middle = (low + high) / 2
            if len(break_lines(text, middle, measure)) <= count:
                high = middle
            else:
                low = middle
        return break_lines(text, high, measure)

    def _place(
        self, chars: str, style: TextStyle, indent: float, avail: float, justify: bool, measure: Callable[[str], float]
    ) -> Line:
        spacing = style.letter_spacing
        natural = sum(map(measure, chars))
        if style.align == "justify" and justify and len(chars) > 1:
            extra = (avail - natural) / (len(chars) - 1)
            # A line cut short by an unbreakable code stays ragged rather than gap-toothed.
            if 0 < extra <= style.size * 0.5:
                spacing += extra
        visible = natural - style.letter_spacing * len(chars) + spacing * max(len(chars) - 1, 0)
        x = indent
        if style.align == "center":
            x += (avail - visible) / 2
        elif style.align == "right":
            x += avail - visible
        return Line(self.fonts.runs(chars, style.role), x, spacing)


class TextBlock(Flowable):
    """A paragraph set line by line on a fixed leading; splits between lines across pages."""

    def __init__(self, setter: Typesetter, text: str, style: TextStyle, lines: list[Line] | None = None):
        super().__init__()
        self.setter, self.text, self.style = setter, text, style
        self._lines = lines  # given: the part of a split paragraph, already laid out
        self._laid_width: float | None = None

    def lines_for(self, width: float) -> list[Line]:
        if self._lines is None or (self.text and self._laid_width != width):
            self._lines = self.setter.lines(self.text, self.style, width)
            self._laid_width = width
        return self._lines

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        self.height = len(self.lines_for(avail_width)) * self.style.leading
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        lines = self.lines_for(avail_width)
        fit = int((avail_height + _FUZZ) // self.style.leading)
        if fit <= 0:
            return []
        if fit >= len(lines):
            return [self]
        return [
            TextBlock(self.setter, "", self.style, lines[:fit]),
            TextBlock(self.setter, "", self.style, lines[fit:]),
        ]

    def draw(self) -> None:
        style, canv = self.style, self.canv
        descent = self.setter.fonts.face(style.role).descent / 1000
        canv.saveState()
        if style.color is not None:
            canv.setFillColor(style.color)
        for i, line in enumerate(self._lines or []):
            # Centre the em box in the line's slot, as a word processor's document grid does.
            top = self.height - i * style.leading
            baseline = top - style.leading / 2 - (0.5 + descent) * style.size
            draw_runs(canv, line.runs, line.x, baseline, style.size, line.char_space)
        canv.restoreState()


def draw_runs(
    canv: Canvas, runs: Sequence[tuple[Face, str]], x: float, y: float, size: float, char_space: float = 0.0
) -> None:
    text = canv.beginText(x, y)
    text.setCharSpace(char_space)
    for face, chars in runs:
        text.setFont(face.name, size)
        text.textOut(chars)
    canv.drawText(text)


class HorizontalRule(Flowable):
    """The red separator line under a letterhead."""

    def __init__(self, thickness: float, color: Color, space_above: float):
        super().__init__()
        self.thickness, self.color, self.space_above = thickness, color, space_above

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, self.space_above + self.thickness

    def draw(self) -> None:
        self.canv.saveState()
        self.canv.setStrokeColor(self.color)
        self.canv.setLineWidth(self.thickness)
        y = self.thickness / 2
        self.canv.line(0, y, self.width, y)
        self.canv.restoreState()


TABLE_PAD_X = 3.0  # cell padding, pt
TABLE_PAD_Y = 2.0
TABLE_RULE = 0.5
TABLE_LEADING = 1.4  # times the table's font size


@dataclass
class TableData:
    """A table laid out once: every cell broken into lines, every row's height known."""

    col_widths: list[float]
    size: float
    leading: float
    header: list[list[Line]]  # per cell, its lines
    header_height: float
    rows: list[list[list[Line]]]
    row_tops: list[float]  # cumulative row heights: row i spans row_tops[i]..row_tops[i + 1]
    head_descent: float  # of the heading and body faces, 1/1000 em: places baselines
    body_descent: float


def lay_out_table(
    setter: Typesetter,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    col_widths: list[float],
    aligns: Sequence[str],
    size: float,
) -> TableData:
    leading = size * TABLE_LEADING
    head_styles = [TextStyle(Role.HEADING, size, leading, align="center")] * len(columns)
    body_styles = [TextStyle(Role.BODY, size, leading, align=a) for a in aligns]
    inner = [w - 2 * TABLE_PAD_X for w in col_widths]

    def row_of(texts: Sequence[str], styles: Sequence[TextStyle]) -> tuple[list[list[Line]], float]:
        cells = [setter.lines(t, s, w) for t, s, w in zip(texts, styles, inner)]
        return cells, max(len(c) for c in cells) * leading + 2 * TABLE_PAD_Y

    header, header_height = row_of(columns, head_styles)
    body, heights = [], []
    for row in rows:
        cells, height = row_of(row, body_styles)
        body.append(cells)
        heights.append(height)
    fonts = setter.fonts
    return TableData(
        col_widths,
        size,
        leading,
        header,
        header_height,
        body,
        [0.0, *itertools.accumulate(heights)],
        fonts.heading.descent,
        fonts.body.descent,
    )


class PagedTable(Flowable):
    """Rows ``start``..``end`` of a long table, splitting by rows and repeating the header row.

    Row heights are known in advance, so a split finds the last row that fits by bisection:
    linear in rows, where a 10,000-row ReportLab Table left to split itself re-measures the
    remaining rows on every page. Each page's part is drawn directly (one grid, one text
    object), several times faster than a ReportLab Table of cell flowables.
    """

    def __init__(self, data: TableData, where: str, start: int = 0, end: int | None = None):
        super().__init__()
        self.data, self.where, self.start = data, where, start
        self.end = len(data.rows) if end is None else end
        self.hAlign = "CENTER"

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        tops = self.data.row_tops
        self.width = sum(self.data.col_widths)
        self.height = self.data.header_height + tops[self.end] - tops[self.start]
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        tops = self.data.row_tops
        limit = tops[self.start] + avail_height - self.data.header_height + _FUZZ
        end = min(bisect.bisect_right(tops, limit) - 1, self.end)  # last row boundary that fits
        if end <= self.start:
            frame = getattr(self, "_frame", None)
            if frame is not None and getattr(frame, "_atTop", False):
                raise InspectError(
                    f"{self.where}, row {self.start + 1}: the row is taller than a page; shorten its text"
                )
            return []
        if end >= self.end:
            return [self]
        return [PagedTable(self.data, self.where, self.start, end), PagedTable(self.data, self.where, end, self.end)]

    def draw(self) -> None:
        data, tops, canv = self.data, self.data.row_tops, self.canv
        rows = [(data.header, data.header_height, data.head_descent)]
        rows += [(data.rows[i], tops[i + 1] - tops[i], data.body_descent) for i in range(self.start, self.end)]
        xs = [0.0, *itertools.accumulate(data.col_widths)]
        ys = [self.height]
        for _, height, _ in rows:
            ys.append(ys[-1] - height)
        canv.saveState()
        canv.setLineWidth(TABLE_RULE)
        canv.grid(xs, ys)
        text = canv.beginText()
        font = None
        for (cells, height, descent), top in zip(rows, ys):
            for lines, x in zip(cells, xs):
                # Centre the cell's lines vertically; each line's em box centred in its leading.
                first_top = top - (height - len(lines) * data.leading) / 2
                for k, line in enumerate(lines):
                    baseline = first_top - (k + 0.5) * data.leading - (0.5 + descent / 1000) * data.size
                    text.setTextOrigin(x + TABLE_PAD_X + line.x, baseline)
                    text.setCharSpace(line.char_space)
                    for face, chars in line.runs:
                        if face.name != font:
                            text.setFont(face.name, data.size)
                            font = face.name
                        text.textOut(chars)
        canv.drawText(text)
        canv.restoreState()


def auto_col_widths(
    setter: Typesetter, columns: Sequence[str], rows: Sequence[Sequence[str]], total: float, size: float
) -> list[float]:
    """Share ``total`` between columns so that short columns never wrap and long ones wrap least.

    Each column needs ``most`` (its widest cell on one line) and at least ``least`` (its widest
    unbreakable piece: a 统一社会信用代码, a date, two characters of the header). Columns whose
    ``most`` fits an equal share of what is left get it, repeatedly; the remaining columns share
    the rest as HTML's automatic table layout does: ``least`` plus a part of the difference.
    """
    head = TextStyle(Role.HEADING, size, size)
    measure = setter.char_width(Role.BODY, size, 0.0)
    pad = 2 * TABLE_PAD_X
    most = [setter.width(c, head) for c in columns]
    least = [setter.width(c[:2], head) for c in columns]
    for row in rows:
        for j, text in enumerate(row):
            w = sum(map(measure, text))
            if w > most[j]:
                most[j] = w
            if w > least[j]:  # only a cell wider than the current minimum can hold a wider piece
                least[j] = max(least[j], *(sum(map(measure, u)) for u in glue(tokens(text))))
    most = [min(m + pad, total) for m in most]
    least = [min(m + pad, total * 0.4) for m in least]
    if sum(most) <= total:
        return [m * total / sum(most) for m in most]
    widths: dict[int, float] = {}
    while True:
        free = [j for j in range(len(columns)) if j not in widths]
        left = total - sum(widths.values())
        settled = {j: most[j] for j in free if most[j] <= left / len(free)}
        if not settled:
            break
        widths.update(settled)
    low, high = sum(least[j] for j in free), sum(most[j] for j in free)
    for j in free:
        widths[j] = (
            least[j] * left / low if low >= left else least[j] + (most[j] - least[j]) * (left - low) / (high - low)
        )
    return [widths[j] for j in range(len(columns))]


def build_pdf(story: list[Flowable], fonts: FontSet, geometry: PageGeometry) -> bytes:
    """Lay ``story`` out on GB/T 9704 pages with page numbers; deterministic bytes."""
    out = io.BytesIO()
    size = geometry.page_number_size

    def number_page(canv: Canvas, doc: BaseDocTemplate) -> None:
        page = canv.getPageNumber()
        runs = fonts.runs(page_number_text(page), Role.BODY)
        width = sum(face.advance(c, size) for face, chars in runs for c in chars)
        canv.saveState()
        draw_runs(canv, runs, geometry.page_number_x(page, width), geometry.page_number_baseline(fonts.body), size)
        canv.restoreState()

    # A hair of slack so that 22 lines of pitch 225 mm / 22 fit despite rounding.
    frame = Frame(
        geometry.block_left,
        geometry.block_bottom - 0.01,
        geometry.block_width,
        geometry.block_height_mm * MM + 0.01,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="block",
    )
    # invariant=1: no time stamps, fixed /ID and subset names, hence byte-identical rebuilds.
    # initialFontName: otherwise every page references an unembedded Helvetica it never uses.
    doc = BaseDocTemplate(
        out,
        pagesize=geometry.page_size,
        invariant=1,
        pageCompression=1,
        initialFontName=fonts.body.name,
        initialFontSize=geometry.body_size,
        lang="zh-CN",
        leftMargin=geometry.block_left,
        topMargin=geometry.top_margin_mm * MM,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=number_page)])
    # ASCII85 on top of Flate only makes streams 25% bigger and costs time; it is a global
    # switch in ReportLab, so set it for this build only, under a lock so that a concurrent
    # render cannot see it flip (which would change its bytes).
    with _BUILD_LOCK:
        saved = rl_config.useA85
        rl_config.useA85 = 0
        try:
            doc.build(story)
        finally:
            rl_config.useA85 = saved
    return out.getvalue()
