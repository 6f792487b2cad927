"""Values entered by hand: manual indicators with their evidence, judgement deductions with reasons.

Some indicators cannot be computed from the records (training held, items published) and some are
the assessment team's judgement. They are entered one at a time (`add_manual_value`, behind
`inspect score input`) or from a spreadsheet (`import_manual_values`, all or nothing), each checked
against the rulebook, and stored append-only so that `manual_history` shows every change and who
made it. `manual_inputs` turns the history into the engine's inputs:

For a manual indicator the latest row (highest id) of (year, unit, indicator) counts; the value
"n/a" (不适用) makes it NotApplicable with the note as reason. For a judgement indicator every row
is one JudgementEntry (value = points deducted > 0, note = reason); a row with value 0 withdraws all
earlier rows of that (year, unit, indicator) (its note says why), later rows count again.

One module over 400 lines on purpose: single entries and the spreadsheet import pass the same checks
against the rulebook into the same append-only table, whose history rules are defined here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.score.inputs import JudgementEntry, ManualValue, NotApplicable
from inspect_kit.score.observe import source_of
from inspect_kit.score.rulebook import Rulebook
from inspect_kit.storage.helpers import insert_id
from inspect_kit.text import check_text, clean_cell, text_problem, to_halfwidth
from inspect_kit.transparency.store import append_pending

NOT_APPLICABLE_VALUE = "n/a"
_NA_WORDS = {"n/a", "na", "不适用", "—", "-"}
_TRUE_WORDS = {"true", "yes", "是", "有", "发生"}
_FALSE_WORDS = {"false", "no", "否", "无", "未发生"}


@dataclass(frozen=True)
class ManualEntry:
    id: int | None  # None in a dry run
    year: int
    unit_code: str
    indicator: str
    value: str  # stored text: exact number ("0.95", "19/21"), or "n/a"
    note: str
    entered_by: str | None
    entered_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "year": self.year,
            "unit": self.unit_code,
            "indicator": self.indicator,
            "value": self.value,
            "note": self.note,
            "entered_by": self.entered_by,
            "entered_at": self.entered_at.isoformat(),
        }


def _number_text(f: Fraction) -> str:
    """Exact text: a finite decimal when there is one ("0.95", "3"), else "n/d"."""
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d != 1:
        return f"{f.numerator}/{f.denominator}"
    places = 0
    while (f * 10**places).denominator != 1:
        places += 1
    text = format(Decimal((f * 10**places).numerator).scaleb(-places), "f")
    return "0" if text in ("-0", "0") else text


def _parse_number(text: str) -> Fraction:
    t = to_halfwidth(text).strip().replace(",", "")
    percent = t.endswith("%")
    if percent:
        t = t[:-1].strip()
    try:
        value = Fraction(Decimal(t)) if "/" not in t else Fraction(t)
    except (InvalidOperation, ValueError, ZeroDivisionError):
        raise ValueError(f"not a number: {text!r}") from None
    return value / 100 if percent else value


def _check_entry(
    rulebook: Rulebook, units: Mapping[str, str], unit: object, indicator: object, value: object, note: object
) -> tuple[str, str, str, list[tuple[str, str]]]:
    """(unit code, indicator key, stored value text, problems as (field, reason)); the fields are cells
    as read (None for an empty one) or values as typed."""
    problems: list[tuple[str, str]] = [
        (where, why)
        for where, v in (("unit", unit), ("indicator", indicator), ("value", value), ("note", note))
        if (why := text_problem(v)) is not None
    ]
    if problems:
        return clean_cell(unit), clean_cell(indicator), "", problems
    unit_text = clean_cell(unit)
    code = unit_text if unit_text in units else next((c for c, n in units.items() if n == unit_text), None)
    if code is None:
        problems.append(("unit", f"unknown unit {unit_text!r} (give a unit code or name from units.toml)"))
    ind_text = clean_cell(indicator)
    ind = next((i for i in rulebook.indicators if i.key == ind_text), None) or next(
        (i for i in rulebook.indicators if i.name == ind_text), None
    )
    stored = ""
    if ind is None:
        problems.append(
            ("indicator", f"{ind_text!r} is not an indicator of {rulebook.name!r} (version {rulebook.version})")
        )
    elif ind.metric is not None:
        problems.append(
            (
                "indicator",
                f"{ind.key!r} is computed from the records (metric {ind.metric!r}); it cannot be entered by hand",
            )
        )
    if not clean_cell(note):
        problems.append(
            (
                "note",
                "a note is required: the evidence (document number, register page) "
                "or, for a judgement deduction, its reason",
            )
        )
    raw = clean_cell(value if not isinstance(value, bool) else int(value))
    if ind is not None and ind.metric is None:
        kind = source_of(ind)
        word = to_halfwidth(raw).strip().lower()
        if word in _NA_WORDS and kind == "manual":
            stored = NOT_APPLICABLE_VALUE
        elif ind.rule.kind == "veto" and word in _TRUE_WORDS | _FALSE_WORDS:
            stored = "1" if word in _TRUE_WORDS else "0"
        else:
            try:
                number = _parse_number(raw)
            except ValueError as exc:
                problems.append(("value", str(exc)))
            else:
                stored = _number_text(number)
                if number < 0:
                    problems.append(("value", f"{raw!r} is negative"))
                elif kind == "judgement" and number > Fraction(ind.max):
                    problems.append(("value", f"a judgement deduction of {raw} exceeds the indicator's max {ind.max}"))
                elif (
                    ind.rule.kind in ("deduction", "bonus")
                    and getattr(ind.rule, "occurrences", "value") == "value"
                    and number.denominator != 1
                ):
                    problems.append(("value", f"{ind.key!r} counts occurrences: give a whole number, not {raw!r}"))
                elif len(stored) > 64:
                    problems.append(("value", "too many digits"))
    return code or unit_text, ind.key if ind is not None else ind_text, stored, problems


def _unit_names(conn: Connection) -> dict[str, str]:
    from inspect_kit.storage.models import Unit

    names = dict(conn.execute(select(Unit.code, Unit.name)).all())
    if not names:
        raise InspectError("no units in the database; run `inspect config load` first")
    return names


def _insert_entries(conn: Connection, entries: list[ManualEntry]) -> list[ManualEntry]:
    from inspect_kit.storage.models import ManualValue as ManualRow

    out = []
    for e in entries:
        new_id = insert_id(
            conn,
            ManualRow.__table__,
            year=e.year,
            unit_code=e.unit_code,
            indicator=e.indicator,
            value=e.value,
            note=e.note,
            entered_by=e.entered_by,
            entered_at=e.entered_at,
        )
        out.append(ManualEntry(new_id, e.year, e.unit_code, e.indicator, e.value, e.note, e.entered_by, e.entered_at))
    return out


def add_manual_value(
    engine: Engine,
    rulebook: Rulebook,
    *,
    year: int,
    unit: str,
    indicator: str,
    value: object,
    note: str,
    now: dt.datetime,
    by: str | None = None,
) -> ManualEntry:
    """Append one manual value (or judgement deduction) after checking it against the rulebook.

    `unit` is a unit code or name, `indicator` an indicator key or name. Raises ValidationFailed."""
    check_text(by, "--by")
    with engine.begin() as conn:
        code, key, stored, problems = _check_entry(rulebook, _unit_names(conn), unit, indicator, value, note)
        if problems:
            raise ValidationFailed(
                f"manual value refused ({unit} / {indicator})",
                [Problem(reason, key=where) for where, reason in problems],
            )
        entry = ManualEntry(None, year, code, key, stored, clean_cell(note), clean_cell(by) or None, now)
        stored_entry = _insert_entries(conn, [entry])[0]
        append_pending(conn, now)
        return stored_entry


_IMPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "unit": ("单位", "单位代码", "被考评单位", "单位名称", "unit"),
    "indicator": ("指标", "指标代码", "考评指标", "指标名称", "indicator"),
    "value": ("值", "数值", "分值", "扣分", "value"),
    "note": ("说明", "依据", "理由", "备注", "note", "evidence", "reason"),
    "by": ("录入人", "填报人", "by", "entered_by"),
}
_REQUIRED = ("unit", "indicator", "value", "note")


def _header_key(header: object) -> str | None:
    h = "".join(to_halfwidth(clean_cell(header)).split()).lower()
    for key, names in _IMPORT_COLUMNS.items():
        if h in {n.lower() for n in names}:
            return key
    return None


@dataclass
class ManualImportSummary:
    file: str
    rows: int = 0
    blank_rows: int = 0
    entries: list[ManualEntry] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False

    def line(self) -> str:
        s = f"{self.file}: {self.rows} rows read, {len(self.entries)} manual values {'checked' if self.dry_run else 'added'}"
        if self.blank_rows:
            s += f"; {self.blank_rows} blank rows skipped"
        if self.dry_run:
            s += " (dry run: nothing written)"
        return s


def import_manual_values(
    engine: Engine,
    rulebook: Rulebook,
    path: Path | str,
    *,
    year: int,
    now: dt.datetime,
    by: str | None = None,
    dry_run: bool = False,
    encoding: str | None = None,
    sheet: str | None = None,
) -> ManualImportSummary:
    """Append every row of a .csv/.xlsx (单位/unit, 指标/indicator, 值/value, 说明/note, optional 录入人/by).

    All or nothing: any bad row refuses the file with a report naming row and column. The same
    unit and manual (non-judgement) indicator twice in one file is refused as ambiguous, and so
    are two columns giving one field (值 and 数值) and a file without rows."""
    from inspect_kit.registry.tabular import read_table

    check_text(by, "--by")
    path = Path(path)
    table = read_table(path, lambda row: sum(1 for c in row if _header_key(c)), encoding=encoding, sheet=sheet)
    summary = ManualImportSummary(str(path), dry_run=dry_run)
    columns: dict[str, int] = {}
    header_text: dict[str, str] = {}
    problems: list[Problem] = []
    for i, h in enumerate(table.headers):
        key = _header_key(h)
        if key is None:
            if clean_cell(h):
                summary.ignored_columns.append(clean_cell(h))
        elif key in columns:  # 值 and 数值 both: which one counts would be a guess
            problems.append(
                Problem(
                    f"columns {header_text[key]!r} and {clean_cell(h)!r} both give {key}; keep one",
                    file=str(path),
                    row=table.header_row,
                    column=clean_cell(h),
                )
            )
        else:
            columns[key], header_text[key] = i, clean_cell(h)
    problems += [
        Problem(
            f"missing column ({' / '.join(_IMPORT_COLUMNS[k][:1] + _IMPORT_COLUMNS[k][-1:])})",
            file=str(path),
            row=table.header_row,
            column=k,
        )
        for k in _REQUIRED
        if k not in columns
    ]
    if problems:
        table.close()
        raise ValidationFailed(f"{path}: manual values refused", problems)
    entries: list[ManualEntry] = []
    first_row: dict[tuple[str, str], int] = {}
    with engine.connect() as conn:
        units = _unit_names(conn)
    manual_keys = {i.key for i in rulebook.indicators if source_of(i) == "manual"}
    for row_no, cells in table.rows:
        cell = {k: (cells[i] if i < len(cells) else None) for k, i in columns.items()}
        if not any(clean_cell(v) for v in cell.values()):
            summary.blank_rows += 1
            continue
        summary.rows += 1
        code, key, stored, found = _check_entry(
            rulebook, units, cell["unit"], cell["indicator"], cell["value"], cell["note"]
        )
        problems += [
            Problem(reason, file=str(path), row=row_no, column=header_text.get(where, where)) for where, reason in found
        ]
        if found:
            continue
        if key in manual_keys:
            earlier = first_row.setdefault((code, key), row_no)
            if earlier != row_no:
                problems.append(
                    Problem(
                        f"{code} / {key} is already given in row {earlier}; give each value once",
                        file=str(path),
                        row=row_no,
                        column=header_text["indicator"],
                    )
                )
                continue
        if (why := text_problem(cell.get("by"))) is not None:
            problems.append(Problem(why, file=str(path), row=row_no, column=header_text["by"]))
            continue
        entries.append(
            ManualEntry(
                None,
                year,
                code,
                key,
                stored,
                clean_cell(cell["note"]),
                clean_cell(cell.get("by")) or clean_cell(by) or None,
                now,
            )
        )
    if not problems and summary.rows == 0:
        raise InspectError(f"{path}: no rows with values below the header (row {table.header_row}); nothing to import")
    if problems:
        raise ValidationFailed(f"{path}: manual values refused", problems)
    if not dry_run and entries:
        with engine.begin() as conn:
            entries = _insert_entries(conn, entries)
            append_pending(conn, now)
    summary.entries = entries
    return summary


def manual_history(
    engine: Engine, year: int, unit: str | None = None, indicator: str | None = None
) -> list[ManualEntry]:
    """Every manual row of the year (oldest first), optionally for one unit and/or indicator."""
    from inspect_kit.storage.models import ManualValue as ManualRow

    stmt = select(ManualRow.__table__).where(ManualRow.year == year).order_by(ManualRow.id)
    if unit is not None:
        stmt = stmt.where(ManualRow.unit_code == unit)
    if indicator is not None:
        stmt = stmt.where(ManualRow.indicator == indicator)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        ManualEntry(r.id, r.year, r.unit_code, r.indicator, r.value, r.note, r.entered_by, r.entered_at) for r in rows
    ]


def manual_inputs(
    entries: Sequence[ManualEntry], rulebook: Rulebook, units: set[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, list[JudgementEntry]]], list[str]]:
    """The manual values and judgement deductions that count, per unit and indicator, from the
    rows of a year (see the module docstring); and warnings for rows this rulebook cannot use."""
    sources = {i.key: source_of(i) for i in rulebook.indicators}
    manual: dict[str, dict[str, Any]] = defaultdict(dict)
    judgements: dict[str, dict[str, list[JudgementEntry]]] = defaultdict(lambda: defaultdict(list))
    warnings: list[str] = []
    ignored: set[tuple[str, str]] = set()
    for e in sorted(entries, key=lambda e: e.id or 0):
        kind = sources.get(e.indicator)
        if e.unit_code not in units or kind not in ("manual", "judgement"):
            if (e.unit_code, e.indicator) not in ignored:
                ignored.add((e.unit_code, e.indicator))
                why = (
                    "unknown unit"
                    if e.unit_code not in units
                    else "not a manual or judgement indicator of this rulebook"
                )
                warnings.append(f"manual values for {e.unit_code} / {e.indicator} ignored: {why}")
            continue
        if kind == "manual":
            manual[e.unit_code][e.indicator] = (
                NotApplicable(e.note) if e.value == NOT_APPLICABLE_VALUE else ManualValue(e.value, e.note)
            )
        elif Fraction(e.value) == 0:
            judgements[e.unit_code][e.indicator] = []  # withdraws the earlier deductions
        else:
            judgements[e.unit_code][e.indicator].append(JudgementEntry(e.value, e.note))
    return manual, {u: {k: v for k, v in d.items() if v} for u, d in judgements.items()}, warnings
