"""`inspect findings ...`: record inspection results (检查结果), import them from the template, list
them, and see which publicity and rectification deadlines are due. A thin shell over
inspect_kit.findings.service.

One module over 400 lines on purpose: one Typer sub-app whose commands are short wrappers over
inspect_kit.findings.service; the length is the option declarations and their help texts, which
share this module's printers, not logic.
"""

from __future__ import annotations  # its helpers name types imported only for the type checker

import sys
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from inspect_kit.cli import common
from inspect_kit.cli.findings_prompt import OPTION_OF, for_options, item_values, prompt_missing
from inspect_kit.cli.options import JSON, MONTH, PERIOD, QUARTER, YEAR, date_value

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import Engine

    from inspect_kit.findings.service import FindingRecord, FindingsPolicy, RowOutcome

findings_app = typer.Typer(help="Inspection results (检查结果): record, import, list, deadlines.", no_args_is_help=True)


class Status(str, Enum):
    open = "open"
    closed = "closed"
    overdue = "overdue"


STATUS_ZH = {"open": "整改中", "closed": "已整改", "overdue": "逾期"}


def _say(message: str) -> None:
    """Print without rich markup: messages carry users' text (column names, descriptions)."""
    common.console().print(message, markup=False)


def _setup() -> tuple[Engine, FindingsPolicy]:
    """(engine, policy) from --db and the config folder's settings."""
    from inspect_kit.config import load_config
    from inspect_kit.findings.service import policy_from_config

    policy = policy_from_config(load_config(common.state.config_path()))
    return common.engine(), policy


def _day(text: Optional[str], option: str = "--as-of") -> dt.date:
    import datetime as dt

    day = date_value(text, option, dt.date.today())
    assert day is not None  # today stands in for a missing option
    return day


def _period(period: Optional[str], quarter: Optional[str], month: Optional[str], year: Optional[str]) -> Optional[str]:
    found = common.period_from_options(quarter, month, year, period, required=False)
    return found.label if found else None


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return "；".join(map(str, v))
    return str(v)


def _status(f: FindingRecord) -> str:
    return f"{f.status} {STATUS_ZH[f.status]}" if f.status else ""


def _publicity(f: FindingRecord) -> str:
    if f.published_on:
        return f"published {f.published_on}" + ("" if f.published_on_time else " (late)")
    if f.publicity_deadline is None:
        return "?"
    return f"by {f.publicity_deadline}" + (" (overdue)" if f.published_on_time is False else "")


# -- add -----------------------------------------------------------------------------------------


def _warn_private(engine: Engine, outcomes: Iterable[RowOutcome]) -> None:
    """Warn (exit code unchanged) when published free text quotes a registry's private value."""
    from inspect_kit.publish.service import private_value_warnings

    for line in private_value_warnings(engine, outcomes):
        common.console(stderr=True).print(line, markup=False)


