"""`inspect draw ...` and `inspect verify`: verifiable draws (random 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from inspect_kit.cli import common

draw_app = typer.Typer(help="Verifiable draws of entities to inspect (random 1): prepare, run, show, verify.")

QUARTER = typer.Option(None, "--quarter", help="e.g. 2026Q1")
MONTH = typer.Option(None, "--month", help="e.g. 2026-03")
YEAR = typer.Option(None, "--year", help="e.g. 2026")
PERIOD = typer.Option(None, "--period", help="2026Q1, 2026-03 or 2026")
MATTER = typer.Option(None, "--matter", help="One matter code [default: every matter of the period's kind].")


resolve_period = common.period_from_options


def _matters(cfg, period, matter: Optional[str]):
    from inspect_kit.errors import InspectError
    from inspect_kit.periods import matters_for

    if matter:
        return [cfg.matter(matter)]
    found = matters_for(cfg.matters, period)
    if not found:
        raise InspectError(f"no {period.kind}ly matter in the matters list for {period}")
    return found


def _now():
    import datetime as dt

    return dt.datetime.now().replace(microsecond=0)


def _print_frame(f) -> None:
    common.info(f"[bold]{f.matter} {f.period}[/]: frame #{f.id} frozen, {f.n_rows} entities, SHA-256 {f.sha256}")
    for reason, n in f.excluded.items():
        common.info(f"  excluded: {n} {reason}")
    common.print_table(None, ["stratum", "N", "quota", "rounding", "n", "explanation"],
                       [(s["stratum"], s["N"], s["quota"], s["rounding"], s["n"], s["explanation"]) for s in f.strata])


def _print_draw(d, tickets: bool = True) -> None:
    from inspect_kit.draw.sampler import format_ticket

    common.info(f"[bold]{d.matter} {d.period}[/]: draw #{d.id}, seed {d.seed!r} ({d.seed_source}), "
                f"{d.n_selected} selected" + (f", re-draw of #{d.redraw_of}: {d.reason}" if d.redraw_of else ""))
    if tickets:
        common.print_table(None, ["task", "stratum", "rank", "统一社会信用代码", "名称", "ticket"],
                           [(t["task_no"], t["stratum"], t["rank"], t["identifier"], t["name"],
                             format_ticket(t["ticket"], 20)) for t in d.tasks])


@draw_app.callback(invoke_without_command=True)
def draw(
    ctx: typer.Context,
    quarter: Optional[str] = QUARTER, month: Optional[str] = MONTH, year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD, matter: Optional[str] = MATTER,
    seed: Optional[str] = typer.Option(None, "--seed", help="The public seed (≥ 20 characters by default)."),
    seed_source: Optional[str] = typer.Option(None, "--seed-source", help="Where the seed came from."),
) -> None:
    """Prepare and draw in one step (the frame is frozen, then drawn with the given seed).

    The two-step form, `draw prepare` then `draw run`, lets the frame's hash be published before
    the seed is chosen.

    Example: inspect draw --quarter 2026Q1 --seed "59302 18447 90321 55812" --seed-source "dice, 2026-01-05"
    """
    if ctx.invoked_subcommand is not None:
        return
    if not any((quarter, month, year, period)):
        typer.echo(ctx.get_help())
        raise typer.Exit()
    from inspect_kit.config import load_config
    from inspect_kit.draw import service
    from inspect_kit.errors import InspectError

    if not seed or not seed_source:
        raise InspectError("--seed and --seed-source are required (or use `inspect draw prepare` first)")
    p = resolve_period(quarter, month, year, period)
    cfg, engine, now = load_config(common.state.config_path()), common.engine(), _now()
    for m in _matters(cfg, p, matter):
        f = service.prepare_frame(engine, cfg, m.code, p, as_of=now.date(), now=now)
        _print_frame(f)
        _print_draw(service.run_draw(engine, cfg, m.code, p, seed=seed, seed_source=seed_source, now=now))


@draw_app.command("prepare")
def prepare(
    quarter: Optional[str] = QUARTER, month: Optional[str] = MONTH, year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD, matter: Optional[str] = MATTER,
    as_of: Optional[str] = typer.Option(None, "--as-of", help="The draw date the frame reflects [default: today]."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Freeze the frame: store it, print its SHA-256, strata sizes and planned n. Publish the hash,
    then choose the seed.

    Example: inspect draw prepare --quarter 2026Q1 --matter STHJ-01
    """
    from inspect_kit.config import load_config
    from inspect_kit.draw import service
    from inspect_kit.text import parse_date

    p = resolve_period(quarter, month, year, period)
    cfg, engine, now = load_config(common.state.config_path()), common.engine(), _now()
    day = parse_date(as_of) if as_of else now.date()
    frames = [service.prepare_frame(engine, cfg, m.code, p, as_of=day, now=now) for m in _matters(cfg, p, matter)]
    if json_out:
        common.print_json([f.__dict__ for f in frames])
        return
    for f in frames:
        _print_frame(f)


