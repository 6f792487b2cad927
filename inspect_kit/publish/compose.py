"""Composition: a NoticeDocument (inspect_kit.publish.document) as the typesetter's flowables, in the order
GB/T 9704-2012 prescribes — title, doc number, body sections with their tables, signature and date,
then the attachments on new pages. Typesetting itself is inspect_kit.publish.layout; the words of
the notices are inspect_kit.publish.notices and texts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

from reportlab.platypus import Flowable

from inspect_kit.errors import InspectError
from inspect_kit.publish.document import NoticeDocument, Section, Table
from inspect_kit.publish.fonts import FontSet, Role
from inspect_kit.publish.layout import (
    MM,
    RED,
    HorizontalRule,
    PagedTable,
    PageGeometry,
    TextBlock,
    TextStyle,
    Typesetter,
    auto_col_widths,
    lay_out_table,
)

QR_SIZE_MM = 32.0


def compose(notice: NoticeDocument, fonts: FontSet, geometry: PageGeometry) -> list[Flowable]:
    """The flowables of a NoticeDocument, in GB/T 9704 order."""
    from reportlab.platypus import CondPageBreak, PageBreak, Spacer

    from inspect_kit.publish.document import attachment_label, attachment_note_items, chinese_date

    setter = Typesetter(fonts)
    g, pitch, char = geometry, geometry.line_pitch, geometry.char_pitch
    body = TextStyle(Role.BODY, g.body_size, pitch, g.body_letter_spacing, "justify", first_indent=2 * char)
    flush = replace(body, first_indent=0.0, align="left")
    centred = replace(flush, align="center")
    heading = replace(body, role=Role.HEADING)
    title = TextStyle(Role.TITLE, g.title_size, pitch, 0.0, "center")
    story: list[Flowable] = []
    table_numbers = itertools.count(1)

    def add(text: str, style: TextStyle = body) -> None:
        story.append(TextBlock(setter, text, style))

    def blank() -> None:
        story.append(Spacer(0, pitch))

    def sections(items: Sequence[Section]) -> None:
        for section in items:
            if section.heading:
                story.append(CondPageBreak(3 * pitch))  # a heading never ends a page alone
                add(section.heading, heading if section.level == 1 else body)
            for text in section.paragraphs:
                add(text)
            if section.table is not None:
                story.extend(_table_flowables(setter, section.table, f"table {next(table_numbers)}", g, centred))
            for text in section.notes:
                add(text)
            if section.qr is not None:
                from inspect_kit.publish.qr import QRBlock

                story.extend([CondPageBreak(QR_SIZE_MM * MM + pitch), QRBlock(section.qr, QR_SIZE_MM)])

    if notice.letterhead:
        size = min(2 * g.title_size, g.block_width / max(len(notice.letterhead), 1))
        add(notice.letterhead, TextStyle(Role.TITLE, size, size * 1.3, 0.0, "center", color=RED))
        blank()
        if notice.doc_number:
            add(notice.doc_number, centred)
        story.append(HorizontalRule(1.0, RED, space_above=4 * MM))
        story.append(Spacer(0, 2 * pitch))  # the title sits two lines below the red rule
    add(notice.title, title)
    if notice.doc_number and not notice.letterhead:
        add(notice.doc_number, centred)
    blank()
    if notice.addressee:
        add(notice.addressee, flush)
    for text in notice.intro:
        add(text)
    sections(notice.sections)
    for text in notice.closing:
        add(text)
    if notice.attachments:
        blank()
        story.extend(_attachment_note(setter, attachment_note_items(notice), replace(body, first_indent=0.0), char))
    story.append(CondPageBreak(3 * pitch))
    blank()
    story.extend(_signature(setter, notice.signature or notice.issuer, chinese_date(notice.issue_date), flush, g))
    for i, attachment in enumerate(notice.attachments, 1):
        story.append(PageBreak())
        add(attachment_label(i, len(notice.attachments)), replace(heading, first_indent=0.0, align="left"))
        blank()
        add(attachment.title, title)
        blank()
        sections(attachment.sections)
    return story


def _table_flowables(
    setter: Typesetter, table: Table, where: str, g: PageGeometry, caption_style: TextStyle
) -> list[Flowable]:
    from reportlab.platypus import Spacer

    from inspect_kit.publish.document import cell_text

    rows = [[cell_text(v) for v in row] for row in table.rows]
    columns = [cell_text(c) for c in table.columns]
    if table.col_widths_mm is not None:
        widths = [w * MM for w in table.col_widths_mm]
        if sum(widths) > g.block_width + 0.5 * MM:
            raise InspectError(
                f"{where}: column widths add up to {sum(table.col_widths_mm):.1f} mm, "
                f"more than the {g.block_width_mm:g} mm text block"
            )
    else:
        widths = auto_col_widths(setter, columns, rows, g.block_width, g.table_size)
    aligns = list(table.align) if table.align is not None else ["left"] * len(columns)
    out: list[Flowable] = []
    if table.caption:
        out.append(TextBlock(setter, table.caption, caption_style))
    else:
        out.append(Spacer(0, g.line_pitch / 4))
    out.append(PagedTable(lay_out_table(setter, columns, rows, widths, aligns, g.table_size), where))
    out.append(Spacer(0, g.line_pitch / 2))
    return out


def _attachment_note(setter: Typesetter, items: list[str], style: TextStyle, char: float) -> list[Flowable]:
    """附件说明: "附件：1.××" two characters in, later items and wrapped lines aligned after the number."""
    label = "附件："
    label_width = setter.width(label, style)
    numbered = len(items) > 1
    out: list[Flowable] = []
    for k, item in enumerate(items):
        number_width = setter.width(item.split(".", 1)[0] + ".", style) if numbered else 0.0
        indent = 2 * char + label_width + number_width
        if k == 0:
            out.append(
                TextBlock(
                    setter, label + item, replace(style, left_indent=indent, first_indent=-(label_width + number_width))
                )
            )
        else:
            out.append(TextBlock(setter, item, replace(style, left_indent=indent, first_indent=-number_width)))
    return out


def _signature(setter: Typesetter, signature: str, date: str, style: TextStyle, g: PageGeometry) -> list[Flowable]:
    """署名 two characters from the right; 成文日期 below, starting two characters right of it.

    If the date is the longer, the date keeps two characters from the right and the signature
    moves left so the two-character offset holds (GB/T 9704-2012 7.3.5.2).
    """
    right = g.block_width - 2 * g.char_pitch
    spacing = style.letter_spacing
    sig_width = setter.width(signature, style) - spacing  # the last glyph's spacing is not seen
    date_width = setter.width(date, style) - spacing
    sig_x = right - sig_width
    date_x = sig_x + 2 * g.char_pitch
    if date_x + date_width > right:
        date_x = right - date_width
        sig_x = date_x - 2 * g.char_pitch
    return [
        TextBlock(setter, signature, replace(style, left_indent=max(sig_x, 0.0))),
        TextBlock(setter, date, replace(style, left_indent=max(date_x, 0.0))),
    ]