@findings_app.command("add")
def add(
    task: str = typer.Argument(..., help="Task number (任务编号)."),
    date: Optional[str] = typer.Option(None, "--date", help="Inspection date, or a range 2026-03-05至2026-03-07."),
    start: Optional[str] = typer.Option(None, "--start", help="Inspection start date (with --end, instead of --date)."),
    end: Optional[str] = typer.Option(None, "--end", help="Inspection end date."),
    result: Optional[list[str]] = typer.Option(
        None, "--result", "-r", help="Result category (检查结果): code (R05) or label; repeatable."
    ),
    problems: Optional[str] = typer.Option(None, "--problems", help="Problem description (问题描述)."),
    follow_up: Optional[list[str]] = typer.Option(
        None, "--follow-up", "-f", help="Follow-up (后续处置): code (F02) or label; repeatable."
    ),
    deadline: Optional[str] = typer.Option(None, "--deadline", help="Rectification deadline (整改期限)."),
    status: Optional[str] = typer.Option(None, "--status", help="Rectification status: open, closed, overdue."),
    recheck_date: Optional[str] = typer.Option(None, "--recheck-date", help="Re-check date (复查日期)."),
    recheck_outcome: Optional[str] = typer.Option(None, "--recheck-outcome", help="Re-check outcome (复查结果)."),
    case_no: Optional[str] = typer.Option(None, "--case-no", help="Case number (立案号) when a case was filed."),
    notes: Optional[str] = typer.Option(None, "--notes", help="Notes (备注)."),
    item: Optional[list[str]] = typer.Option(
        None,
        "--item",
        help="A checklist item's result (检查表逐项结果), repeatable: CODE=RESULT[：NOTE][：CATEGORY] — "
        "符合 / 不符合 / 不涉及, an optional note, and for 不符合 the problem category (R05 or its label), "
        "e.g. --item 01=符合 --item 04=不符合：台账缺两个月：R05; CODE= clears it. Once one item is "
        "recorded every item of the matter's checklist must be.",
    ),
    by: Optional[str] = typer.Option(
        None, "--by", envvar="INSPECT_USER", help="Who makes this entry (kept in the history)."
    ),
    recorded_by: Optional[str] = typer.Option(
        None, "--recorded-by", help="录入人 of the finding \\[default: --by, for a new finding]."
    ),
    interactive: bool = typer.Option(False, "--interactive", "-i", help="Prompt for missing or refused values."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check, write nothing."),
    as_of: Optional[str] = typer.Option(None, "--as-of", hidden=True, help="Check dates against this day, not today."),
) -> None:
    """Record a task's finding, or change it: only the options given change; "" clears a field.

    Every change is kept as a revision (see `inspect findings history`). Prompts for missing values
    when run in a terminal (or with --interactive).

    Example: inspect findings add STHJ-01-2026Q1-D1-002 --date 2026-03-06 -r R05 --problems "废气设施未运行" -f F02 --deadline 2026-04-06 --by 张三

    With a checklist: ... --item 01=符合 --item 02=不符合：废气设施未运行：R05 --item 03=符合 --item 04=符合 --item 05=不涉及
    """
    import datetime as dt

    from inspect_kit.errors import ValidationFailed
    from inspect_kit.findings.service import add_finding, finding_row
    from inspect_kit.text import clean_code

    engine, policy = _setup()
    day = _day(as_of)
    task_no = clean_code(task)
    existing = finding_row(engine, task_no, policy)
    values: dict[str, Any] = {
        "inspection_date": date,
        "inspection_start": start,
        "inspection_end": end,
        "results": "；".join(result) if result else None,
        "problems": problems,
        "follow_up": "；".join(follow_up) if follow_up else None,
        "rectification_deadline": deadline,
        "rectification_status": status,
        "recheck_date": recheck_date,
        "recheck_outcome": recheck_outcome,
        "case_no": case_no,
        "notes": notes,
        "recorded_by": recorded_by or (by if existing is None else None),
    }
    values = {k: v for k, v in values.items() if v is not None}
    values.update(item_values(item or []))
    merged = {**(existing or {}), **values}
    missing = (
        not merged.get("results")
        or not merged.get("follow_up")
        or not merged.get("recorded_by")
        or not any(merged.get(k) for k in ("inspection_date", "inspection_start", "inspection_end"))
    )
    if interactive or (missing and sys.stdin.isatty()):
        prompt_missing(engine, policy, task_no, values, existing, day)
        if not by:
            by = values.get("recorded_by") or (existing or {}).get("recorded_by")
    try:
        outcome = add_finding(
            engine,
            task_no,
            values,
            as_of=day,
            now=dt.datetime.now().replace(microsecond=0),
            by=by,
            source="cli",
            policy=policy,
            columns=OPTION_OF,
            dry_run=dry_run,
        )
    except ValidationFailed as exc:
        raise ValidationFailed(exc.summary, for_options(exc.problems)) from None
    suffix = " (dry run: nothing written)" if dry_run else ""
    _warn_private(engine, [outcome])
    if outcome.action == "unchanged":
        _say(f"{task_no}: no change — the finding already has these values{suffix}")
    else:
        _say(f"{task_no}: finding {outcome.action} ({', '.join(outcome.changes)}){suffix}")


# -- import, template ------------------------------------------------------------------------------


@findings_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="The filled-in template (.xlsx, every sheet) or a .csv."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate, write nothing."),
    by: Optional[str] = typer.Option(
        None, "--by", envvar="INSPECT_USER", help="Who imports (kept in the history) \\[default: each row's 录入人]."
    ),
    encoding: Optional[str] = typer.Option(None, help="Override the detected encoding of a CSV file."),
    as_of: Optional[str] = typer.Option(None, "--as-of", hidden=True, help="Check dates against this day, not today."),
) -> None:
    """Import findings: every row validated, all written in one transaction or none.

    Any bad row refuses the whole file, with a report naming file, sheet, row, column and reason.
    Rows left blank (tasks not inspected yet) are skipped; importing the same file again changes nothing.

    Example: inspect findings import results-2026Q1.xlsx --dry-run
    """
    import datetime as dt

    from inspect_kit.findings.service import import_findings

    engine, policy = _setup()
    summary = import_findings(
        engine,
        file,
        as_of=_day(as_of),
        now=dt.datetime.now().replace(microsecond=0),
        policy=policy,
        by=by,
        dry_run=dry_run,
        encoding=encoding,
    )
    _say(summary.line())
    _warn_private(engine, summary.outcomes)
    changed = [o for o in summary.outcomes if o.action == "updated"]
    for o in changed[:20]:
        _say(f"  {o.task_no}: {', '.join(o.changes)}")
    if len(changed) > 20:
        _say(f"  ... and {len(changed) - 20} more")
    if summary.ignored_columns:
        _say(f"ignored columns: {', '.join(summary.ignored_columns)}")
    if summary.skipped_sheets:
        _say(f"sheets without a 任务编号 column, skipped: {', '.join(summary.skipped_sheets)}")


