"""`inspect score ...`: year-end scoring (考评) — compute and store a run, explain, manual values,
the PDF report, stored runs and their verification. A thin shell over inspect_kit.score.service."""

from __future__ import annotations  # its helpers name types imported only for the type checker

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    import datetime as dt

    from inspect_kit.config import Config
    from inspect_kit.score import Rulebook
    from inspect_kit.score.service import StoredRun

from inspect_kit.cli import common
from inspect_kit.cli.options import JSON, date_value

# The group's help is the callback's docstring: `inspect score` alone scores the units.
score_app = typer.Typer(invoke_without_command=True)

RULES_FILE = "assessment.toml"


def _date(text: Optional[str], option: str) -> dt.date | None:
    from inspect_kit.errors import InspectError

    if text is not None and not text.strip():
        raise InspectError(f"{option}: give a date, e.g. 2026-12-31")
    return date_value(text, option)


def _config() -> Config:
    from inspect_kit.config import load_config

    return load_config(common.state.config_path())


def _rulebook(rules: Optional[Path]) -> Rulebook:
    from inspect_kit.score import load

    return load(rules if rules is not None else common.state.config_path() / RULES_FILE)


def _need_year(year: Optional[int]) -> int:
    if year is None:
        raise typer.BadParameter("give the year to score, e.g. --year 2026", param_hint="--year")
    return year


def _print_ranking(stored: StoredRun) -> None:
    con = common.console()
    run = stored.run
    con.print(
        f"scoring run #{stored.id}: {stored.year}, as of {stored.as_of}; "
        f"rulebook {run.rulebook_name} (version {run.rulebook_version}, sha256 {run.rulebook_sha256[:12]}…)"
    )
    for w in list(stored.warnings) + list(run.warnings):
        con.print(f"[yellow]warning:[/] {w}", markup=True)
    rows = stored.ranking()
    common.print_table(
        None,
        ["group", "rank", "unit", "name", "total", "grade", "flags"],
        [[r["group"], r["rank"], r["code"], r["name"], r["total"], r["grade"], "；".join(r["flags"])] for r in rows],
    )


@score_app.callback(invoke_without_command=True)
def score_units(
    ctx: typer.Context,
    year: Optional[int] = typer.Option(None, "--year", help="The year to score."),
    rules: Optional[Path] = typer.Option(
        None, "--rules", help="Rulebook (default: assessment.toml in the config folder)."
    ),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Count records up to this date (default: today, at most 31 December of the year)."
    ),
    json_out: bool = JSON,
) -> None:
    """Year-end scoring (考评): score every unit, store the run, print the ranking.

    The metrics come from the records of the year (as of --as-of), the rest from the manual values;
    the run is stored with the rulebook text and hash, the inputs and the results.

    Subcommands: explain, input, import, values, report, runs, verify.

    Example: inspect score --year 2026 --as-of 2026-12-31
    """
    if ctx.invoked_subcommand is not None:
        return
    import datetime as dt

    from inspect_kit.score.service import default_as_of, policy_from_config, run_scoring

    year = _need_year(year)
    cfg = _config()
    rulebook = _rulebook(rules)
    day = _date(as_of, "--as-of") or default_as_of(year, dt.date.today())
    stored = run_scoring(
        common.engine(), rulebook, year, as_of=day, now=dt.datetime.now(), policy=policy_from_config(cfg)
    )
    if json_out:
        from inspect_kit.score.service import year_estimates

        estimates = year_estimates(common.engine(), year, day, policy_from_config(cfg))
        common.print_json({**stored.summary(), "estimates": [e.to_dict() for e in estimates]})
    else:
        _print_ranking(stored)


