"""Writing a table as .csv or .xlsx, every text cell neutralised against formula injection
(inspect_kit.spreadsheet), through a temporary file: a failed export leaves no half file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, Sequence

from inspect_kit.spreadsheet import output_format, write_csv, xlsx_cell


def write_table(
    path: Path | str,
    headers: Sequence[str],
    rows: Iterator[Sequence[Any]],
    *,
    sheet_title: str = "Sheet1",
    encoding: str = "utf-8-sig",
) -> int:
    """Write .csv (UTF-8 with BOM by default, so Excel opens it right) or .xlsx; returns rows written.

    Written to a temporary file first and renamed, so a failed export leaves no half file."""
    path = Path(path)
    fmt = output_format(path, ("csv", "xlsx"))
    tmp = path.with_name(f".{path.name}.tmp")
    n = 0
    try:
        if fmt == "xlsx":
            import openpyxl

            wb = openpyxl.Workbook(write_only=True)
            ws = wb.create_sheet(sheet_title)
            ws.append([xlsx_cell(ws, v) for v in headers])
            for row in rows:
                # Text cells stay text (a certificate number like 0012 must not become 12); numbers
                # stay numbers; every text cell is neutralised (inspect_kit.spreadsheet).
                ws.append([xlsx_cell(ws, _xlsx_value(v)) for v in row])
                n += 1
            wb.save(tmp)
        else:
            with open(tmp, "w", encoding=encoding, newline="") as f:
                n = write_csv(f, headers, rows)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def _xlsx_value(v: Any) -> Any:
    if v is None:
        return ""
    return v if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) else str(v)
