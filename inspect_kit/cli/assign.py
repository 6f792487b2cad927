"""`inspect assign ...`: random team assignment (random 2), substitutes, and checks.

One module over 400 lines on purpose: one Typer sub-app whose commands are short wrappers over
inspect_kit.assign.service; the length is the option declarations and their help texts, which share
this module's printers, not logic.
"""

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import typer

from inspect_kit.cli import common
from inspect_kit.cli.draw import MATTER, MONTH, PERIOD, QUARTER, YEAR, resolve_period
from inspect_kit.cli.options import JSON, date_value

if TYPE_CHECKING:  # annotations of the helpers only
    from inspect_kit.assign.service import AssignmentInfo

assign_app = typer.Typer(
    help="Random teams of enforcement officers for the drawn tasks (random 2): assign, show, "
    "substitute, verify. Teams are confidential until the entities are notified."
)

CSV = typer.Option(False, "--csv", help="Print CSV.")
ON = typer.Option(
    None, "--on", help="Inspection date the certificates must be valid on (default: every day of the period)."
)


def _now() -> dt.datetime:
    from inspect_kit.cli.draw import _now as now

    return now()


def _date(value: Optional[str]) -> Optional[dt.date]:
    return date_value(value, "--on")


def _note() -> None:
    from inspect_kit.assign.service import CONFIDENTIAL_NOTE

    common.console(stderr=True).print(f"[yellow]{CONFIDENTIAL_NOTE}[/]")


def _print_assignment(a: "AssignmentInfo", teams: bool = True) -> None:
    head = (
        f"[bold]{a.matter} {a.period}[/]: assignment #{a.id} of draw #{a.draw_id}, seed {a.seed!r}"
        + (f" ({a.seed_source})" if a.seed_source else "")
        + f", {len(a.teams)} task(s), pair cap {a.pair_cap:g}"
    )
    if a.reassignment_of:
        head += f", re-assignment of #{a.reassignment_of}: {a.reason}"
    common.info(head)
    common.info(f"  inputs SHA-256 {a.inputs_sha256}; fractional solution SHA-256 {a.fractional_sha256}")
    if teams:
        rows = []
        for t in a.teams:
            officers = "、".join(
                f"{m.name}（{m.cert_no}）" + ("*" if m.role == "substitute" else "") for m in t.officers
            )
            experts = "、".join(f"{m.name}（{m.cert_no}）" for m in t.experts)
            rows.append((t.task_no, t.identifier, t.entity_name, t.township or "", officers, experts))
        common.print_table(None, ["task", "统一社会信用代码", "名称", "乡镇", "执法人员", "专家"], rows)
        if any(m.role == "substitute" for t in a.teams for m in t.officers):
            common.info("  * substitute")


def _write_rows(
    assignments: "Sequence[AssignmentInfo]", csv_out: bool, output: Optional[Path], json_out: bool = False
) -> None:
    import sys

    from inspect_kit.assign.service import print_teams, write_teams

    flag = "csv" if csv_out else "json" if json_out else None
    if output is not None:
        n = write_teams(output, assignments, flag)
        common.info(f"wrote {output}: {n} task(s)")
    else:
        print_teams(sys.stdout, assignments, flag or "json")


