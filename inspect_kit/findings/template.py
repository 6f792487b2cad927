"""The findings spreadsheet (检查结果录入表): writing the template, reading a filled-in file back.

No database here: `inspect_kit.findings.service` gathers the tasks and existing findings and hands
them over as plain rows; `read_findings_file` gives back plain rows for the service to validate.

Template layout (.xlsx): one sheet per matter, row 1 a title, row 2 the header, then one row per
current task. The first columns identify the task (任务编号, 单位名称, 统一社会信用代码, 所属乡镇,
检查组): they are references, ignored on import except 任务编号. The result columns carry the
Chinese headers of `validate.HEADER_KEYS`; 检查结果, 后续处置 and 整改状态 have drop-downs whose
lists sit on a hidden sheet (代码表) behind workbook names — Excel limits an inline list to 255
characters, which the category labels exceed. A drop-down offers one entry; several entries are
typed into the cell separated by "；" (the warning Excel shows then may be accepted). Date columns are
formatted yyyy-mm-dd. Existing findings are prefilled, so the sheet can be edited and re-imported.
A .csv template is one table with an extra 抽查事项 column. Every text cell is neutralised against
formula injection and restored on reading (`inspect_kit.spreadsheet`).

A matter with a checklist gets one column per item before 版本号, headed 检查项<code> and the item's
short content (检查项01 排污许可证执行情况), with a drop-down of 符合 / 不符合 / 不涉及; a note and
the problem category of a 不符合 item follow in the same cell (``不符合：台账不全：R05``, see
inspect_kit.findings.items); the .csv template has one 检查项<code> column per code of any of its
matters. On reading, a header starting with 检查项 gives the row key ``item:<code>``.

A hidden last column 版本号 holds each finding's latest revision id: importing a row whose finding
was changed since the file was written (and whose values differ) is refused as a conflict, so an old
file never silently reverts a later change. Files without that column are not checked.

Reading (.xlsx, .csv): every sheet whose header names a 任务编号 column is read (the hidden code
sheet and note sheets are skipped); unknown columns are ignored and listed; a row in which every
result column is blank (a task not inspected yet) is skipped. Files are read through
`inspect_kit.registry.tabular` (limits, encodings, refused characters); a task sheet with two
columns of the same header, or a file without any filled-in row, is refused.

One module over 400 lines on purpose: writing the template and reading it back must agree on one
layout (sheets, columns, the hidden 版本号 column) and change together.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspect_kit.errors import InspectError, Problem
from inspect_kit.findings.codes import DEFAULT_CODEBOOK, Codebook
from inspect_kit.findings.items import ITEM_RESULTS, item_code, item_key
from inspect_kit.findings.validate import HEADER_KEYS, key_for_header
from inspect_kit.spreadsheet import output_format, set_cell
from inspect_kit.text import clean_cell, to_halfwidth

if TYPE_CHECKING:
    from inspect_kit.registry.tabular import Table

__all__ = [
    "CANONICAL_HEADERS",
    "COLUMNS",
    "LISTS_SHEET",
    "REFERENCE_HEADERS",
    "ROW_KEYS",
    "STATUS_LABELS",
    "VERSION_HEADER",
    "FindingsFile",
    "SourceRow",
    "TemplateSheet",
    "read_findings_file",
    "write_template",
]

# Row keys in column order, and the header each is written (and reported) under.
ROW_KEYS: tuple[str, ...] = tuple(dict.fromkeys(HEADER_KEYS.values()))
CANONICAL_HEADERS: dict[str, str] = {}
for _header, _key in HEADER_KEYS.items():
    CANONICAL_HEADERS.setdefault(_key, _header)

# Declared rectification status → the label the template writes (all are read back by validate).
STATUS_LABELS = {"open": "整改中", "closed": "已整改", "overdue": "逾期"}
LISTS_SHEET = "代码表"
VERSION_HEADER = "版本号"


@dataclass(frozen=True)
class Column:
    header: str
    key: str  # a row key of validate, or a reference field (ref_*)
    kind: str = "text"  # text | date | category | follow_up | status | reference
    width: int = 14
    note: str = ""  # input message shown when the cell is selected

    @property
    def reference(self) -> bool:
        return self.kind == "reference"


# The template's columns. References come first; 任务编号 is both a reference and the key.
COLUMNS: tuple[Column, ...] = (
    Column("任务编号", "task_no", "reference", 26),
    Column("单位名称", "ref_entity_name", "reference", 30),
    Column("统一社会信用代码", "ref_identifier", "reference", 21),
    Column("所属乡镇", "ref_township", "reference", 10),
    Column("检查组", "ref_team", "reference", 16),
    Column("检查开始日期", "inspection_start", "date", 13, "检查开始日期，如 2026-03-05"),
    Column("检查结束日期", "inspection_end", "date", 13, "检查结束日期；当天完成的与开始日期相同"),
    Column("检查结果", "results", "category", 30, "从下拉列表选择；多项用“；”分隔"),
    Column("问题描述", "problems", "text", 36, "检查结果为发现问题时必填"),
    Column("后续处置", "follow_up", "follow_up", 18, "从下拉列表选择；多项用“；”分隔"),
    Column("整改期限", "rectification_deadline", "date", 13, "责令改正时必填，须晚于检查结束日期"),
    Column("整改状态", "rectification_status", "status", 10, "整改中 / 已整改 / 逾期；空白按日期计算"),
    Column("复查日期", "recheck_date", "date", 13, "已整改时必填"),
    Column("复查结果", "recheck_outcome", "text", 24),
    Column("立案号", "case_no", "text", 22, "立案查处时必填，如 青山县市监立〔2026〕12号"),
    Column("录入人", "recorded_by", "text", 10, "必填"),
    Column("备注", "notes", "text", 24),
    # The finding's latest revision when the file was written (hidden): an import refuses a row that
    # would overwrite a change made after that, instead of silently reverting it.
    Column(VERSION_HEADER, "revision", "version", 8),
)
MATTER_HEADER = "抽查事项"  # the extra reference column of a .csv template
REFERENCE_HEADERS = frozenset({c.header for c in COLUMNS if c.reference} | {MATTER_HEADER})
# Keys whose cells, all blank, mean "not filled in yet" (task_no and recorded_by may be prefilled).
_SUBSTANCE = frozenset(ROW_KEYS) - {"task_no", "recorded_by"}  # (revision is not a row key)
_DATE_KEYS = frozenset(
    {"inspection_date", "inspection_start", "inspection_end", "rectification_deadline", "recheck_date"}
)
_LIST_NAMES = {
    "category": "ResultCategories",
    "follow_up": "FollowUps",
    "status": "RectificationStatuses",
    "item": "ItemResults",
}


ITEM_HEADER = "检查项"
ITEM_NOTE = "符合 / 不符合 / 不涉及；可加“：说明”；不符合须加“：问题类别”，如 不符合：台账不全：R05"
_ITEM_HEADER = re.compile(rf"^{ITEM_HEADER}\s*([A-Za-z0-9_\-.]+)")


@dataclass
class TemplateSheet:
    """One matter's tasks; each row maps column keys (row keys, ref_* fields and ``item:CODE``) to
    values. ``items``: the matter's checklist as (code, content), one column each."""

    matter_code: str
    matter_name: str
    period: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    items: list[tuple[str, str]] = field(default_factory=list)


