"""`inspect publish ...`: the public notices of a period as PDF — the drawn list (抽查对象名单公示)
and the results (抽查结果公示) — and the list of notices issued. A thin shell over
inspect_kit.publish.service."""

from pathlib import Path
from typing import List, Optional

import typer

from inspect_kit.cli import common

publish_app = typer.Typer(help="Public notices (公示) as PDF: the drawn list and the results of a period.",
                          no_args_is_help=True)

_QUARTER = typer.Option(None, "--quarter", help="e.g. 2026Q1")
_MONTH = typer.Option(None, "--month", help="e.g. 2026-03")
_YEAR = typer.Option(None, "--year", help="e.g. 2026 (yearly matters)")
_PERIOD = typer.Option(None, "--period", help="2026Q1, 2026-03 or 2026")
_MATTER = typer.Option(None, "--matter", help="Only this matter (repeat for several) [default: every matter drawn].")
_UNIT = typer.Option(None, "--unit", help="The issuing unit's code (units.toml) when the period's draws belong to "
                                          "several units; or give -o a folder for one notice per unit.")
_OUTPUT = typer.Option(..., "-o", "--output", help="The .pdf file; or a folder (existing, ending in /, or any name "
                                                   "not ending in .pdf): one notice per unit, named "
                                                   "抽查名单公示-<period>-<unit>.pdf / 抽查结果公示-<period>-<unit>.pdf.")
_DATE = typer.Option(None, "--date", help="Issue date (成文日期) printed on the notice [default: today].")
_CREATION = typer.Option(None, "--creation-date",
                         help="PDF creation date (YYYY-MM-DD or YYYY-MM-DDTHH:MM) [default: the issue date, so that "
                              "the same inputs give the same bytes].")
_DOC_NUMBER = typer.Option(None, "--doc-number", help="发文字号, e.g. 青环〔2026〕5号 [default: none].")
_JSON = typer.Option(False, "--json", help="Print JSON.")


def _period(period: Optional[str], quarter: Optional[str], month: Optional[str], year: Optional[int],
            required: bool = True) -> Optional[str]:
    found = common.period_from_options(quarter, month, year, period, required=required)
    return found.label if found else None


def _date(text: Optional[str], option: str):
    import datetime as dt

    from inspect_kit.errors import InspectError

    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InspectError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def _moment(text: Optional[str]):
    import datetime as dt

    from inspect_kit.errors import InspectError

    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InspectError(f"--creation-date: {text!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None


def _is_folder(output: str) -> bool:
    return Path(output).is_dir() or output.endswith(("/", "\\")) or Path(output).suffix.lower() != ".pdf"


def _publish(kind: str, label: str, output: str, unit: Optional[str], matter: Optional[List[str]],
             date: Optional[str], creation_date: Optional[str], doc_number: Optional[str], json_out: bool,
             **extra) -> None:
    import datetime as dt

    from inspect_kit.config import load_config
    from inspect_kit.errors import InspectError
    from inspect_kit.publish import service
    from inspect_kit.publish.notices import default_file_name

    cfg = load_config(common.state.config_path())
    engine = common.engine()
    issue = _date(date, "--date")
    fn = service.publish_draw if kind == "draw" else service.publish_results
    args = dict(issue_date=issue, now=dt.datetime.now().replace(microsecond=0), matters=matter or None,
                creation_date=_moment(creation_date), doc_number=doc_number, **extra)
    if _is_folder(output):
        units = [unit] if unit else service.notice_units(engine, cfg, label, matter or None)
        if not units:
            raise InspectError(f"no draws for {label}: nothing to publish")
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        done = [fn(engine, cfg, label, path=folder / default_file_name(kind, label, u), unit=u, **args) for u in units]
    else:
        done = [fn(engine, cfg, label, path=Path(output), unit=unit, **args)]
    if json_out:
        common.print_json([d.to_dict() for d in done])
        return
    for d in done:
        common.info(d.line())
        if d.pending_task_nos:
            common.info(f"  待录入 (no finding yet): {', '.join(d.pending_task_nos)}")


@publish_app.command("draw")
def draw(
    output: str = _OUTPUT,
    quarter: Optional[str] = _QUARTER,
    month: Optional[str] = _MONTH,
    year: Optional[int] = _YEAR,
    period: Optional[str] = _PERIOD,
    matter: Optional[List[str]] = _MATTER,
    unit: Optional[str] = _UNIT,
    date: Optional[str] = _DATE,
    creation_date: Optional[str] = _CREATION,
    doc_number: Optional[str] = _DOC_NUMBER,
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
    _publish("draw", label, output, unit, matter, date, creation_date, doc_number, json_out)


@publish_app.command("results")
def results(
    output: str = _OUTPUT,
    quarter: Optional[str] = _QUARTER,
    month: Optional[str] = _MONTH,
    year: Optional[int] = _YEAR,
    period: Optional[str] = _PERIOD,
    matter: Optional[List[str]] = _MATTER,
    unit: Optional[str] = _UNIT,
    date: Optional[str] = _DATE,
    allow_incomplete: bool = typer.Option(False, "--allow-incomplete",
                                          help="Publish although some tasks have no finding; they are listed as 待录入."),
    creation_date: Optional[str] = _CREATION,
    doc_number: Optional[str] = _DOC_NUMBER,
    json_out: bool = _JSON,
) -> None:
    """Publish the results (抽查结果公示) of a period as PDF, and record it.

    A summary per matter (drawn, inspected, problems found, rectified), then per task 任务编号,
    单位名称, 统一社会信用代码, 检查日期, 检查结果, 后续处置 under its 抽查事项 and 检查实施机关.
    Refuses while tasks have no finding, unless --allow-incomplete. Phone numbers, ID-card numbers
    and names of legal representatives in problem descriptions are replaced by ***.

    Example: inspect publish results --quarter 2026Q1 --date 2026-04-15 -o 抽查结果公示.pdf
    """
    label = _period(period, quarter, month, year)
    _publish("results", label, output, unit, matter, date, creation_date, doc_number, json_out,
             allow_incomplete=allow_incomplete)


@publish_app.command("list")
def list_(
    kind: Optional[str] = typer.Option(None, "--kind", help="draw, results or score."),
    quarter: Optional[str] = _QUARTER,
    month: Optional[str] = _MONTH,
    year: Optional[int] = _YEAR,
    period: Optional[str] = _PERIOD,
    json_out: bool = _JSON,
) -> None:
    """List the notices issued: kind, period, date of issue, matters, tasks, file and its SHA-256.

    Example: inspect publish list --quarter 2026Q1 --json
    """
    from inspect_kit.publish.service import list_notices

    rows = list_notices(common.engine(), kind=kind, period=_period(period, quarter, month, year, required=False))
    if json_out:
        common.print_json([r.to_dict() for r in rows])
        return
    common.print_table(f"notices: {len(rows)}", ["#", "kind", "period", "issued on", "matters", "tasks", "pending",
                                                 "pages", "sha256", "path"],
                       [(r.id, r.kind, r.period, r.issued_on, ", ".join(r.matter_codes), len(r.task_ids),
                         len(r.pending_task_ids) or "", r.pages, r.file_sha256[:16], r.path) for r in rows])


def register(app: typer.Typer) -> None:
    app.add_typer(publish_app, name="publish")
