"""`inspect findings add`'s option ↔ field mapping and its prompts: which option sets each field of
a finding (for messages that name options, not spreadsheet columns), and the interactive form that
asks for what is missing (the checklist item by item, when the task's matter has one and no item
is recorded yet), checking each answer as it is typed, then re-asks every field the validator
still refuses."""

from __future__ import annotations  # its helpers name types imported only for the type checker

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import Engine

    from inspect_kit.errors import Problem
    from inspect_kit.findings.codes import CodeList
    from inspect_kit.findings.service import FindingsPolicy

# Row key → the option that sets it, for messages about `inspect findings add`.
OPTION_OF = {
    "task_no": "TASK",
    "inspection_date": "--date",
    "inspection_start": "--start",
    "inspection_end": "--end",
    "results": "--result",
    "problems": "--problems",
    "follow_up": "--follow-up",
    "rectification_deadline": "--deadline",
    "rectification_status": "--status",
    "recheck_date": "--recheck-date",
    "recheck_outcome": "--recheck-outcome",
    "case_no": "--case-no",
    "recorded_by": "--by",
    "notes": "--notes",
}
_DATE_KEYS = ("inspection_date", "inspection_start", "inspection_end", "rectification_deadline", "recheck_date")


def _option(column: str) -> str:
    from inspect_kit.findings.items import item_code

    code = item_code(column)
    return f"--item {code}" if code is not None else OPTION_OF.get(column, column)


def for_options(problems: Iterable[Problem]) -> list[Problem]:
    """Problems named by option ("--deadline: ...", "--item 02: ...") rather than by spreadsheet column."""
    from inspect_kit.errors import Problem

    return [Problem(f"{_option(p.column)}: {p.reason}" if p.column else p.reason) for p in problems]


def item_values(options: Iterable[str]) -> dict[str, str]:
    """``--item CODE=TEXT`` options as row values (``item:CODE`` → TEXT); InspectError for one
    without "=" or a code, or a code given twice."""
    from inspect_kit.errors import InspectError
    from inspect_kit.findings.items import item_key

    out: dict[str, str] = {}
    for option in options:
        code, eq, text = option.partition("=")
        code = code.strip()
        if not eq or not code:
            raise InspectError(
                f"--item {option!r}: write CODE=RESULT, e.g. --item 01=符合 or --item 02=不符合：说明：R05"
            )
        if item_key(code) in out:
            raise InspectError(f"--item {code}: given twice")
        out[item_key(code)] = text.strip()
    return out


def _codes_proc(code_list: CodeList[Any]) -> Callable[[str], str]:
    """Turn typed entries (numbers of the list shown, codes or labels) into labels, or re-prompt."""
    import re

    items = list(code_list)

    def proc(text: str) -> str:
        def by_number(m: re.Match[str]) -> str:
            n = int(m.group(1))
            return items[n - 1].code if 1 <= n <= len(items) else m.group(1)

        found, unknown = code_list.split(re.sub(r"(?<!\w)(\d{1,3})(?!\w)", by_number, text))
        if unknown:
            raise typer.BadParameter(f"not in the list: {', '.join(unknown)}")
        if not found:
            raise typer.BadParameter("choose at least one")
        return "；".join(i.label for i in found)

    return proc


def _date_proc(allow_range: bool) -> Callable[[str], str]:
    import re

    from inspect_kit.findings.validate import parse_date

    def proc(text: str) -> str:
        if text.strip() == "-":
            return ""
        parts = re.split(r"\s*(?:至|到|~|～|—|–)\s*", text.strip()) if allow_range else [text]
        try:
            days = [parse_date(p) for p in parts]
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        if len(days) > 2:
            raise typer.BadParameter("give one date or a range 2026-03-05至2026-03-07")
        return "至".join(d.isoformat() for d in days) if len(days) == 2 and days[0] != days[1] else days[0].isoformat()

    return proc


def _status_proc(text: str) -> str:
    from inspect_kit.findings.validate import RECTIFICATION_STATUSES

    t = text.strip()
    if t == "-":
        return ""
    if t.lower() not in RECTIFICATION_STATUSES and t not in RECTIFICATION_STATUSES:
        raise typer.BadParameter("use open, closed or overdue (整改中 / 已整改 / 逾期), or - for none")
    return t


def _text_proc(text: str) -> str:
    from inspect_kit.text import text_problem

    if (why := text_problem(text)) is not None:
        raise typer.BadParameter(why)
    return "" if text.strip() == "-" else text


def _item_proc(code: str, policy: FindingsPolicy) -> Callable[[str], str]:
    from inspect_kit.findings.items import parse_item_text

    def proc(text: str) -> str:
        try:
            parse_item_text(code, text.strip(), policy.codebook)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        return text.strip()

    return proc