@draw_app.command("run")
def run(
    quarter: Optional[str] = QUARTER, month: Optional[str] = MONTH, year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD, matter: Optional[str] = MATTER,
    seed: str = typer.Option(..., "--seed", help="The public seed (≥ 20 characters by default)."),
    seed_source: str = typer.Option(..., "--seed-source", help="Where the seed came from (dice roll, lottery, beacon)."),
    redraw: bool = typer.Option(False, "--redraw", help="Draw again; the earlier draw stays on record."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why a re-draw was needed (published)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Draw from the prepared frame with the published seed; each drawn entity becomes a task.

    Example: inspect draw run --quarter 2026Q1 --seed "31415926535897932384" --seed-source "福彩3D 2026001期"
    """
    from inspect_kit.config import load_config
    from inspect_kit.draw import service

    p = resolve_period(quarter, month, year, period)
    cfg, engine, now = load_config(common.state.config_path()), common.engine(), _now()
    draws = [service.run_draw(engine, cfg, m.code, p, seed=seed, seed_source=seed_source, now=now, redraw=redraw,
                              reason=reason) for m in _matters(cfg, p, matter)]
    if json_out:
        common.print_json([d.__dict__ for d in draws])
        return
    for d in draws:
        _print_draw(d)


def _current_draws(engine, p, matter):
    from inspect_kit.draw import service
    from inspect_kit.draw.tasks import current_draw_ids

    with engine.connect() as conn:
        ids = sorted(current_draw_ids(conn, p.label if p else None, matter).values())
    return [service.get_draw(engine, i) for i in ids]


@draw_app.command("show")
def show(
    draw_id: Optional[int] = typer.Argument(None, help="A draw number [default: the current draws of the period]."),
    quarter: Optional[str] = QUARTER, month: Optional[str] = MONTH, year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD, matter: Optional[str] = MATTER,
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Each drawn entity with its stratum, ticket and rank.

    Example: inspect draw show --quarter 2026Q1 --csv > drawn.csv
    """
    from inspect_kit.draw import service
    from inspect_kit.errors import InspectError

    engine = common.engine()
    if draw_id is not None:
        draws = [service.get_draw(engine, draw_id)]
    else:
        p = resolve_period(quarter, month, year, period, required=False)
        draws = _current_draws(engine, p, matter)
        if not draws:
            raise InspectError("no draws found")
    if json_out:
        common.print_json([d.__dict__ for d in draws])
    elif csv_out:
        import sys

        from inspect_kit.spreadsheet import write_csv

        write_csv(sys.stdout, ["draw", "matter", "period", "task_no", "stratum", "rank", "identifier", "name", "ticket"],
                  ([d.id, d.matter, d.period, t["task_no"], t["stratum"], t["rank"], t["identifier"], t["name"],
                    t["ticket"]] for d in draws for t in d.tasks))
    else:
        for d in draws:
            _print_draw(d)


@draw_app.command("list")
def list_(
    quarter: Optional[str] = QUARTER, month: Optional[str] = MONTH, year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD, matter: Optional[str] = MATTER,
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Every draw on record, re-draws included, with seeds and frame hashes.

    Example: inspect draw list --year 2026 --json
    """
    from inspect_kit.draw import service

    p = resolve_period(quarter, month, year, period, required=False)
    draws = service.list_draws(common.engine(), p.label if p else None, matter)
    rows = [{"draw": d.id, "matter": d.matter, "period": d.period, "drawn_at": d.drawn_at, "seed": d.seed,
             "seed_source": d.seed_source, "selected": d.n_selected, "frame_sha256": d.frame_sha256,
             "redraw_of": d.redraw_of, "reason": d.reason} for d in draws]
    if json_out:
        common.print_json(rows)
    elif csv_out:
        import sys

        from inspect_kit.spreadsheet import write_csv

        write_csv(sys.stdout, list(rows[0]) if rows else ["draw"], (r.values() for r in rows))
    else:
        common.print_table("draws", ["draw", "matter", "period", "drawn at", "seed", "n", "frame SHA-256", "re-draw of"],
                           [(r["draw"], r["matter"], r["period"], r["drawn_at"], r["seed"], r["selected"],
                             r["frame_sha256"][:16] + "…", r["redraw_of"] and f"#{r['redraw_of']}: {r['reason']}")
                            for r in rows])


@draw_app.command("export-bundle")
def export_bundle(
    draw_id: int = typer.Argument(..., help="The draw number."),
    output: Path = typer.Option(..., "-o", "--output", help="bundle.json"),
) -> None:
    """Write everything needed to re-derive the draw without the database.

    Example: inspect draw export-bundle 3 -o bundle.json
    """
    from inspect_kit.draw import service

    bundle = service.export_bundle(common.engine(), draw_id)
    output.write_text(json.dumps(bundle, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    common.info(f"wrote {output}: {len(bundle['frame']['rows'])} frame rows, {len(bundle['sample'])} selected")


@draw_app.command("list-file")
def list_file(
    file: Path = typer.Argument(..., help="A .csv or .xlsx list."),
    id_column: str = typer.Option(..., "--id-column", help="The column with the identifiers."),
    stratum_column: Optional[str] = typer.Option(None, "--stratum-column", help="A column that splits the list into strata."),
    rate: Optional[str] = typer.Option(None, "--rate", help="A quota per stratum: 25%, 0.25, 1:10 or 5×inspectors."),
    n: Optional[int] = typer.Option(None, "--n", help="A fixed number per stratum."),
    rounding: str = typer.Option("ceil", "--rounding", help="ceil, floor or round."),
    seed: str = typer.Option(..., "--seed", help="The public seed."),
    seed_source: str = typer.Option("", "--seed-source", help="Where the seed came from."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (the full bundle with -o)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Also write the verification bundle here."),
) -> None:
    """A verifiable draw straight from a spreadsheet, for special inspections (专项检查).

    Example: inspect draw list-file 专项名单.xlsx --id-column 统一社会信用代码 --rate 10% --seed "8812 0031 7765 2290 4418"
    """
    from inspect_kit.draw.listfile import draw_from_file

    result = draw_from_file(file, id_column=id_column, stratum_column=stratum_column, rate=rate, n=n, rounding=rounding,
                            seed=seed, seed_source=seed_source, min_seed_length=1)
    if output:
        output.write_text(json.dumps(result.bundle, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if json_out:
        common.print_json(result.summary())
        return
    for s in result.summary()["strata"]:
        common.info(f"[bold]{s['stratum']}[/]: {s['explanation']}")
        common.print_table(None, ["rank", "identifier", "ticket"], [(x["rank"], x["identifier"], x["ticket"]) for x in s["selected"]])
    common.info(f"frame SHA-256 {result.bundle['frame']['sha256']}" + (f"; bundle written to {output}" if output else ""))


def verify(
    draw_id: Optional[int] = typer.Argument(None, help="A draw number [default: every draw in the database]."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Verify a bundle file alone, without the database."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Re-derive draws from their frame, seed and quotas; say exactly what does not match.

    Exit code 1 if anything does not verify.

    Example: inspect verify --bundle bundle.json
    """
    from inspect_kit.errors import InspectError

    results = []
    if bundle is not None:
        from inspect_kit.draw.bundle import verify_bundle

        try:
            data = json.loads(bundle.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InspectError(f"{bundle}: cannot read the bundle ({exc})") from None
        rep = verify_bundle(data)
        results.append({"what": str(bundle), "ok": rep.ok, "problems": rep.problems})
    else:
        from inspect_kit.draw import service

        engine = common.engine()
        ids = [draw_id] if draw_id is not None else [d.id for d in service.list_draws(engine)]
        for i in ids:
            rep = service.verify_draw(engine, i)
            results.append({"what": f"draw #{i}", "ok": rep.ok, "problems": rep.problems})
        try:
            from inspect_kit.assign.service import verify_assignments
        except ImportError:
            verify_assignments = None
        if verify_assignments is not None and draw_id is None:
            for what, ok, problems in verify_assignments(engine):
                results.append({"what": what, "ok": ok, "problems": problems})
    if json_out:
        common.print_json(results)
    else:
        for r in results:
            if r["ok"]:
                common.info(f"[green]OK[/]  {r['what']}")
            else:
                common.info(f"[red]FAIL[/] {r['what']}")
                for p in r["problems"]:
                    common.info(f"      {p}")
    bad = [r["what"] for r in results if not r["ok"]]
    if bad:
        raise InspectError(f"{len(bad)} of {len(results)} did not verify: {', '.join(bad)}")
    if not results:
        raise InspectError("nothing to verify: no draws in the database")


def register(app: typer.Typer) -> None:
    app.add_typer(draw_app, name="draw")
    app.command("verify")(verify)