@assign_app.callback(invoke_without_command=True)
def assign(
    ctx: typer.Context,
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = MATTER,
    seed: Optional[str] = typer.Option(None, "--seed", help="The public seed (≥ 20 characters by default)."),
    seed_source: Optional[str] = typer.Option(None, "--seed-source", help="Where the seed came from."),
    experts: int = typer.Option(
        0, "--experts", help="Outside experts per task, on top of the officers (never counted)."
    ),
    on: Optional[str] = ON,
    reassign: bool = typer.Option(False, "--reassign", help="Assign again; the earlier record stays."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why a re-assignment was needed (kept on record)."),
    json_out: bool = JSON,
) -> None:
    """Assign a random team to every task of the period's current draws, and store it verifiably.

    Each team has the matter's number of qualified officers with valid certificates, none with a
    conflict (declared, home township, inspected the entity last period, paired last period, as
    configured), loads balanced. Nothing is stored if any task cannot be staffed.

    Example: inspect assign --quarter 2026Q1 --seed "20417 88351 09926 47713" --seed-source "dice, 2026-01-06"
    """
    if ctx.invoked_subcommand is not None:
        return
    if not any((quarter, month, year, period)):
        typer.echo(ctx.get_help())
        raise typer.Exit()
    from inspect_kit.assign import service
    from inspect_kit.config import load_config
    from inspect_kit.errors import InspectError

    if not seed:
        raise InspectError("--seed is required: a public seed chosen after the draw (see `inspect assign check`)")
    p = resolve_period(quarter, month, year, period)
    cfg = load_config(common.state.config_path())
    done = service.assign_teams(
        common.engine(),
        cfg,
        p,
        seed=seed,
        seed_source=seed_source,
        now=_now(),
        matters=[matter] if matter else None,
        experts=experts,
        on=_date(on),
        reassign=reassign,
        reason=reason,
    )
    _note()
    if json_out:
        common.print_json([{**a.public(), "fractional_sha256": a.fractional_sha256, "teams": a.rows()} for a in done])
        return
    for a in done:
        _print_assignment(a)


@assign_app.command("check")
def check(
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = MATTER,
    experts: int = typer.Option(0, "--experts", help="Outside experts per task."),
    on: Optional[str] = ON,
    json_out: bool = JSON,
) -> None:
    """Check that teams can be formed and print the inputs' SHA-256, before any seed exists.

    Writes nothing. Lists every task that cannot be staffed and why (exit code 1).

    Example: inspect assign check --year 2026 --matter SCJG-01
    """
    from inspect_kit.assign import service
    from inspect_kit.config import load_config

    p = resolve_period(quarter, month, year, period)
    cfg = load_config(common.state.config_path())
    found = service.check_inputs(
        common.engine(), cfg, p, matters=[matter] if matter else None, experts=experts, on=_date(on)
    )
    if json_out:
        common.print_json([i.__dict__ for i in found])
        return
    for i in found:
        common.info(
            f"[bold]{i.matter} {i.period}[/]: {i.n_tasks} task(s), {i.n_officers} available officer(s); "
            f"teams can be formed. inputs SHA-256 {i.inputs_sha256}"
        )


@assign_app.command("show")
def show(
    assignment_id: Optional[int] = typer.Argument(None, help="An assignment number \\[default: the current ones]."),
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = MATTER,
    public: bool = typer.Option(
        False, "--public", help="Only what may be published: the inputs' SHA-256 and the seed."
    ),
    json_out: bool = JSON,
    csv_out: bool = CSV,
) -> None:
    """The teams of the current assignments (confidential until the entities are notified).

    Example: inspect assign show --quarter 2026Q1 --matter STHJ-01
    """
    from inspect_kit.assign import service
    from inspect_kit.errors import InspectError

    engine = common.engine()
    if assignment_id is not None:
        found = [service.get_assignment(engine, assignment_id)]
    else:
        p = resolve_period(quarter, month, year, period, required=False)
        found = service.current_assignments(engine, p.label if p else None, matter)
        if not found:
            raise InspectError("no teams assigned" + (f" for {p}" if p else "") + (f" ({matter})" if matter else ""))
    if public:
        if json_out:
            common.print_json([a.public() for a in found])
        else:
            for a in found:
                common.info(
                    f"{a.matter} {a.period}: inputs SHA-256 {a.inputs_sha256}; seed {a.seed!r}"
                    + (f" ({a.seed_source})" if a.seed_source else "")
                )
        return
    _note()
    if json_out or csv_out:
        _write_rows(found, csv_out, None)
        return
    for a in found:
        _print_assignment(a)


@assign_app.command("export")
def export(
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = MATTER,
    json_out: bool = typer.Option(False, "--json", help="JSON: one object per task [the default]."),
    csv_out: bool = CSV,
    output: Optional[Path] = typer.Option(
        None,
        "-o",
        "--output",
        help="Write to this file: .json, .csv or .xlsx, by its extension \\[default: standard output].",
    ),
) -> None:
    """Export the current teams: per task the entity's identifier and the team's 执法证号 and names.

    Confidential until the entities are notified. With -o the file's extension decides the format.

    Example: inspect assign export --quarter 2026Q1 -o 检查组.xlsx
    """
    from inspect_kit.assign import service
    from inspect_kit.assign.service import export_format
    from inspect_kit.errors import InspectError

    if json_out and csv_out:
        raise InspectError("give --json or --csv, not both")
    export_format(output, "csv" if csv_out else "json" if json_out else None)  # refuse a bad -o before anything
    p = resolve_period(quarter, month, year, period, required=False)
    found = service.current_assignments(common.engine(), p.label if p else None, matter)
    if not found:
        raise InspectError("no teams assigned" + (f" for {p}" if p else ""))
    _note()
    _write_rows(found, csv_out, output, json_out)


@assign_app.command("list")
def list_(
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = MATTER,
    json_out: bool = JSON,
) -> None:
    """Every assignment on record, re-assignments included, with seeds and hashes.

    Example: inspect assign list --year 2026
    """
    from inspect_kit.assign import service

    p = resolve_period(quarter, month, year, period, required=False)
    if p is not None and year:  # --year: every assignment of the year, its quarters and months included
        found = service.list_assignments(common.engine(), matter=matter, year=p.year)
    else:
        found = service.list_assignments(common.engine(), p.label if p else None, matter)
    rows = [
        {
            **a.public(),
            "draw": a.draw_id,
            "created_at": a.created_at,
            "fractional_sha256": a.fractional_sha256,
            "reassignment_of": a.reassignment_of,
            "reason": a.reason,
        }
        for a in found
    ]
    if json_out:
        common.print_json(rows)
        return
    common.print_table(
        "assignments",
        ["#", "matter", "period", "draw", "assigned at", "seed", "inputs SHA-256", "re-assignment of"],
        [
            (
                r["assignment"],
                r["matter"],
                r["period"],
                r["draw"],
                r["created_at"],
                r["seed"],
                r["inputs_sha256"][:16] + "…",
                r["reassignment_of"] and f"#{r['reassignment_of']}: {r['reason']}",
            )
            for r in rows
        ],
    )


@assign_app.command("substitute")
def substitute(
    task: str = typer.Argument(..., help="The task number, e.g. STHJ-01-2026Q1-002."),
    cert_no: str = typer.Argument(..., help="执法证号 of the officer (or expert) who drops out."),
    reason: str = typer.Option(..., "--reason", help="Why (kept on record)."),
    seed: Optional[str] = typer.Option(
        None,
        "--seed",
        help='Seed of the draw \\[default: the assignment\'s seed + ":substitute:" + task + ":" + 执法证号].',
    ),
    on: Optional[str] = ON,
    json_out: bool = JSON,
) -> None:
    """Draw a replacement for an officer who cannot go; the earlier member stays on record.

    Officers are drawn with probability proportional to (Q − x)/(1 − x) among those eligible for the
    task, not on the team, below their cap and still available, so nobody's chance of inspecting
    the entity exceeds the pair cap Q.

    Example: inspect assign substitute STHJ-01-2026Q1-002 360199ST0003 --reason "病假"
    """
    from inspect_kit.assign import service
    from inspect_kit.config import load_config

    cfg = load_config(common.state.config_path())
    s = service.substitute(common.engine(), cfg, task, cert_no, reason=reason, now=_now(), seed=seed, on=_date(on))
    if json_out:
        common.print_json(s.__dict__)
        return
    common.info(
        f"[bold]{s.task_no}[/]: {s.substitute_name}（{s.substitute}）replaces {s.leaving_name}（{s.leaving}）, "
        f"drawn with probability {s.probability:.4f} among {len(s.candidates)} candidate(s); seed {s.seed!r}"
    )
    if s.excluded:
        common.info(f"  no longer available: {'、'.join(s.excluded)}")
    common.info(f"  team now: {'、'.join(s.team)}")


@assign_app.command("export-bundle")
def export_bundle(
    assignment_id: int = typer.Argument(..., help="The assignment number."),
    output: Path = typer.Option(..., "-o", "--output", help="bundle.json"),
) -> None:
    """Write everything needed to re-derive an assignment without the database (confidential: holds the teams).

    Example: inspect assign export-bundle 3 -o assign-bundle.json
    """
    from inspect_kit.assign import service

    bundle = service.export_bundle(common.engine(), assignment_id)
    output.write_text(json.dumps(bundle, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    _note()
    common.info(f"wrote {output}: {len(bundle['teams'])} team(s), {len(bundle['substitutions'])} substitute(s)")


@assign_app.command("verify")
def verify(
    assignment_id: Optional[int] = typer.Argument(None, help="An assignment number \\[default: every assignment]."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Verify a bundle file alone, without the database."),
    resolve: bool = typer.Option(False, "--resolve", help="Also solve the fractional solution again from the inputs."),
    json_out: bool = JSON,
) -> None:
    """Re-derive teams from the stored fractional solution and the seed; check hashes and every rule.

    Exit code 1 if anything does not verify.

    Example: inspect assign verify --bundle assign-bundle.json
    """
    from inspect_kit.assign import service
    from inspect_kit.errors import InspectError

    if bundle is not None:
        try:
            data = json.loads(bundle.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InspectError(f"{bundle}: cannot read the bundle ({exc})") from None
        rep = service.verify_bundle(data, resolve)
        results = [(str(bundle), rep.ok, rep.problems)]
    else:
        engine = common.engine()
        ids = [assignment_id] if assignment_id is not None else [a.id for a in service.list_assignments(engine)]
        results = []
        for i in ids:
            rep = service.verify_assignment(engine, i, resolve)
            results.append((rep.what, rep.ok, rep.problems))
    if json_out:
        common.print_json([{"what": w, "ok": ok, "problems": p} for w, ok, p in results])
    else:
        for what, ok, problems in results:
            common.info(f"[green]OK[/]  {what}" if ok else f"[red]FAIL[/] {what}")
            for p in problems:
                common.info(f"      {p}")
    bad = [w for w, ok, _ in results if not ok]
    if bad:
        raise InspectError(f"{len(bad)} of {len(results)} did not verify: {', '.join(bad)}")
    if not results:
        raise InspectError("nothing to verify: no assignments in the database")


def register(app: typer.Typer) -> None:
    app.add_typer(assign_app, name="assign")
