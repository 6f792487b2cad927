"""Findings (检查结果): what an inspection found, and the deadlines that follow from it.

Pure parts only — no database, files or clock; "today" is always a parameter:
  calendar   working days in mainland China (holidays and make-up days, configurable)
  codes      result categories and follow-up actions (configurable code lists)
  validate   one spreadsheet/CLI row → FindingInput, or Problems naming column and reason
  deadlines  publicity and rectification deadlines, status, and what is due or overdue
"""

from inspect_kit.findings.calendar import (
    WorkingCalendar,
    add_working_days,
    default_calendar,
    is_working_day,
    next_working_day,
    working_days_between,
)
from inspect_kit.findings.codes import (
    DEFAULT_CODEBOOK,
    Codebook,
    CodeList,
    FollowUp,
    ResultCategory,
)
from inspect_kit.findings.deadlines import (
    PUBLICITY_WORKING_DAYS,
    DueItem,
    due_items,
    effective_rectification_deadline,
    publicity_deadline,
    rectification_status,
)
from inspect_kit.findings.validate import (
    HEADER_KEYS,
    FindingInput,
    key_for_header,
    parse_date,
    validate_row,
    validate_rows,
)

__all__ = [
    "DEFAULT_CODEBOOK",
    "HEADER_KEYS",
    "PUBLICITY_WORKING_DAYS",
    "CodeList",
    "Codebook",
    "DueItem",
    "FindingInput",
    "FollowUp",
    "ResultCategory",
    "WorkingCalendar",
    "add_working_days",
    "default_calendar",
    "due_items",
    "effective_rectification_deadline",
    "is_working_day",
    "key_for_header",
    "next_working_day",
    "parse_date",
    "publicity_deadline",
    "rectification_status",
    "validate_row",
    "validate_rows",
    "working_days_between",
]