@score_app.command("explain")
def explain_cmd(
    unit: str = typer.Argument(..., help="Unit code, e.g. STHJ."),
    year: Optional[int] = typer.Option(None, "--year", help="The latest run of this year."),
    run: Optional[int] = typer.Option(None, "--run", help="A stored run id instead of the year's latest."),
    show_all: bool = typer.Option(False, "--all", help="List every record behind a deduction (default: 20 each)."),
) -> None:
    """Explain one unit's score, indicator by indicator, with the records behind each deduction.

    Every indicator with its input, rule and points; the last line adds the points up to the total.

    Example: inspect score explain STHJ --year 2026
    """
    from inspect_kit.score.service import explain_unit, load_run

    if run is None:
        _need_year(year)
    stored = load_run(common.engine(), run, year=year)
    con = common.console()
    for line in explain_unit(stored, unit, limit=None if show_all else 20):
        con.print(line, markup=False)


@score_app.command("input")
def input_cmd(
    unit: str = typer.Argument(..., help="Unit code or name."),
    indicator: str = typer.Argument(..., help="Indicator key (or name) of a manual or judgement indicator."),
    value: str = typer.Argument(
        ...,
        help="A number (3, 0.95, 95%), n/a (不适用), 是/否 for a veto; "
        "for a judgement: the points deducted (0 withdraws earlier ones).",
    ),
    year: int = typer.Option(..., "--year", help="The year the value belongs to."),
    note: str = typer.Option(..., "--note", help="Evidence (文号、台账页码) or, for a judgement, the reason."),
    by: Optional[str] = typer.Option(None, "--by", help="Who enters it."),
    rules: Optional[Path] = typer.Option(
        None, "--rules", help="Rulebook to check against (default: assessment.toml in the config folder)."
    ),
) -> None:
    """Enter a manual value or a judgement deduction for a unit.

    Append-only: the latest value of an indicator counts; every judgement row is one deduction,
    and a judgement row with value 0 withdraws the earlier ones.

    Example: inspect score input STHJ training 4 --year 2026 --note "培训签到表（2026年第1-4次）"
    """
    import datetime as dt

    from inspect_kit.score.service import add_manual_value

    entry = add_manual_value(
        common.engine(),
        _rulebook(rules),
        year=year,
        unit=unit,
        indicator=indicator,
        value=value,
        note=note,
        by=by,
        now=dt.datetime.now(),
    )
    common.info(
        f"manual value #{entry.id}: {entry.year} {entry.unit_code} {entry.indicator} = {entry.value} ({entry.note})"
    )


@score_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help=".xlsx or .csv with columns 单位, 指标, 值, 说明 (录入人 optional)."),
    year: int = typer.Option(..., "--year", help="The year the values belong to."),
    by: Optional[str] = typer.Option(None, "--by", help="Who enters them (unless the file has 录入人)."),
    rules: Optional[Path] = typer.Option(
        None, "--rules", help="Rulebook to check against (default: assessment.toml in the config folder)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the file, write nothing."),
    encoding: Optional[str] = typer.Option(None, help="Override the detected encoding of a CSV file."),
    sheet: Optional[str] = typer.Option(None, help="The .xlsx sheet to read (default: the first)."),
) -> None:
    """Import manual values and judgement deductions from a spreadsheet, all or nothing.

    Any bad row refuses the file with a report naming row, column and reason.

    Example: inspect score import 考评手工数据.xlsx --year 2026
    """
    import datetime as dt

    from inspect_kit.score.service import import_manual_values

    summary = import_manual_values(
        common.engine(),
        _rulebook(rules),
        file,
        year=year,
        by=by,
        now=dt.datetime.now(),
        dry_run=dry_run,
        encoding=encoding,
        sheet=sheet,
    )
    common.info(summary.line())
    if summary.ignored_columns:
        common.info(f"ignored columns: {', '.join(summary.ignored_columns)}")


@score_app.command("values")
def values_cmd(
    year: int = typer.Option(..., "--year", help="The year."),
    unit: Optional[str] = typer.Option(None, "--unit", help="Only this unit code."),
    indicator: Optional[str] = typer.Option(None, "--indicator", help="Only this indicator key."),
    json_out: bool = JSON,
) -> None:
    """List the manual values and judgement deductions entered for a year, oldest first.

    Example: inspect score values --year 2026 --unit STHJ
    """
    from inspect_kit.score.service import manual_history

    rows = manual_history(common.engine(), year, unit, indicator)
    if json_out:
        common.print_json([r.to_dict() for r in rows])
        return
    common.print_table(
        f"manual values {year}: {len(rows)}",
        ["id", "unit", "indicator", "value", "note", "by", "at"],
        [
            [r.id, r.unit_code, r.indicator, r.value, r.note, r.entered_by, f"{r.entered_at:%Y-%m-%d %H:%M}"]
            for r in rows
        ],
    )


