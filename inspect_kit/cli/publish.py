"""`inspect publish ...`: the public notices of a period as PDF — the drawn list (抽查对象名单公示)
and the results (抽查结果公示) — the list of notices issued, and the check of the files on disk
against the records. A thin shell over inspect_kit.publish.service.

One module over 400 lines on purpose: one Typer sub-app whose commands are short wrappers over
inspect_kit.publish.service; the length is the option declarations and their help texts, which share
this module's printers, not logic.
"""

from __future__ import annotations  # its helpers name types imported only for the type checker

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional

import typer

if TYPE_CHECKING:
    import datetime as dt

from inspect_kit.cli import common
from inspect_kit.cli.options import JSON as _JSON
from inspect_kit.cli.options import MONTH as _MONTH
from inspect_kit.cli.options import PERIOD as _PERIOD
from inspect_kit.cli.options import QUARTER as _QUARTER
from inspect_kit.cli.options import YEAR as _YEAR
from inspect_kit.cli.options import date_value

publish_app = typer.Typer(
    help="Public notices (公示) as PDF: the drawn list and the results of a period.", no_args_is_help=True
)

_MATTER = typer.Option(None, "--matter", help="Only this matter (repeat for several) \\[default: every matter drawn].")
_UNIT = typer.Option(
    None,
    "--unit",
    help="The issuing unit's code (units.toml) when the period's draws belong to "
    "several units; or give -o a folder for one notice per unit.",
)
_OUTPUT = typer.Option(
    ...,
    "-o",
    "--output",
    help="The .pdf file; or a folder (existing, ending in /, or any name "
    "not ending in .pdf): one notice per unit, named "
    "抽查名单公示-<period>-<unit>.pdf / 抽查结果公示-<period>-<unit>.pdf.",
)
_DATE = typer.Option(None, "--date", help="Issue date (成文日期) printed on the notice \\[default: today].")
_CREATION = typer.Option(
    None,
    "--creation-date",
    help="PDF creation date (YYYY-MM-DD or YYYY-MM-DDTHH:MM) \\[default: the issue date, so that "
    "the same inputs give the same bytes].",
)
_DOC_NUMBER = typer.Option(None, "--doc-number", help="发文字号, e.g. 青环〔2026〕5号 \\[default: none].")
_FORCE = typer.Option(
    False,
    "--force",
    help="Replace an existing file; an issued notice is then recorded as "
    "re-issued (a new record for the same file). Never replaces a non-PDF.",
)


def _period(period: Optional[str], quarter: Optional[str], month: Optional[str], year: Optional[str]) -> str:
    """The label of the one period the options give; refused when none is given."""
    label = _period_or_none(period, quarter, month, year, required=True)
    assert label is not None  # a required period that is missing was refused
    return label


def _period_or_none(
    period: Optional[str], quarter: Optional[str], month: Optional[str], year: Optional[str], required: bool = False
) -> Optional[str]:
    found = common.period_from_options(quarter, month, year, period, required=required)
    return found.label if found else None


def _date(text: Optional[str], option: str) -> dt.date:
    import datetime as dt

    day = date_value(text, option, dt.date.today())
    assert day is not None  # today stands in for a missing option
    return day