def ask_item(code: str, content: str, policy: FindingsPolicy) -> str:
    """Prompt for one checklist item (检查表), checked as ``--item CODE=`` is."""
    label = f"检查项 {code} {content} (--item {code})".replace("  ", " ")
    hint = "符合 / 不涉及[：说明] / 不符合：说明：问题类别"
    answer: str = typer.prompt(f"{label} [{hint}]", value_proc=_item_proc(code, policy))
    return answer


def ask(key: str, policy: FindingsPolicy, default: Any = None) -> str:
    """Prompt for one field, checking the answer as it is typed; "-" clears an optional field."""
    from inspect_kit.findings.template import CANONICAL_HEADERS

    label = f"{CANONICAL_HEADERS[key]} ({OPTION_OF[key]})"
    default = None if default in (None, "") else str(default)
    answer: str  # each value_proc returns the checked text
    if key in ("results", "follow_up"):
        code_list: CodeList[Any] = policy.codebook.categories if key == "results" else policy.codebook.follow_ups
        for i, item in enumerate(code_list, start=1):
            typer.echo(f"  {i:>2}. {item.code} {item.label}")
        answer = typer.prompt(
            f"{label} — numbers, codes or names, several separated by ,",
            default=default,
            value_proc=_codes_proc(code_list),
        )
    elif key in _DATE_KEYS:
        hint = "YYYY-MM-DD, or a range start至end" if key == "inspection_date" else "YYYY-MM-DD, - for none"
        answer = typer.prompt(f"{label} [{hint}]", default=default, value_proc=_date_proc(key == "inspection_date"))
    elif key == "rectification_status":
        answer = typer.prompt(
            f"{label} [open 整改中 / closed 已整改 / overdue 逾期, - for none]",
            default=default,
            value_proc=_status_proc,
        )
    else:
        answer = typer.prompt(label, default=default, value_proc=_text_proc)
    return answer


def prompt_missing(
    engine: Engine,
    policy: FindingsPolicy,
    task_no: str,
    values: dict[str, Any],
    existing: dict[str, Any] | None,
    as_of: dt.date,
) -> None:
    """Prompt for what is missing, then for every field the validator still refuses."""
    from inspect_kit.errors import ValidationFailed
    from inspect_kit.findings.items import item_code, item_key
    from inspect_kit.findings.records import task_checklist
    from inspect_kit.findings.service import check_finding

    cb = policy.codebook

    def have(key: str) -> bool:
        return bool({**(existing or {}), **values}.get(key))

    def chosen(key: str, code_list: CodeList[Any]) -> list[Any]:
        return code_list.split({**(existing or {}), **values}.get(key) or "")[0]

    # The usual order of the form; each question only when its answer is missing and needed.
    if not any(have(k) for k in ("inspection_date", "inspection_start", "inspection_end")):
        values["inspection_date"] = ask("inspection_date", policy)
    if not have("results"):
        values["results"] = ask("results", policy)
    if any(c.problem for c in chosen("results", cb.categories)) and not have("problems"):
        values["problems"] = ask("problems", policy)
    if not have("follow_up"):
        values["follow_up"] = ask("follow_up", policy)
    follow_ups = chosen("follow_up", cb.follow_ups)
    if any(f.rectification for f in follow_ups) and not have("rectification_deadline"):
        values["rectification_deadline"] = ask("rectification_deadline", policy)
    if any(f.case for f in follow_ups) and not have("case_no"):
        values["case_no"] = ask("case_no", policy)
    if not have("recorded_by"):
        values["recorded_by"] = ask("recorded_by", policy)
    # The checklist (一表通查), item by item, when no item result is recorded or given yet.
    with engine.connect() as conn:
        checklist = dict(task_checklist(conn, task_no))
    if checklist and not any(item_code(k) for k in {**(existing or {}), **values} if have(k)):
        for code, content in checklist.items():
            values[item_key(code)] = ask_item(code, content, policy)
    # Then whatever the validator still refuses, field by field.
    identity = {k: k for k in OPTION_OF}
    problems: list[Problem] = []
    for _ in range(20):
        problems = check_finding(engine, task_no, values, as_of=as_of, policy=policy, columns=identity)
        if not problems:
            return
        askable = [p.column for p in problems if p.column in OPTION_OF or item_code(p.column or "") in checklist]
        if len(askable) < len(problems) or "task_no" in askable:
            raise ValidationFailed(f"cannot record the finding of task {task_no}", for_options(problems))
        for key in dict.fromkeys(k for k in askable if k is not None):
            for p in problems:
                if p.column == key:
                    typer.echo(f"{_option(key)}: {p.reason}", err=True)
            item = item_code(key)  # no default below: the current value was refused
            values[key] = ask_item(item, checklist[item], policy) if item is not None else ask(key, policy)
    raise ValidationFailed(f"cannot record the finding of task {task_no}", for_options(problems))
