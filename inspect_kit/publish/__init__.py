"""Public notices (公示 / 公告) as PDF laid out per GB/T 9704-2012.

Build a ``NoticeDocument`` from plain dataclasses and call ``render``; ReportLab and pypdf are imported
only when rendering, so importing this package stays cheap.
"""

from inspect_kit.publish.document import (
    Attachment,
    NoticeDocument,
    Section,
    Table,
    attach,
    chinese_date,
    chinese_numeral,
    doc_number,
    embedded_files,
    heading_number,
    render,
)
from inspect_kit.publish.fonts import FontConfig, FontError, FontSpec, MissingGlyph, MissingGlyphError

__all__ = [
    "Attachment",
    "FontConfig",
    "FontError",
    "FontSpec",
    "MissingGlyph",
    "MissingGlyphError",
    "NoticeDocument",
    "Section",
    "Table",
    "attach",
    "chinese_date",
    "chinese_numeral",
    "doc_number",
    "embedded_files",
    "heading_number",
    "render",
]
