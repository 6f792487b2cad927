"""Reading .xlsx sheets (openpyxl, read-only, imported when needed): checked by registry.xlsx_guard
before parsing, then streamed row by row with the checks of registry.table; an XML or archive error
inside a sheet names the row it stopped at (see registry.tabular)."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generator, Sequence

from inspect_kit.errors import InspectError
from inspect_kit.registry.table import (
    HEADER_SEARCH_ROWS,
    MAX_COLUMNS,
    Table,
    chain,
    check_headers,
    checked,
    find_header,
)
from inspect_kit.registry.xlsx_guard import XLSX_MAX_ROWS, check_xlsx
from inspect_kit.spreadsheet import restore_row, xlsx_untext

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook, _WorksheetLike


def _open_workbook(path: Path) -> Workbook:
    import openpyxl

    check_xlsx(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException, XML ParseError ...
        raise InspectError(f"{path}: cannot open as .xlsx: the file is damaged or not a workbook ({exc})") from None


def read_xlsx(
    path: Path,
    known: Callable[[list[Any]], int],
    sheet: str | None = None,
    require_rows: bool = True,
    unique_headers: bool = True,
) -> Table:
    wb = _open_workbook(path)
    titles = [ws.title for ws in wb.worksheets]  # not chart sheets
    if not titles or (sheet is not None and sheet not in titles):
        wb.close()
        raise InspectError(f"{path}: no sheet {sheet!r}; sheets are {', '.join(titles) or 'none'}")
    ws = wb.worksheets[titles.index(sheet) if sheet is not None else 0]
    return _sheet_table(path, ws, known, require_rows, unique_headers, wb.close)


def read_sheets(
    path: Path | str, known: Callable[[list[Any]], int], *, require_rows: bool = True, unique_headers: bool = True
) -> Generator[Table, None, None]:
    """The table of every worksheet of an .xlsx, opened (and checked) once; read each table, or
    close it, before taking the next. Close the iterator (contextlib.closing) to release the file."""
    path = Path(path)
    if not path.exists():
        raise InspectError(f"{path}: no such file")
    wb = _open_workbook(path)
    try:
        for ws in wb.worksheets:
            yield _sheet_table(path, ws, known, require_rows, unique_headers, lambda: None)
    finally:
        wb.close()


def _sheet_table(
    path: Path,
    ws: _WorksheetLike,
    known: Callable[[list[Any]], int],
    require_rows: bool,
    unique_headers: bool,
    close: Callable[[], None],
) -> Table:
    where = f"{path}, sheet {ws.title!r}"
    it = ws.iter_rows(values_only=True)
    done = [0]

    def parsed() -> Generator[tuple[int, list[Any]], None, None]:
        """(row number, cells); an XML or archive error in the sheet names the row it stopped at."""
        n = 0
        while True:
            try:
                row = next(it)
            except StopIteration:
                return
            except Exception as exc:  # ParseError, BadZipFile (CRC), zlib.error, ValueError ...: openpyxl's
                raise InspectError(
                    f"{where}, row {n + 1}: cannot read the sheet: its XML is damaged or cut off "
                    f"({type(exc).__name__}: {exc})"
                ) from None
            n += 1
            if n > XLSX_MAX_ROWS:
                raise InspectError(f"{where}: more than {XLSX_MAX_ROWS:,} rows")
            done[0] = n
            yield n, _xlsx_row(row)

    rows = parsed()
    try:
        head = list(islice(rows, HEADER_SEARCH_ROWS))
        for rownum, cells in head:
            if len(cells) > MAX_COLUMNS:
                raise InspectError(f"{where}, row {rownum}: {len(cells)} cells; at most {MAX_COLUMNS} columns are read")
        h = find_header([list(r) for _, r in head], known)
        headers = ["" if c is None else str(c) for c in head[h][1]] if head else []
        header_row = head[h][0] if head else 1
        if unique_headers:
            check_headers(where, header_row, headers)
    except BaseException:
        close()
        raise

    def stream() -> Generator[tuple[int, list[Any]], None, None]:
        try:
            for n, row in checked(where, header_row, headers, chain(head[h + 1 :], rows), require_rows):
                yield n, list(row)
        finally:
            rows.close()
            close()

    return Table(path, None, header_row, headers, stream(), ws.max_row or 0, lambda: done[0], close, ws.title)


def _xlsx_row(row: Sequence[Any]) -> list[Any]:
    return restore_row([xlsx_untext(v) if isinstance(v, str) else v for v in row])