@findings_app.command("template")
def template(
    output: Path = typer.Option(..., "-o", "--output", help="FILE.xlsx (one sheet per matter) or FILE.csv."),
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = typer.Option(None, "--matter", help="Only this matter."),
) -> None:
    """Write the findings template (检查结果录入表) of a period's current tasks, one sheet per matter.

    Drop-downs for result categories and follow-ups; findings already recorded are filled in, so
    the file can be edited and imported again.

    Example: inspect findings template --quarter 2026Q1 -o results-2026Q1.xlsx
    """
    from inspect_kit.errors import InspectError
    from inspect_kit.findings.service import write_template

    label = _period(period, quarter, month, year)
    if label is None:
        raise InspectError("give the period: --quarter 2026Q1, --month 2026-03, --year 2026 or --period")
    engine, policy = _setup()
    summary = write_template(engine, output, period=label, matter=matter, policy=policy)
    for code, n, pre in summary.sheets:
        _say(f"  {code}: {n} tasks" + (f", {pre} with a finding already" if pre else ""))
    _say(f"wrote {summary.tasks} tasks of {label} to {output}")


# -- reading -------------------------------------------------------------------------------------


@findings_app.command("list")
def list_(
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = typer.Option(None, "--matter", help="Only this matter."),
    status: Optional[Status] = typer.Option(None, "--status", help="Rectification status as of --as-of."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Status as of this day \\[default: today]."),
    json_out: bool = JSON,
) -> None:
    """List the recorded findings of current tasks.

    Example: inspect findings list --quarter 2026Q1 --status overdue
    """
    from inspect_kit.findings.service import list_findings

    engine, policy = _setup()
    rows = list_findings(
        engine,
        as_of=_day(as_of),
        policy=policy,
        period=_period(period, quarter, month, year),
        matter=matter,
        status=status.value if status else None,
    )
    if json_out:
        common.print_json([f.to_dict() for f in rows])
        return
    common.print_table(
        f"findings: {len(rows)}",
        ["任务编号", "单位名称", "检查日期", "检查结果", "后续处置", "整改期限", "整改状态", "公示"],
        [
            (
                f.task_no,
                f.entity_name,
                _dates(f),
                _fmt(f.result_labels),
                _fmt(f.follow_up_labels),
                f.rectification_due,
                _status(f),
                _publicity(f),
            )
            for f in rows
        ],
    )


def _dates(f: FindingRecord) -> str:
    s, e = f.inspection_start, f.inspection_end
    return str(s) if s == e else f"{s}至{e}"


@findings_app.command("show")
def show(
    task: str = typer.Argument(..., help="Task number (任务编号)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Status as of this day \\[default: today]."),
    json_out: bool = JSON,
) -> None:
    """Show one task's finding with its deadlines.

    Example: inspect findings show STHJ-01-2026Q1-D1-002
    """
    import dataclasses

    from inspect_kit.findings.service import get_finding

    engine, policy = _setup()
    task_info, f = get_finding(engine, task, as_of=_day(as_of), policy=policy)
    if json_out:
        common.print_json({"task": dataclasses.asdict(task_info), "finding": f.to_dict() if f else None})
        return
    rows: list[tuple[str, Any]] = [
        ("任务编号", task_info.task_no),
        ("抽查事项", f"{task_info.matter_code} {task_info.period}"),
        ("单位名称", task_info.entity_name),
        ("统一社会信用代码", task_info.identifier),
    ]
    if f is None:
        rows.append(("检查结果", "(not recorded yet)"))
    else:
        if not f.current:
            rows.append(("note", "this task belongs to a superseded draw"))
        rows += [
            ("检查日期", _dates(f)),
            ("检查结果", _fmt(f.result_labels)),
            ("问题描述", f.problems),
            ("后续处置", _fmt(f.follow_up_labels)),
            ("整改期限", f.rectification_deadline),
            ("整改期限 (enforced)", f.rectification_due if f.rectification_due != f.rectification_deadline else None),
            ("整改状态", _status(f)),
            ("复查日期", f.recheck_date),
            ("复查结果", f.recheck_outcome),
            ("立案号", f.case_no),
            ("录入人", f.recorded_by),
            ("备注", f.notes),
            ("公示期限", f.publicity_deadline),
            ("公示", _publicity(f)),
            ("updated", f.updated_at),
        ]
        if f.warning:
            rows.append(("warning", f.warning))
    common.print_table(None, ["field", "value"], [(k, v) for k, v in rows if v not in (None, "")])


@findings_app.command("history")
def history(
    task: str = typer.Argument(..., help="Task number (任务编号)."),
    json_out: bool = JSON,
) -> None:
    """Every change to a task's finding: when, who, from where, old and new values.

    Example: inspect findings history STHJ-01-2026Q1-D1-002
    """
    import dataclasses

    from inspect_kit.findings.service import finding_history

    revisions = finding_history(common.engine(), task)
    if json_out:
        common.print_json([dataclasses.asdict(r) for r in revisions])
        return
    if not revisions:
        _say(f"{task}: no finding recorded")
        return
    common.print_table(
        f"history of {revisions[0].task_no}",
        ["revision", "at", "by", "source", "changes"],
        [
            (
                r.revision,
                r.at,
                r.by,
                r.source,
                "; ".join(f"{k}: {_fmt(o) or '∅'} → {_fmt(n) or '∅'}" for k, (o, n) in r.changes.items()),
            )
            for r in revisions
        ],
    )


@findings_app.command("due")
def due(
    as_of: Optional[str] = typer.Option(None, "--as-of", help="The day to count from \\[default: today]."),
    horizon: int = typer.Option(5, "--horizon", help="Also list deadlines within this many working days."),
    all_: bool = typer.Option(False, "--all", help="List every pending deadline, however far."),
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = typer.Option(None, "--matter", help="Only this matter."),
    json_out: bool = JSON,
) -> None:
    """Publicity and rectification deadlines that are overdue or due soon.

    Results are due for publicity (公示) within the configured working days (20) after the
    inspection ends; results listed in a results notice count as published.

    Example: inspect findings due --as-of 2026-06-30
    """
    import dataclasses

    from inspect_kit.findings.service import due as due_report

    engine, policy = _setup()
    day = _day(as_of)
    report = due_report(
        engine,
        as_of=day,
        policy=policy,
        period=_period(period, quarter, month, year),
        matter=matter,
        horizon=None if all_ else horizon,
    )
    if json_out:
        common.print_json(
            {"as_of": day, "items": [dataclasses.asdict(i) for i in report.items], "warnings": report.warnings}
        )
        return
    kind_zh = {"publicity": "公示 publicity", "rectification": "整改 rectification"}
    common.print_table(
        f"deadlines as of {day}: {sum(i.overdue for i in report.items)} overdue, "
        f"{sum(not i.overdue for i in report.items)} due",
        ["deadline", "kind", "任务编号", "单位名称", "state"],
        [
            (
                i.deadline,
                kind_zh[i.kind],
                i.task_no,
                i.entity_name,
                f"overdue by {i.working_days} working day(s) ({i.calendar_days} days)"
                if i.overdue
                else f"{i.working_days} working day(s) left",
            )
            for i in report.items
        ],
    )
    for w in report.warnings:
        common.console(stderr=True).print(f"warning: {w}", markup=False)


# -- review ------------------------------------------------------------------------------------------

review_app = typer.Typer(help="Review of results (结果审核): submit, approve, return.", no_args_is_help=True)
findings_app.add_typer(review_app, name="review")


TASK_OPT = typer.Option(..., "--task", help="Task number (任务编号).")
BY_OPT = typer.Option(..., "--by", envvar="INSPECT_USER", help="Who takes this step.")


def _review(action: str, task: str, by: str, reason: Optional[str] = None) -> None:
    import datetime as dt

    from inspect_kit.findings import review as rv

    engine, now = common.engine(), dt.datetime.now().replace(microsecond=0)
    if action == "submit":
        state = rv.submit(engine, task, by, now)
    elif action == "approve":
        state = rv.approve(engine, task, by, now)
    else:
        state = rv.return_(engine, task, reason or "", by, now)
    _say(f"{state.task_no}: {state.state} {state.label} (revision {state.revision})")


@review_app.command("submit")
def review_submit(task: str = TASK_OPT, by: str = BY_OPT) -> None:
    """Submit a task's result (its current revision) for review.

    Example: inspect findings review submit --task STHJ-01-2026Q1-D1-002 --by 张三
    """
    _review("submit", task, by)


@review_app.command("approve")
def review_approve(task: str = TASK_OPT, by: str = BY_OPT) -> None:
    """Approve a submitted result (not by the person who submitted it).

    Example: inspect findings review approve --task STHJ-01-2026Q1-D1-002 --by 李四
    """
    _review("approve", task, by)


@review_app.command("return")
def review_return(
    task: str = TASK_OPT,
    reason: str = typer.Option("", "--reason", help="What to correct (required)."),
    by: str = BY_OPT,
) -> None:
    """Return a submitted result to the field with a reason.

    Example: inspect findings review return --task STHJ-01-2026Q1-D1-002 --reason "整改期限有误" --by 李四
    """
    _review("return", task, by, reason)


def register(app: typer.Typer) -> None:
    app.add_typer(findings_app, name="findings")
