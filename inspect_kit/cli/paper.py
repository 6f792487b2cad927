"""`inspect paper approval|notice|record`: the papers of a lawful inspection as PDF — 行政检查审批表,
检查通知书 (with verification code and QR code), 现场检查记录表 — for one task or for every task of a
period and matter. A thin shell over inspect_kit.paper.service."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from inspect_kit.cli import common
from inspect_kit.cli.options import JSON as _JSON
from inspect_kit.cli.options import date_value

paper_app = typer.Typer(
    help="Papers of a lawful inspection (审批表, 检查通知书, 现场检查记录表) as PDF.", no_args_is_help=True
)

_TASK = typer.Option(None, "--task", help="One task number, e.g. STHJ-01-2026Q1-D1-002; -o is then the .pdf file.")
_PERIOD = typer.Option(
    None,
    "--period",
    help="Every current task of this period (2026Q1, 2026-03, 2026); -o is then a folder (files <paper>-<task>.pdf).",
)
_MATTER = typer.Option(None, "--matter", help="With --period: only this matter.")
_OUTPUT = typer.Option(..., "-o", "--output", help="The .pdf file (--task) or the folder (--period).")
_DATE = typer.Option(None, "--date", help="The paper's date (printed under the signature) \\[default: today].")
_FROM = typer.Option(None, "--visit-from", help="First planned day of the visit \\[default: the period's first day].")
_TO = typer.Option(
    None, "--visit-to", help="Last planned day of the visit \\[default: --visit-from, else the period's last day]."
)
_FORCE = typer.Option(False, "--force", help="Replace existing PDF files.")


def _run(
    kind: str,
    task: Optional[str],
    period: Optional[str],
    matter: Optional[str],
    output: Path,
    date: Optional[str],
    visit_from: Optional[str],
    visit_to: Optional[str],
    force: bool,
    json_out: bool,
) -> None:
    import datetime as dt

    from inspect_kit.config import load_config
    from inspect_kit.errors import InspectError
    from inspect_kit.paper.service import write_papers

    if (task is None) == (period is None):
        raise InspectError("give --task TASK (and -o FILE.pdf) or --period P [--matter M] (and -o FOLDER)")
    if matter and task:
        raise InspectError("--matter goes with --period, not with --task")
    first = date_value(visit_from, "--visit-from")
    last = date_value(visit_to, "--visit-to", first)
    done = write_papers(
        common.engine(),
        load_config(common.state.config_path()),
        kind,
        output=output,
        issue_date=date_value(date, "--date") or dt.date.today(),
        task_no=task,
        period=period,
        matter=matter,
        visit_from=first,
        visit_to=last,
        force=force,
    )
    if json_out:
        common.print_json([d.to_dict() for d in done])
        return
    for d in done:
        common.info(d.line())


@paper_app.command("approval")
def approval(
    task: Optional[str] = _TASK,
    period: Optional[str] = _PERIOD,
    matter: Optional[str] = _MATTER,
    output: Path = _OUTPUT,
    date: Optional[str] = _DATE,
    visit_from: Optional[str] = _FROM,
    visit_to: Optional[str] = _TO,
    force: bool = _FORCE,
    json_out: bool = _JSON,
) -> None:
    """行政检查审批表: the task, entity, matter and legal basis, the team with 执法证号, the planned
    dates, and blank fields for the opinions and the approver's signature.

    Example: inspect paper approval --task STHJ-01-2026Q1-D1-002 --date 2026-01-08 -o 审批表.pdf
    """
    _run("approval", task, period, matter, output, date, visit_from, visit_to, force, json_out)


@paper_app.command("notice")
def notice(
    task: Optional[str] = _TASK,
    period: Optional[str] = _PERIOD,
    matter: Optional[str] = _MATTER,
    output: Path = _OUTPUT,
    date: Optional[str] = _DATE,
    visit_from: Optional[str] = _FROM,
    visit_to: Optional[str] = _TO,
    force: bool = _FORCE,
    json_out: bool = _JSON,
) -> None:
    """检查通知书 to the entity: who will come (names and 执法证号), when, on what legal basis, the
    materials to prepare (一次告知), the right to ask for 回避 and how, and the task's verification
    code with a QR code to its public page ([publish] public_base_url, verification_secret_file).

    Example: inspect paper notice --period 2026Q1 --matter STHJ-01 --date 2026-01-08 -o 通知书/
    """
    _run("notice", task, period, matter, output, date, visit_from, visit_to, force, json_out)


@paper_app.command("record")
def record(
    task: Optional[str] = _TASK,
    period: Optional[str] = _PERIOD,
    matter: Optional[str] = _MATTER,
    output: Path = _OUTPUT,
    date: Optional[str] = _DATE,
    visit_from: Optional[str] = _FROM,
    visit_to: Optional[str] = _TO,
    force: bool = _FORCE,
    json_out: bool = _JSON,
) -> None:
    """现场检查记录表: the matter's checklist for the site, each item with 符合 / 不符合 / 不涉及
    boxes and a blank note, and blanks for the signatures.

    Example: inspect paper record --task STHJ-01-2026Q1-D1-002 -o 记录表.pdf
    """
    _run("record", task, period, matter, output, date, visit_from, visit_to, force, json_out)


def register(app: typer.Typer) -> None:
    app.add_typer(paper_app, name="paper")