@score_app.command("report")
def report_cmd(
    output: Path = typer.Option(..., "-o", "--output", help="The PDF to write."),
    year: Optional[int] = typer.Option(None, "--year", help="Report the latest run of this year."),
    run: Optional[int] = typer.Option(None, "--run", help="A stored run id instead of the year's latest."),
    issue_date: Optional[str] = typer.Option(
        None, "--issue-date", help="Date printed under the signature (default: today)."
    ),
    issuer: Optional[str] = typer.Option(
        None, "--issuer", help="Signature (default: <county>“双随机、一公开”监管工作考评组)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing PDF (recorded as a re-issue)."),
) -> None:
    """Write the scoring report as PDF and record it as a notice (kind 'score').

    The ranking, a breakdown per unit and a bar chart of the totals, in the notices' layout and fonts.

    Example: inspect score report --year 2026 -o 考评结果.pdf
    """
    import datetime as dt

    from inspect_kit.score.report import default_issuer, fonts_from_config, write_report
    from inspect_kit.score.service import policy_from_config

    if run is None:
        _need_year(year)
    cfg = _config()
    engine = common.engine()
    result = write_report(
        engine,
        output,
        year=year,
        run_id=run,
        issuer=issuer or default_issuer(cfg),
        issue_date=_date(issue_date, "--issue-date") or dt.date.today(),
        now=dt.datetime.now(),
        county=cfg.settings.county.name,
        fonts=fonts_from_config(cfg),
        force=force,
        policy=policy_from_config(cfg),
    )
    common.info(
        f"wrote {result.path} ({result.pages} pages, sha256 {result.sha256[:12]}…) "
        f"from scoring run #{result.run_id}; notice #{result.notice_id}"
        + (f" (re-issue of notice #{result.reissue_of})" if result.reissue_of else "")
    )


@score_app.command("runs")
def runs_cmd(
    year: Optional[int] = typer.Option(None, "--year", help="Only this year."),
    json_out: bool = JSON,
) -> None:
    """List the stored scoring runs.

    Example: inspect score runs --year 2026
    """
    from inspect_kit.score.service import list_runs

    runs = list_runs(common.engine(), year)
    if json_out:
        common.print_json(
            [
                {
                    "id": r.id,
                    "year": r.year,
                    "as_of": r.as_of,
                    "created_at": r.created_at.isoformat(),
                    "rulebook_version": r.rulebook_version,
                    "rulebook_sha256": r.rulebook_sha256,
                    "inputs_sha256": r.inputs_sha256,
                    "units": r.units,
                }
                for r in runs
            ]
        )
        return
    common.print_table(
        f"scoring runs: {len(runs)}",
        ["id", "year", "as of", "created", "rulebook", "units"],
        [
            [
                r.id,
                r.year,
                r.as_of,
                f"{r.created_at:%Y-%m-%d %H:%M}",
                f"{r.rulebook_version} ({r.rulebook_sha256[:12]}…)",
                r.units,
            ]
            for r in runs
        ],
    )


@score_app.command("verify")
def verify_cmd(run: int = typer.Argument(..., help="The stored run id.")) -> None:
    """Check that a stored run reproduces exactly (exit code 1 if not).

    Re-scores the stored inputs with the stored rulebook text and compares every fingerprint and result.

    Example: inspect score verify 3
    """
    from inspect_kit.errors import InspectError
    from inspect_kit.score.service import verify_run

    report = verify_run(common.engine(), run)
    con = common.console()
    for line in report.lines():
        con.print(line, markup=False)
    if not report.ok:
        raise InspectError(f"scoring run #{run} does not reproduce")


def register(app: typer.Typer) -> None:
    app.add_typer(score_app, name="score")