def _moment(text: Optional[str]) -> dt.datetime | None:
    import datetime as dt

    from inspect_kit.errors import InspectError

    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InspectError(f"--creation-date: {text!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None


def _is_folder(output: str) -> bool:
    from inspect_kit.errors import InspectError

    path = Path(output)
    if path.exists() and not path.is_dir():
        if path.suffix.lower() != ".pdf":
            raise InspectError(
                f"{output} exists and is not a PDF or a folder: give a .pdf file name or a folder (nothing was written)"
            )
        return False
    return path.is_dir() or output.endswith(("/", "\\")) or path.suffix.lower() != ".pdf"


def _publish(
    kind: str,
    label: str,
    output: str,
    unit: Optional[str],
    matter: Optional[List[str]],
    date: Optional[str],
    creation_date: Optional[str],
    doc_number: Optional[str],
    json_out: bool,
    force: bool,
    **extra: Any,
) -> None:
    import datetime as dt

    from inspect_kit.config import load_config
    from inspect_kit.errors import InspectError
    from inspect_kit.publish import service
    from inspect_kit.publish.notices import default_file_name

    cfg = load_config(common.state.config_path())
    engine = common.engine()
    issue = _date(date, "--date")
    fn = service.NOTICE_KINDS[kind].publish
    args = dict(
        issue_date=issue,
        now=dt.datetime.now().replace(microsecond=0),
        matters=matter or None,
        creation_date=_moment(creation_date),
        doc_number=doc_number,
        force=force,
        **extra,
    )

    def units() -> list[str]:
        found = service.notice_units(engine, cfg, label, matter or None)
        if not found:
            raise InspectError(f"no draws for {label}: nothing to publish")
        return found

    done = _per_unit(
        engine,
        output,
        unit,
        units,
        lambda u: default_file_name(kind, label, u),
        force,
        lambda path, u: fn(engine, cfg, label, path=path, unit=u, **args),
    )
    if json_out:
        common.print_json([d.to_dict() for d in done])
        return
    for d in done:
        common.info(d.line())
        if d.pending_task_nos:
            common.info(f"  待录入 (no finding yet): {', '.join(d.pending_task_nos)}")


def _per_unit(
    engine: Any,
    output: str,
    unit: Optional[str],
    units: Callable[[], List[str]],
    file_name: Callable[[str], str],
    force: bool,
    publish: Callable[[Path, Optional[str]], Any],
) -> list:
    """One file (``output`` a .pdf: ``unit`` or the only unit), or a folder with one file per unit
    (``unit``, else every unit of ``units()``), every target checked before the first is written."""
    from inspect_kit.publish import service

    if not _is_folder(output):
        return [publish(Path(output), unit)]
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {u: folder / file_name(u) for u in ([unit] if unit else units())}
    for path in paths.values():  # every target first: one refused file writes none
        service.check_target(engine, path, force=force)
    return [publish(paths[u], u) for u in paths]


@publish_app.command("verifier")
def verifier(output: Path = typer.Option(..., "-o", "--output", help="The folder to write the page into.")) -> None:
    """Write the draw-verification page (verify.html and its scripts) into a folder: put it on the bureau's
    website or a USB stick; anyone opens it, drops a draw-*.json bundle on it and sees each stratum checked
    in the browser, by JavaScript that is not the server's. No network needed.

    Example: inspect publish verifier -o 复核页面
    """
    from inspect_kit.web import write_verifier

    files = write_verifier(output)
    common.info(f"wrote {', '.join(str(f) for f in files)}: open {files[0]} in a browser")


@publish_app.command("draw")
def draw(
    output: str = _OUTPUT,
    quarter: Optional[str] = _QUARTER,
    month: Optional[str] = _MONTH,
    year: Optional[str] = _YEAR,
    period: Optional[str] = _PERIOD,
    matter: Optional[List[str]] = _MATTER,
    unit: Optional[str] = _UNIT,
    date: Optional[str] = _DATE,
    creation_date: Optional[str] = _CREATION,
    doc_number: Optional[str] = _DOC_NUMBER,
    force: bool = _FORCE,
    json_out: bool = _JSON,
) -> None:
    """Publish the drawn list (抽查对象名单公示) of a period as PDF, and record it.

    One table per matter (序号, 单位名称, 统一社会信用代码, 所属乡镇, 抽取层), then how each draw can be
    checked: algorithm and version, seed and its source, frame SHA-256, per-stratum N, quota,
    rounding and n, re-draws with their reasons. Each draw's bundle is embedded in the PDF as
    draw-<matter>-<period>.json, for `inspect verify --bundle` or the consistent-sampler package.

    Example: inspect publish draw --quarter 2026Q1 --date 2026-01-06 -o 抽查名单公示.pdf
    """
    label = _period(period, quarter, month, year)
    _publish("draw", label, output, unit, matter, date, creation_date, doc_number, json_out, force)


@publish_app.command("results")
def results(
    output: str = _OUTPUT,
    quarter: Optional[str] = _QUARTER,
    month: Optional[str] = _MONTH,
    year: Optional[str] = _YEAR,
    period: Optional[str] = _PERIOD,
    matter: Optional[List[str]] = _MATTER,
    unit: Optional[str] = _UNIT,
    date: Optional[str] = _DATE,
    allow_incomplete: bool = typer.Option(
        False, "--allow-incomplete", help="Publish although some tasks have no finding; they are listed as 待录入."
    ),
    creation_date: Optional[str] = _CREATION,
    doc_number: Optional[str] = _DOC_NUMBER,
    force: bool = _FORCE,
    json_out: bool = _JSON,
) -> None:
    """Publish the results (抽查结果公示) of a period as PDF, and record it.

    A summary per matter (drawn, inspected, problems found, rectified), then per task 任务编号,
    单位名称, 统一社会信用代码, 检查日期, 检查结果, 后续处置 under its 抽查事项 and 检查实施机关.
    Refuses while tasks have no finding, unless --allow-incomplete. Phone numbers, ID-card numbers
    and names of legal representatives in problem descriptions are replaced by ***; the registries'
    legal representatives, officers' names and phones are masked anywhere (龙**), and a file still
    holding one is refused. An existing file is never replaced without --force.

    Example: inspect publish results --quarter 2026Q1 --date 2026-04-15 -o 抽查结果公示.pdf
    """
    label = _period(period, quarter, month, year)
    _publish(
        "results",
        label,
        output,
        unit,
        matter,
        date,
        creation_date,
        doc_number,
        json_out,
        force,
        allow_incomplete=allow_incomplete,
    )


@publish_app.command("plan")
def plan(
    year: int = typer.Option(..., "--year", help="The plan's year, e.g. 2026."),
    output: str = typer.Option(
        ..., "-o", "--output", help="The .pdf file; or a folder: one plan per unit, named 抽查计划-<year>-<unit>.pdf."
    ),
    unit: Optional[str] = typer.Option(
        None, "--unit", help="The unit whose plan it is \\[default: the only unit with matters]."
    ),
    date: Optional[str] = _DATE,
    creation_date: Optional[str] = _CREATION,
    doc_number: Optional[str] = _DOC_NUMBER,
    force: bool = _FORCE,
    json_out: bool = _JSON,
) -> None:
    """Publish the annual plan (年度“双随机、一公开”抽查计划) of a unit as PDF, and record it.

    From the matters list: each matter the unit leads or takes part in, with its legal basis,
    entity categories and strata, quota and rounding (and quotas per stratum), periods, coverage
    rules, method, team (joint matters: the lead unit) and checklist items.

    Example: inspect publish plan --year 2026 --unit STHJ --date 2026-01-05 -o 抽查计划.pdf
    """
    import datetime as dt

    from inspect_kit.config import load_config
    from inspect_kit.publish.plan_service import plan_file_name, plan_units, publish_plan

    cfg = load_config(common.state.config_path())
    engine = common.engine()
    issue, now, created = _date(date, "--date"), dt.datetime.now().replace(microsecond=0), _moment(creation_date)

    def one(path: Path, u: Optional[str]) -> Any:
        return publish_plan(
            engine,
            cfg,
            year,
            path=path,
            unit=u,
            issue_date=issue,
            now=now,
            creation_date=created,
            doc_number=doc_number,
            force=force,
        )

    done = _per_unit(engine, output, unit, lambda: plan_units(cfg), lambda u: plan_file_name(year, u), force, one)
    if json_out:
        common.print_json([d.to_dict() for d in done])
        return
    for d in done:
        common.info(d.line())


@publish_app.command("list")
def list_(
    kind: Optional[str] = typer.Option(None, "--kind", help="draw, results, plan or score."),
    quarter: Optional[str] = _QUARTER,
    month: Optional[str] = _MONTH,
    year: Optional[str] = _YEAR,
    period: Optional[str] = _PERIOD,
    json_out: bool = _JSON,
) -> None:
    """List the notices issued: kind, period, date of issue, matters, tasks, file and its SHA-256.

    Example: inspect publish list --quarter 2026Q1 --json
    """
    from inspect_kit.publish.service import list_notices

    rows = list_notices(common.engine(), kind=kind, period=_period_or_none(period, quarter, month, year))
    if json_out:
        common.print_json([r.to_dict() for r in rows])
        return
    common.print_table(
        f"notices: {len(rows)}",
        ["#", "kind", "period", "issued on", "matters", "tasks", "pending", "pages", "sha256", "path"],
        [
            (
                r.id,
                r.kind,
                r.period,
                r.issued_on,
                ", ".join(r.matter_codes),
                len(r.task_ids),
                len(r.pending_task_ids) or "",
                r.pages,
                r.file_sha256[:16],
                r.path,
            )
            for r in rows
        ],
    )


@publish_app.command("check")
def check(
    folder: Optional[Path] = typer.Argument(
        None,
        help="Check the records of files in this folder, and list its "
        "PDFs with no record [default: every record, and the "
        "folders they are in].",
    ),
    json_out: bool = _JSON,
) -> None:
    """Compare the notice files on disk with the records; exit code 1 on any difference.

    Each recorded notice (the latest record of its file) must be there with its recorded SHA-256:
    MISSING or MODIFIED otherwise. A PDF that no record names is STRAY; a temporary file left by an
    interrupted publish is UNFINISHED.

    Example: inspect publish check notices/
    """
    from inspect_kit.errors import InspectError
    from inspect_kit.publish.service import check_files

    found = check_files(common.engine(), folder)
    bad = [f for f in found if not f.ok]
    if json_out:
        common.print_json(
            [{"status": f.status, "path": f.path, "notice_id": f.notice_id, "detail": f.detail} for f in found]
        )
    else:
        for f in found:
            common.console().print(f.line(), markup=False)
    if bad:
        raise InspectError(f"{len(bad)} of {len(found)} file(s) differ from the notice records")
    if not json_out:
        common.info(f"{len(found)} notice file(s) match their records")


def register(app: typer.Typer) -> None:
    app.add_typer(publish_app, name="publish")