def item_column(code: str, content: str = "") -> Column:
    short = content.split("：")[0].strip()
    return Column(f"{ITEM_HEADER}{code}" + (f" {short}" if short else ""), item_key(code), "item", 18, ITEM_NOTE)


def sheet_columns(sheet: TemplateSheet) -> tuple[Column, ...]:
    """The columns of a matter's sheet: COLUMNS with one per checklist item before 版本号."""
    return COLUMNS[:-1] + tuple(item_column(c, t) for c, t in sheet.items) + COLUMNS[-1:]


def item_header_key(header: str) -> str | None:
    """``item:<code>`` for a header 检查项<code>[ …], else None."""
    m = _ITEM_HEADER.match(to_halfwidth(header).strip())
    return item_key(m.group(1)) if m else None


def _status_labels() -> list[str]:
    return list(STATUS_LABELS.values())


def write_template(path: Path | str, sheets: Sequence[TemplateSheet], codebook: Codebook = DEFAULT_CODEBOOK) -> int:
    """Write the template as .xlsx (one sheet per matter) or .csv (one table); returns task rows written."""
    path = Path(path)
    if output_format(path, ("xlsx", "csv")) == "csv":
        return _write_csv(path, sheets)
    if not sheets:
        raise InspectError("nothing to write: no tasks")
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    wb.remove(wb.worksheets[0])  # the empty default sheet
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    ref_fill = PatternFill("solid", fgColor="F2F2F2")
    bold = Font(bold=True)
    n = 0
    used_titles: set[str] = set()
    for sheet in sheets:
        ws = wb.create_sheet(_sheet_title(sheet.matter_code, used_titles))
        title = f"{sheet.matter_code} {sheet.matter_name} — {sheet.period} 检查结果录入表"
        set_cell(ws, 1, 1, title).font = Font(bold=True, size=12)
        cols = sheet_columns(sheet)
        for j, col in enumerate(cols, start=1):
            c = set_cell(ws, 2, j, col.header)
            c.font, c.fill = bold, header_fill
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            ws.column_dimensions[get_column_letter(j)].width = col.width
        first, last = 3, 2 + max(len(sheet.rows), 1)
        for i, row in enumerate(sheet.rows, start=first):
            for j, col in enumerate(cols, start=1):
                value = row.get(col.key)
                if value in (None, ""):
                    value = None
                c = set_cell(ws, i, j, value)  # text neutralised, never a formula (inspect_kit.spreadsheet)
                if col.kind == "date":
                    c.number_format = "yyyy-mm-dd"
                elif col.reference or col.kind == "version":
                    c.fill = ref_fill
                    c.number_format = "@"  # text: a USCC or task number is never a number
                if col.key in ("problems", "recheck_outcome", "notes"):
                    c.alignment = Alignment(wrap_text=True, vertical="top")
            n += 1
        ws.freeze_panes = "B3"
        ws.column_dimensions[get_column_letter(len(cols))].hidden = True  # 版本号
        for j, col in enumerate(cols, start=1):
            letter = get_column_letter(j)
            rng = f"{letter}{first}:{letter}{last}"
            dv = None
            if col.kind in _LIST_NAMES:
                dv = DataValidation(type="list", formula1=_LIST_NAMES[col.kind], allow_blank=True)
                dv.errorStyle = "warning"  # several entries separated by ； are allowed
                dv.errorTitle = "不在列表中"
                dv.error = (
                    "不是列表中的单项。可加“：说明”，不符合须加“：问题类别”；确认保留请点“是”。"
                    if col.kind == "item"
                    else "不是列表中的单项。多项请用“；”分隔；确认保留请点“是”。"
                )
            elif col.kind == "date":
                dv = DataValidation(
                    type="date",
                    operator="between",
                    formula1=str(_serial(dt.date(2000, 1, 1))),
                    formula2=str(_serial(dt.date(2099, 12, 31))),
                    allow_blank=True,
                )
                dv.errorStyle = "warning"
                dv.errorTitle = "日期"
                dv.error = "请填写日期，如 2026-03-05。"
            if dv is None and not col.note:
                continue
            if dv is None:
                dv = DataValidation(allow_blank=True)  # input message only
            if col.note:
                dv.promptTitle, dv.prompt = col.header, col.note
                dv.showInputMessage = True
            dv.showErrorMessage = dv.type is not None
            ws.add_data_validation(dv)
            dv.add(rng)
    # The lists behind the drop-downs, on a hidden sheet, reached through workbook names.
    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    columns = {
        "category": ("结果类别", [c.label for c in codebook.categories]),
        "follow_up": ("处置方式", [f.label for f in codebook.follow_ups]),
        "status": ("整改状态值", _status_labels()),
        "item": ("检查项结果", list(ITEM_RESULTS)),
    }
    for j, (kind, (title, labels)) in enumerate(columns.items(), start=1):
        letter = get_column_letter(j)
        set_cell(lists, 1, j, title).font = bold
        for i, label in enumerate(labels, start=2):
            set_cell(lists, i, j, label)
        lists.column_dimensions[letter].width = 36
        ref = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(labels) + 1}"
        wb.defined_names[_LIST_NAMES[kind]] = DefinedName(_LIST_NAMES[kind], attr_text=ref)
    wb.active = 0
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        wb.save(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def _serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def _sheet_title(code: str, used: set[str]) -> str:
    """An Excel sheet title: at most 31 characters, none of []:*?/\\, unique."""
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in code)[:31] or "sheet"
    title, k = base, 1
    while title in used or title == LISTS_SHEET:
        k += 1
        title = f"{base[:28]}~{k}"
    used.add(title)
    return title


