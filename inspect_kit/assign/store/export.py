"""The current teams exported (`inspect assign export`, `assign show --csv/--json`): per task the
entity's identifier and the team's 执法证号 and names. Confidential until the entities are notified.

Formats: JSON (one object per task, as `AssignmentInfo.rows()`), CSV or XLSX (one row per task,
names and certificate numbers joined by "、"). A file's extension decides its format (.json, .csv,
.xlsx); any other extension, or a --csv/--json flag that contradicts it, is refused before anything
is read or written. CSV and XLSX cells are neutralised against formula injection
(`inspect_kit.spreadsheet`); files are written to a temporary name and renamed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any, Iterable, Sequence

from inspect_kit.errors import InspectError
from inspect_kit.spreadsheet import output_format, write_csv

FORMATS = ("json", "csv", "xlsx")
TEAM_HEADERS = (
    "assignment",
    "matter",
    "period",
    "task_no",
    "统一社会信用代码",
    "名称",
    "乡镇",
    "执法证号",
    "执法人员",
    "专家证号",
    "专家",
)


def export_format(path: Path | str | None, flag: str | None) -> str:
    """The format to write: the file's extension (checked against --csv/--json if given), else the flag,
    else JSON. InspectError for an unknown extension or a contradicting flag."""
    if path is None:
        return flag or "json"
    fmt = output_format(path, FORMATS)
    if flag is not None and flag != fmt:
        raise InspectError(
            f"--{flag} contradicts {path}: the extension decides the format (drop --{flag}, or name a .{flag} file)"
        )
    return fmt


def team_rows(assignments: Iterable[Any]) -> list[list[Any]]:
    """One row per task, in TEAM_HEADERS order."""
    out = []
    for a in assignments:
        for r in a.rows():
            out.append(
                [
                    r["assignment"],
                    r["matter"],
                    r["period"],
                    r["task_no"],
                    r["identifier"],
                    r["entity_name"],
                    r["township"] or "",
                    "、".join(m["cert_no"] for m in r["officers"]),
                    "、".join(m["name"] for m in r["officers"]),
                    "、".join(m["cert_no"] for m in r["experts"]),
                    "、".join(m["name"] for m in r["experts"]),
                ]
            )
    return out


def _json_text(assignments: Sequence[Any]) -> str:
    return json.dumps([r for a in assignments for r in a.rows()], ensure_ascii=False, indent=2) + "\n"


def print_teams(stream: IO[str], assignments: Sequence[Any], fmt: str = "json") -> int:
    """Write the teams to an open text stream as 'json' or 'csv'; returns the tasks written."""
    if fmt == "csv":
        return write_csv(stream, TEAM_HEADERS, team_rows(assignments))
    if fmt != "json":
        raise InspectError(f"cannot print {fmt} to a terminal; use -o FILE.{fmt}")
    stream.write(_json_text(assignments))
    return sum(len(a.teams) for a in assignments)


def write_teams(path: Path | str, assignments: Sequence[Any], flag: str | None = None) -> int:
    """Write the teams to a file in the format its extension names; returns the tasks written."""
    from inspect_kit.registry.tabular import write_table

    path = Path(path)
    fmt = export_format(path, flag)
    if fmt != "json":
        return write_table(path, TEAM_HEADERS, iter(team_rows(assignments)), sheet_title="检查组")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(_json_text(assignments), encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return sum(len(a.teams) for a in assignments)
