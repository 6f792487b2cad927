"""Check one finding row (检查结果录入) and turn it into a `FindingInput`.

A row is a plain dict with the English keys below (see `HEADER_KEYS` for the Chinese spreadsheet
headers). Keys not listed are ignored, so a sheet may carry reference columns such as the entity
name. Blank cells (None, "", spaces) count as absent. Every problem in the row is reported at once,
each naming its column.

  task_no                 required; half-width, blanks removed, upper-case
  inspection_date         one date, or a range "2026-03-05至2026-03-07" (至 到 ~ — –) …
  inspection_start/_end   … or both of these; never both forms in one row
  results                 required; one or more categories (code or label) split by ；;,，、 or newline
  problems                problem description
  follow_up               required; one or more follow-ups, same splitting
  rectification_deadline  整改期限
  rectification_status    open/closed/overdue or 整改中/已整改/逾期…; blank = computed from dates
  recheck_date, recheck_outcome, case_no, recorded_by (required), notes

Dates: date/datetime objects (openpyxl), "2026-03-05", "2026/3/5", "2026.3.5", "2026年3月5日",
"20260305", full-width digits, a trailing time of day; numbers as Excel serials (1990–2100) or
yyyymmdd.

Rules (`as_of` is "today", passed in; nothing here reads the clock):
  1. task_no, results, follow_up, recorded_by and the inspection dates are required.
  2. Dates must parse; inspection end >= start; neither after as_of.
  3. Every category and follow-up must be in the code list.
  4. A category that excludes problems (未发现问题) cannot be combined with a problem category.
  5. A problem category needs a problem description and a follow-up other than 无需后续处置;
     无需后续处置 cannot be combined with another follow-up.
  6. 责令改正 / 立案查处 need at least one problem category; a category that asserts a follow-up
     (发现问题已责令改正) needs that follow-up.
  7. 责令改正 needs a rectification deadline strictly after the inspection end; a deadline or a
     rectification status without 责令改正 is refused.
  8. Status "closed" needs a re-check date; "overdue" is refused while the deadline has not passed
     as of as_of ("open" past the deadline is accepted: status is recomputed from dates anyway).
  9. Re-check date strictly after the inspection end and not after as_of; a re-check outcome needs
     a re-check date.
 10. 立案查处 needs a case number "<organ prefix>〔YYYY〕N号" (brackets [] () 【】 accepted and
     normalised to 〔〕, optional 第 before N) whose year lies between the inspection start year and
     as_of; a case number without 立案查处 is refused.
 11. (validate_rows) a task number appears in one row only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from inspect_kit.errors import Problem
from inspect_kit.findings.codes import DEFAULT_CODEBOOK, Codebook, CodeList, FollowUp, ResultCategory
from inspect_kit.findings.items import ItemResult
from inspect_kit.text import clean_cell, clean_code, to_halfwidth
from inspect_kit.text import parse_date as _parse_date

# Chinese spreadsheet header → row key. Several headers may map to one key.
HEADER_KEYS: dict[str, str] = {
    "任务编号": "task_no",
    "任务号": "task_no",
    "检查日期": "inspection_date",
    "检查开始日期": "inspection_start",
    "开始日期": "inspection_start",
    "检查结束日期": "inspection_end",
    "检查完成日期": "inspection_end",
    "结束日期": "inspection_end",
    "检查结果": "results",
    "抽查结果": "results",
    "问题描述": "problems",
    "发现的问题": "problems",
    "存在问题": "problems",
    "后续处置": "follow_up",
    "处置措施": "follow_up",
    "整改期限": "rectification_deadline",
    "整改状态": "rectification_status",
    "整改情况": "rectification_status",
    "复查日期": "recheck_date",
    "复查时间": "recheck_date",
    "复查结果": "recheck_outcome",
    "复查情况": "recheck_outcome",
    "立案号": "case_no",
    "案件编号": "case_no",
    "立案编号": "case_no",
    "录入人": "recorded_by",
    "备注": "notes",
}

RECTIFICATION_STATUSES: dict[str, str] = {
    **dict.fromkeys(["open", "整改中", "未整改", "待整改", "正在整改"], "open"),
    **dict.fromkeys(["closed", "已整改", "整改完成", "已完成整改", "完成"], "closed"),
    **dict.fromkeys(["overdue", "逾期", "逾期未整改", "超期", "超期未整改"], "overdue"),
}

_RANGE = re.compile(r"\s*(?:至|到|~|—|–)\s*")  # ～ is ~ after half-width; never "-" (ISO dates)
_CASE_NO = re.compile(r"^(?P<prefix>[^\[\]()〔〕【】]*\D)[\[(〔【](?P<year>\d{4})[\])〕】](?P<rest>第?\d+号)$")


@dataclass(frozen=True)
class FindingInput:
    """One checked finding; categories and follow-ups are codes of the codebook used."""

    task_no: str
    inspection_start: dt.date
    inspection_end: dt.date
    results: tuple[str, ...]
    follow_ups: tuple[str, ...]  # from the row key "follow_up"
    recorded_by: str
    problem_found: bool  # any result category counts as a problem
    problems: str = ""
    rectification_deadline: dt.date | None = None  # set exactly when 责令改正 was ordered
    rectification_status: str | None = None  # as declared: open / closed / overdue, or None
    recheck_date: dt.date | None = None
    recheck_outcome: str = ""
    case_no: str | None = None
    notes: str = ""
    row: int | None = None
    # results per checklist item, in checklist order: checked and set by the write path
    # (inspect_kit.findings.write), which knows the task's matter; validate_row leaves them empty
    items: tuple[ItemResult, ...] = ()


def key_for_header(header: object) -> str | None:
    """Row key for a spreadsheet header; tolerates blanks, full-width forms, '*' and '(…)' hints."""
    text = "".join(to_halfwidth(clean_cell(header)).split()).rstrip("*")
    text = re.sub(r"\(.*\)$", "", text)
    if text in HEADER_KEYS.values():
        return text
    return HEADER_KEYS.get(text)


def parse_date(value: object) -> dt.date:
    """A date from a cell in any accepted form (see inspect_kit.text.parse_date); a blank is an error."""
    day = _parse_date(value)
    if day is None:
        raise ValueError("is empty (write a date such as 2026-03-05)")
    return day


def validate_row(
    row: Mapping[str, Any],
    *,
    as_of: dt.date,
    row_no: int | None = None,
    codebook: Codebook = DEFAULT_CODEBOOK,
    columns: Mapping[str, str] | None = None,
) -> FindingInput | list[Problem]:
    """A FindingInput, or every Problem found; `columns` maps row keys to the headers to report."""
    return _RowCheck(row, as_of, row_no, codebook, columns or {}).run()


def validate_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    as_of: dt.date,
    first_row_no: int = 2,
    codebook: Codebook = DEFAULT_CODEBOOK,
    columns: Mapping[str, str] | None = None,
) -> tuple[list[FindingInput], list[Problem]]:
    """Check every row (numbered from `first_row_no`, i.e. after a header row) and duplicates."""
    findings: list[FindingInput] = []
    problems: list[Problem] = []
    first_seen: dict[str, int] = {}
    for row_no, row in enumerate(rows, start=first_row_no):
        result = validate_row(row, as_of=as_of, row_no=row_no, codebook=codebook, columns=columns)
        if isinstance(result, list):
            problems.extend(result)
            continue
        if result.task_no in first_seen:
            column = (columns or {}).get("task_no", "task_no")
            problems.append(
                Problem(
                    f"task {result.task_no} already has a finding in row {first_seen[result.task_no]}",
                    row=row_no,
                    column=column,
                )
            )
            continue
        first_seen[result.task_no] = row_no
        findings.append(result)
    return findings, problems


class _RowCheck:
    """Reads one row cell by cell, collecting problems instead of stopping at the first."""

    def __init__(
        self, row: Mapping[str, Any], as_of: dt.date, row_no: int | None, codebook: Codebook, columns: Mapping[str, str]
    ) -> None:
        self.row, self.as_of, self.row_no = row, as_of, row_no
        self.codebook, self.columns = codebook, columns
        self.problems: list[Problem] = []

    def fail(self, key: str, reason: str) -> None:
        self.problems.append(Problem(reason, row=self.row_no, column=self.columns.get(key, key)))

    def text(self, key: str, required: bool = False) -> str:
        value = clean_cell(self.row.get(key))
        if required and not value:
            self.fail(key, "is required")
        return value

    def date(self, key: str) -> dt.date | None:
        if not self.text(key):
            return None
        try:
            return parse_date(self.row[key])
        except ValueError as exc:
            self.fail(key, str(exc))
            return None

    # -- the checks, in column order --------------------------------------------------------

    def run(self) -> FindingInput | list[Problem]:
        task_no = clean_code(self.row.get("task_no"))
        if not task_no:
            self.fail("task_no", "is required")
        start, end = self.inspection_dates()
        categories = self.codes("results", self.codebook.categories, "result category")
        follow_ups = self.codes("follow_up", self.codebook.follow_ups, "follow-up")
        problem_found = any(c.problem for c in categories)
        description = self.text("problems")
        if problem_found and not description:
            self.fail("problems", "a description is required when a result category reports a problem")
        self.check_combinations(categories, follow_ups)
        rectify = any(f.rectification for f in follow_ups)
        deadline, status = self.rectification(rectify, end)
        recheck, outcome = self.recheck(end, status)
        case_no = self.case_no(any(f.case for f in follow_ups), start)
        recorded_by = self.text("recorded_by", required=True)
        if self.problems or start is None or end is None:
            return self.problems
        return FindingInput(
            task_no=task_no,
            inspection_start=start,
            inspection_end=end,
            results=tuple(c.code for c in categories),
            follow_ups=tuple(f.code for f in follow_ups),
            recorded_by=recorded_by,
            problem_found=problem_found,
            problems=description,
            rectification_deadline=deadline,
            rectification_status=status,
            recheck_date=recheck,
            recheck_outcome=outcome,
            case_no=case_no,
            notes=self.text("notes"),
            row=self.row_no,
        )

    def inspection_dates(self) -> tuple[dt.date | None, dt.date | None]:
        single = self.text("inspection_date")
        has_start, has_end = bool(self.text("inspection_start")), bool(self.text("inspection_end"))
        if single and (has_start or has_end):
            self.fail("inspection_date", "give either the inspection date or the start and end dates, not both")
            return None, None
        if single:
            start, end = self.date_range("inspection_date")
        elif has_start != has_end:
            missing = "inspection_end" if has_start else "inspection_start"
            self.fail(missing, "is required when the other inspection date is given")
            return None, None
        elif not has_start:
            self.fail("inspection_date", "is required (or inspection start and end dates)")
            return None, None
        else:
            start, end = self.date("inspection_start"), self.date("inspection_end")
        key = "inspection_date" if single else "inspection_end"
        if start and end and end < start:
            self.fail(key, f"inspection ends ({end}) before it starts ({start})")
            return None, None
        for day, which in ((start, "inspection_start"), (end, "inspection_end")):
            if day and day > self.as_of:
                self.fail("inspection_date" if single else which, f"{day} is in the future (as of {self.as_of})")
                return None, None
        return start, end

    def date_range(self, key: str) -> tuple[dt.date | None, dt.date | None]:
        value = self.row[key]
        parts = _RANGE.split(to_halfwidth(clean_cell(value))) if isinstance(value, str) else [value]
        if len(parts) > 2:
            self.fail(key, f"{clean_cell(value)!r} is not a date or a range 'start至end'")
            return None, None
        try:
            days = [parse_date(p) for p in parts]
        except ValueError as exc:
            self.fail(key, str(exc))
            return None, None
        return days[0], days[-1]

    def codes(self, key: str, code_list: CodeList[Any], what: str) -> list[Any]:
        if not self.text(key, required=True):
            return []
        items, unknown = code_list.split(self.row[key])
        for text in unknown:
            known = " / ".join(f"{i.code} {i.label}" for i in code_list)
            self.fail(key, f"unknown {what} {text!r}; expected one of: {known}")
        return items

    def check_combinations(self, categories: list[ResultCategory], follow_ups: list[FollowUp]) -> None:
        problem_cats = [c for c in categories if c.problem]
        for c in categories:
            if c.excludes_problems and problem_cats:
                self.fail("results", f"{c.label!r} cannot be combined with {problem_cats[0].label!r}")
        codes = {f.code for f in follow_ups}
        no_action = [f for f in follow_ups if f.no_action]
        if no_action and len(follow_ups) > 1:
            self.fail("follow_up", f"{no_action[0].label!r} cannot be combined with other follow-ups")
        if problem_cats and follow_ups and len(no_action) == len(follow_ups):
            self.fail("follow_up", f"{problem_cats[0].label!r} needs a follow-up other than {no_action[0].label!r}")
        for f in follow_ups:
            if (f.rectification or f.case) and categories and not problem_cats:
                self.fail("follow_up", f"{f.label!r} needs a result category that reports a problem")
        for c in categories:
            needed = c.requires_follow_up
            if needed and follow_ups and needed not in codes:
                label = self.codebook.follow_ups[needed].label
                self.fail("follow_up", f"result {c.label!r} needs follow-up {label!r}")

    def rectification(self, ordered: bool, end: dt.date | None) -> tuple[dt.date | None, str | None]:
        deadline = self.date("rectification_deadline")
        raw_status = self.text("rectification_status")
        status = RECTIFICATION_STATUSES.get("".join(to_halfwidth(raw_status).split()).lower())
        if raw_status and status is None:
            self.fail("rectification_status", f"unknown status {raw_status!r}; use open, closed or overdue")
        if not ordered:
            for key, value in (("rectification_deadline", deadline), ("rectification_status", raw_status)):
                if value:
                    self.fail(key, "is only allowed when the follow-up orders rectification (责令改正)")
            return None, None
        if deadline is None and not self.text("rectification_deadline"):
            self.fail("rectification_deadline", "is required when rectification (责令改正) is ordered")
        elif deadline and end and deadline <= end:
            self.fail("rectification_deadline", f"{deadline} must be after the inspection end ({end})")
        if status == "overdue" and deadline and deadline >= self.as_of:
            self.fail(
                "rectification_status", f"cannot be overdue: the deadline {deadline} has not passed as of {self.as_of}"
            )
        return deadline, status

    def recheck(self, end: dt.date | None, status: str | None) -> tuple[dt.date | None, str]:
        recheck = self.date("recheck_date")
        outcome = self.text("recheck_outcome")
        if recheck and end and recheck <= end:
            self.fail("recheck_date", f"{recheck} must be after the inspection end ({end})")
        if recheck and recheck > self.as_of:
            self.fail("recheck_date", f"{recheck} is in the future (as of {self.as_of})")
        if outcome and not self.text("recheck_date"):
            self.fail("recheck_date", "is required when a re-check outcome is given")
        if status == "closed" and not self.text("recheck_date"):
            self.fail("recheck_date", "is required when the rectification is closed")
        return recheck, outcome

    def case_no(self, case_opened: bool, start: dt.date | None) -> str | None:
        raw = self.text("case_no")
        if not case_opened:
            if raw:
                self.fail("case_no", "is only allowed when the follow-up is a case (立案查处)")
            return None
        if not raw:
            self.fail("case_no", "is required when a case is opened (立案查处)")
            return None
        match = _CASE_NO.match("".join(to_halfwidth(raw).split()))
        if match is None:
            self.fail("case_no", f"{raw!r} is not a case number like 某市监立〔2026〕12号")
            return None
        year = int(match["year"])
        if start and not start.year <= year <= self.as_of.year:
            self.fail("case_no", f"year {year} in {raw!r} must lie between {start.year} and {self.as_of.year}")
            return None
        return f"{match['prefix']}〔{year}〕{match['rest']}"