def _write_csv(path: Path, sheets: Sequence[TemplateSheet]) -> int:
    from inspect_kit.registry.tabular import write_table

    codes = list(dict.fromkeys(c for s in sheets for c, _ in s.items))
    columns = COLUMNS[:-1] + tuple(item_column(c) for c in codes) + COLUMNS[-1:]
    headers = [columns[0].header, MATTER_HEADER] + [c.header for c in columns[1:]]

    def rows() -> Iterator[list[Any]]:
        for sheet in sheets:
            for row in sheet.rows:
                cells = [row.get(columns[0].key), sheet.matter_code]
                for col in columns[1:]:
                    v = row.get(col.key)
                    cells.append(v.isoformat() if isinstance(v, dt.date) else v)
                yield cells

    return write_table(path, headers, rows())


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One filled-in row: values by row key, the keys its file has, and the headers to report."""

    file: str  # as reported: the path, with the sheet for .xlsx
    row_no: int | None
    values: dict[str, Any]
    present: frozenset[str]
    columns: Mapping[str, str]  # row key → header as written in the file (canonical header if absent)


@dataclass
class FindingsFile:
    path: Path
    encoding: str | None = None
    rows: list[SourceRow] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)  # sheets read (.xlsx)
    skipped_sheets: list[str] = field(default_factory=list)  # sheets without a 任务编号 column
    ignored_columns: list[str] = field(default_factory=list)  # neither a result column nor a known reference
    blank_rows: int = 0  # rows with no result filled in (tasks not inspected yet)
    problems: list[Problem] = field(default_factory=list)  # header problems: the file cannot be read


def _is_version(header: str) -> bool:
    return "".join(to_halfwidth(header).split()).split("(")[0] == VERSION_HEADER


def _known(row: Sequence[Any]) -> int:
    return sum(1 for c in row if key_for_header(c) is not None)


def _cell(key: str, value: Any) -> Any:
    if isinstance(value, str):
        return value
    if key in _DATE_KEYS:
        return value  # dates, datetimes and Excel serials are read by validate.parse_date
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores whole numbers as floats
    return value


def read_findings_file(path: Path | str, *, encoding: str | None = None) -> FindingsFile:
    """Every result row of a .csv or of every task sheet of an .xlsx; see the module docstring."""
    from inspect_kit.registry.tabular import read_sheets, read_table

    path = Path(path)
    out = FindingsFile(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        tables = read_sheets(path, _known, require_rows=False, unique_headers=False)
    else:
        tables = (t for t in [read_table(path, _known, encoding=encoding, require_rows=False)])
    with contextlib.closing(tables):
        _read_tables(path, tables, out)
    if not out.sheets and not out.problems and path.suffix.lower() in (".xlsx", ".xlsm"):
        out.problems.append(
            Problem(
                f"no sheet has a {CANONICAL_HEADERS['task_no']} column (sheets: "
                f"{', '.join(out.skipped_sheets) or 'none'})",
                file=str(path),
            )
        )
    if not out.rows and not out.problems:
        blank = f" ({out.blank_rows} task rows have no result yet)" if out.blank_rows else ""
        raise InspectError(f"{path}: no filled-in rows{blank}; nothing to import")
    return out


def _read_tables(path: Path, tables: Iterable[Table], out: FindingsFile) -> None:
    from inspect_kit.registry.tabular import check_headers

    ignored: dict[str, None] = {}
    for table in tables:
        sheet = table.sheet
        out.encoding = table.encoding
        label = str(path) if sheet is None else f"{path}, sheet {sheet!r}"
        columns: list[tuple[int, str, str]] = []  # (index, key, header)
        seen: dict[str, str] = {}
        unknown: list[str] = []
        header_problems: list[Problem] = []
        for i, h in enumerate(table.headers):
            header = clean_cell(h)
            if not header:
                continue
            key = key_for_header(header)
            if key is None and _is_version(header):
                key = "revision"
            if key is None:
                key = item_header_key(header)
            if key is None:
                if header not in REFERENCE_HEADERS:
                    unknown.append(header)
                continue
            if key in seen:
                header_problems.append(
                    Problem(
                        f"columns {seen[key]!r} and {header!r} both give {key}; keep one",
                        file=label,
                        row=table.header_row,
                        column=header,
                    )
                )
                continue
            seen[key] = header
            columns.append((i, key, header))
        if "task_no" not in seen:
            _drain(table)
            if sheet is not None and sheet == LISTS_SHEET:
                continue
            if sheet is None:
                out.problems.append(
                    Problem(
                        f"no {CANONICAL_HEADERS['task_no']} column; the header row must name "
                        f"it (and the result columns: {', '.join(c.header for c in COLUMNS[5:])})",
                        file=label,
                    )
                )
            else:
                out.skipped_sheets.append(sheet)
            continue
        if header_problems:
            _drain(table)
            out.problems.extend(header_problems)
            continue
        if sheet is not None:
            try:  # a task sheet: no two columns with the same header (other sheets are skipped)
                check_headers(label, table.header_row, table.headers)
            except InspectError:
                _drain(table)
                raise
        if sheet is not None:
            out.sheets.append(sheet)
        ignored.update(dict.fromkeys(unknown))
        present = frozenset(seen)
        reported = {**CANONICAL_HEADERS, **seen}
        for row_no, cells in table.rows:
            values = {key: _cell(key, cells[i] if i < len(cells) else None) for i, key, _ in columns}
            if not any(clean_cell(v) for v in values.values()):
                continue  # an empty line
            if not any(clean_cell(v) for k, v in values.items() if k in _SUBSTANCE or item_code(k) is not None):
                out.blank_rows += 1
                continue
            out.rows.append(SourceRow(label, row_no, values, present, reported))
    out.ignored_columns = list(ignored)


def _drain(table: Table) -> None:
    """Close a table that is not read."""
    table.rows.close()
    table.close()
