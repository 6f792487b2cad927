"""`inspect draw ...`: verifiable draws (random 1): commit, draw, unseal, list, show, export.

One module over 400 lines on purpose: one Typer sub-app whose commands are short wrappers over
inspect_kit.draw.service; the length is the option declarations and their help texts, which share
this module's printers, not logic.
"""

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from inspect_kit.cli import common
from inspect_kit.cli.options import CSV, JSON, MATTER, MONTH, PERIOD, QUARTER, YEAR, date_value

if TYPE_CHECKING:  # annotations of the helpers only; the commands import what they use when they run
    from sqlalchemy import Engine

    from inspect_kit.config import Config
    from inspect_kit.config.models import Matter
    from inspect_kit.draw.service import DrawInfo, FrameInfo, SeedSource
    from inspect_kit.periods import Period

draw_app = typer.Typer(help="Verifiable draws of entities to inspect (random 1): prepare, run, show, verify.")

resolve_period = common.period_from_options


def _matters(cfg: "Config", period: "Period", matter: Optional[str]) -> "list[Matter]":
    from inspect_kit.errors import InspectError
    from inspect_kit.periods import matters_for

    if matter:
        return [cfg.matter(matter)]
    found = matters_for(cfg.matters, period)
    if not found:
        raise InspectError(f"no {period.kind}ly matter in the matters list for {period}")
    return found


def _now() -> dt.datetime:
    """Now in China Standard Time (UTC+8), the clock inspect-kit records (see inspect_kit.draw.core.seeds)."""
    from inspect_kit.draw.service import CST

    return dt.datetime.now(CST).replace(tzinfo=None, microsecond=0)


def _codes(cfg: "Config", p: "Period", matter: Optional[str]) -> list[str]:
    return [m.code for m in _matters(cfg, p, matter)]


def _source(
    drand: Optional[int],
    drand_at: Optional[str],
    drand_chain: str,
    lottery_name: Optional[str],
    lottery_issue: Optional[str],
    lottery_date: Optional[str],
    witnessed: Optional[str],
    witnesses: Optional[list[str]],
) -> "SeedSource":
    """The one seed source the options name (a SeedSource), or a clear error."""
    from inspect_kit.draw.service import DRAND_CHAINS, SeedError, SeedSource
    from inspect_kit.errors import InspectError

    kinds = [
        k
        for k, given in (
            ("drand", drand is not None or drand_at),
            ("lottery", lottery_name or lottery_issue or lottery_date),
            ("witnessed", witnessed or witnesses),
        )
        if given
    ]
    if len(kinds) != 1:
        raise InspectError(
            "name exactly one seed source: --drand ROUND (or --drand-at TIME), --lottery-name/"
            "--lottery-issue/--lottery-date, or --witnessed DESCRIPTION --witness NAME"
            + (f" (got {', '.join(kinds)})" if kinds else "")
        )
    try:
        if kinds == ["drand"]:
            if drand is not None and drand_at:
                raise InspectError("give --drand or --drand-at, not both")
            if drand is None:
                import datetime as dt

                try:
                    moment = dt.datetime.fromisoformat(str(drand_at).strip().replace("/", "-"))
                except ValueError:
                    raise InspectError(
                        f"--drand-at: {drand_at!r} is not a time like '2026-01-05 10:00' (China Standard Time)"
                    ) from None
                if drand_chain not in DRAND_CHAINS:
                    raise InspectError(f"--drand-chain: unknown chain {drand_chain!r}")
                drand = DRAND_CHAINS[drand_chain].first_round_after(moment)
            return SeedSource.drand(drand, drand_chain)
        if kinds == ["lottery"]:
            if not (lottery_name and lottery_issue and lottery_date):
                raise InspectError("a lottery source needs --lottery-name, --lottery-issue and --lottery-date")
            drawn_on = date_value(lottery_date, "--lottery-date")
            assert drawn_on is not None  # given (checked above)
            return SeedSource.lottery(lottery_name, lottery_issue, drawn_on)
        return SeedSource.witnessed(witnessed or "", witnesses or [])
    except SeedError as exc:
        raise InspectError(str(exc)) from None


def _print_frame(f: "FrameInfo") -> None:
    common.info(
        f"[bold]{f.matter} {f.period}[/]: frame #{f.id} frozen {f.prepared_at:%Y-%m-%d %H:%M}, "
        f"{f.n_rows} entities, SHA-256 {f.sha256}"
    )
    for reason, n in f.excluded.items():
        common.info(f"  excluded: {n} {common.escape(reason)}")
    if f.commitment is not None:
        c = f.commitment
        common.info(
            f"  commitment #{c.id}: seed source {common.escape(c.seed_source.describe())}"
            + ("; SEALED (the list stays secret until `inspect draw unseal`)" if c.sealed else "")
            + (f"; re-draw: {common.escape(c.redraw_reason)}" if c.redraw_reason else "")
        )
        common.info(f"  commitment code {c.sha256}")
    for w in f.warnings:
        common.info(f"  [yellow]warning:[/] {common.escape(w)}")
    common.print_table(
        None,
        ["stratum", "N", "quota", "rounding", "n", "explanation"],
        [(s["stratum"], s["N"], s["quota"], s["rounding"], s["n"], s["explanation"]) for s in f.strata],
    )


def _print_draw(d: "DrawInfo", tickets: bool = True) -> None:
    from inspect_kit.draw.service import format_ticket

    common.info(
        f"[bold]{d.matter} {d.period}[/]: draw #{d.id}, public seed {common.escape(repr(d.seed))} "
        f"({common.escape(d.seed_source)}), {d.n_selected} selected"
        + (f", re-draw of #{d.redraw_of}: {common.escape(d.reason or '')}" if d.redraw_of else "")
        + (", sealed" + (" (unsealed)" if d.unsealed else "") if d.sealed else "")
    )
    if d.derived_seed:
        common.info(f"  per-draw seed (tickets): {d.derived_seed}")
    for w in d.warnings:
        common.info(f"  [yellow]warning:[/] {common.escape(w)}")
    if tickets:
        common.print_table(
            None,
            ["task", "stratum", "rank", "统一社会信用代码", "名称", "ticket"],
            [
                (t["task_no"], t["stratum"], t["rank"], t["identifier"], t["name"], format_ticket(t["ticket"], 20))
                for t in d.tasks
            ],
        )


SEED = typer.Option(None, "--seed", help="A witnessed seed: the dice digits (≥ 20 characters by default).")
REDRAW = typer.Option(False, "--redraw", help="Draw again; the earlier draw stays on record and is published.")
REASON = typer.Option(None, "--reason", help="Why a re-draw is needed (published).")
DRAND = typer.Option(None, "--drand", help="Seed source: this drand round (published after now).")
DRAND_AT = typer.Option(None, "--drand-at", help="Seed source: the first drand round after this time (UTC+8).")
DRAND_CHAIN = typer.Option("quicknet", "--drand-chain", help="drand chain: quicknet (3 s) or mainnet (30 s).")
LOTTERY_NAME = typer.Option(None, "--lottery-name", help="Seed source: a public lottery, e.g. 福彩3D.")
LOTTERY_ISSUE = typer.Option(None, "--lottery-issue", help="The lottery issue (期号) drawn after today.")
LOTTERY_DATE = typer.Option(None, "--lottery-date", help="The lottery's draw date (after today).")
WITNESSED = typer.Option(None, "--witnessed", help="Seed source: dice or a 摇号 machine at a meeting (described).")
WITNESS = typer.Option(None, "--witness", help="A witness of the meeting (repeat for each).")


@draw_app.callback(invoke_without_command=True)
def draw(
    ctx: typer.Context,
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = MATTER,
    seed: Optional[str] = SEED,
    witnessed: Optional[str] = WITNESSED,
    witness: Optional[list[str]] = WITNESS,
    redraw: bool = REDRAW,
    reason: Optional[str] = REASON,
) -> None:
    """Freeze, commit and draw in one step, with a witnessed seed.

    No frame hash is published before the seed exists, and the notice says so. The two-step
    form, `draw prepare` (commit to a future drand round or lottery issue) then `draw run`, is
    the one a citizen can trust without trusting the operator.

    Example: inspect draw --quarter 2026Q1 --seed "59302 18447 90321 55812" --witnessed "掷骰，县政务大厅" --witness 王公证员
    """
    if ctx.invoked_subcommand is not None:
        return
    if not any((quarter, month, year, period)):
        typer.echo(ctx.get_help())
        raise typer.Exit()
    from inspect_kit.config import load_config
    from inspect_kit.draw import service
    from inspect_kit.errors import InspectError

    if not seed:
        raise InspectError("--seed is required (or use `inspect draw prepare`, then `inspect draw run`)")
    source = _source(None, None, "quicknet", None, None, None, witnessed, witness)
    p = resolve_period(quarter, month, year, period)
    cfg, now = load_config(common.state.config_path()), _now()
    draws = service.draw_now(
        common.engine(),
        cfg,
        p,
        _codes(cfg, p, matter),
        seed=seed,
        source=source,
        as_of=now.date(),
        now=now,
        redraw=redraw,
        reason=reason,
    )
    for d in draws:
        _print_draw(d)


@draw_app.command("prepare")
def prepare(
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = MATTER,
    drand: Optional[int] = DRAND,
    drand_at: Optional[str] = DRAND_AT,
    drand_chain: str = DRAND_CHAIN,
    lottery_name: Optional[str] = LOTTERY_NAME,
    lottery_issue: Optional[str] = LOTTERY_ISSUE,
    lottery_date: Optional[str] = LOTTERY_DATE,
    witnessed: Optional[str] = WITNESSED,
    witness: Optional[list[str]] = WITNESS,
    sealed: bool = typer.Option(False, "--sealed", help="保密抽查: the list stays secret until `draw unseal`."),
    redraw: bool = REDRAW,
    reason: Optional[str] = REASON,
    as_of: Optional[str] = typer.Option(None, "--as-of", help="The draw date the frame reflects \\[default: today]."),
    json_out: bool = JSON,
) -> None:
    """Freeze the frame and commit to a future seed source; publish the printed hash and commitment
    code, then wait for the source's value.

    Example: inspect draw prepare --quarter 2026Q1 --matter STHJ-01 --drand-at "2026-01-05 10:00"
    """
    from inspect_kit.config import load_config
    from inspect_kit.draw import service

    source = _source(drand, drand_at, drand_chain, lottery_name, lottery_issue, lottery_date, witnessed, witness)
    p = resolve_period(quarter, month, year, period)
    cfg, now = load_config(common.state.config_path()), _now()
    on = date_value(as_of, "--as-of", now.date()) or now.date()
    frames = service.prepare(
        common.engine(),
        cfg,
        p,
        _codes(cfg, p, matter),
        source=source,
        as_of=on,
        now=now,
        sealed=sealed,
        redraw=redraw,
        reason=reason,
    )
    if json_out:
        import dataclasses

        common.print_json([dataclasses.asdict(f) for f in frames])
        return
    for f in frames:
        _print_frame(f)
    common.info(
        "Publish each frame SHA-256 and commitment code now; run `inspect draw run` once the seed source's "
        "value is published."
    )


@draw_app.command("run")
def run(
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = MATTER,
    frame_sha256: Optional[str] = typer.Option(
        None,
        "--frame-sha256",
        help="The frame hash that was published: refuse to draw from any other frame (with --matter).",
    ),
    drand_signature: Optional[str] = typer.Option(None, "--drand-signature", help="The committed round's signature."),
    drand_previous: Optional[str] = typer.Option(
        None, "--drand-previous-signature", help="mainnet only: the previous round's signature."
    ),
    lottery_numbers: Optional[str] = typer.Option(None, "--lottery-numbers", help="The lottery's published numbers."),
    seed: Optional[str] = SEED,
    json_out: bool = JSON,
) -> None:
    """Draw from the committed frame with the committed source's value; each drawn entity becomes a task.

    Example: inspect draw run --quarter 2026Q1 --matter STHJ-01 --frame-sha256 9f2c… --drand-signature b7137…
    """
    from inspect_kit.config import load_config
    from inspect_kit.draw import service

    p = resolve_period(quarter, month, year, period)
    cfg, now = load_config(common.state.config_path()), _now()
    draws = service.run(
        common.engine(),
        cfg,
        p,
        _codes(cfg, p, matter),
        now=now,
        seed=seed,
        signature=drand_signature,
        previous_signature=drand_previous,
        numbers=lottery_numbers,
        frame_sha256=frame_sha256,
    )
    if json_out:
        import dataclasses

        common.print_json([dataclasses.asdict(d) for d in draws])
        return
    for d in draws:
        _print_draw(d)


@draw_app.command("unseal")
def unseal(
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: str = typer.Option(..., "--matter", help="The matter of the sealed draw."),
) -> None:
    """Reveal a sealed draw's salt (after the inspections): its list can then be published and re-derived.

    Example: inspect draw unseal --quarter 2026Q1 --matter STHJ-02
    """
    from inspect_kit.draw import service

    p = resolve_period(quarter, month, year, period)
    d = service.unseal(common.engine(), matter, p, now=_now())
    common.info(
        f"draw #{d.id} of {d.matter} {d.period} unsealed: `inspect publish draw` and `inspect draw "
        f"export-bundle {d.id}` now show its list"
    )


@draw_app.command("frames")
def frames(
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = MATTER,
    json_out: bool = JSON,
) -> None:
    """Every frame ever frozen, with its commitment and the draw that used it: a re-freeze is visible.

    Example: inspect draw frames --year 2026
    """
    from inspect_kit.draw import service

    p = resolve_period(quarter, month, year, period, required=False)
    kw = {"year": p.year} if p is not None and year else {"period": p.label if p else None}
    found = service.list_frames(common.engine(), matter=matter, **kw)
    rows: list[dict[str, Any]] = [
        {
            "frame": f.id,
            "matter": f.matter,
            "period": f.period,
            "frozen_at": f.prepared_at,
            "N": f.n_rows,
            "sha256": f.sha256,
            "commitment": f.commitment.sha256 if f.commitment else None,
            "seed_source": f.commitment.seed_source.describe() if f.commitment else None,
            "sealed": bool(f.commitment and f.commitment.sealed),
            "drawn_by": f.drawn_by,
        }
        for f in found
    ]
    if json_out:
        common.print_json(rows)
        return
    common.print_table(
        "frames",
        ["frame", "matter", "period", "frozen at", "N", "SHA-256", "seed source", "drawn by"],
        [
            (
                r["frame"],
                r["matter"],
                r["period"],
                r["frozen_at"],
                r["N"],
                r["sha256"][:16] + "…",
                r["seed_source"],
                f"#{r['drawn_by']}" if r["drawn_by"] else "—",
            )
            for r in rows
        ],
    )


def _current_draws(engine: "Engine", p: "Period | None", matter: Optional[str]) -> "list[DrawInfo]":
    from inspect_kit.draw import service

    with engine.connect() as conn:
        ids = sorted(service.current_draw_ids(conn, p.label if p else None, matter).values())
    return [service.get_draw(engine, i) for i in ids]


@draw_app.command("show")
def show(
    draw_id: Optional[int] = typer.Argument(None, help="A draw number \\[default: the current draws of the period]."),
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = MATTER,
    json_out: bool = JSON,
    csv_out: bool = CSV,
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

        write_csv(
            sys.stdout,
            ["draw", "matter", "period", "task_no", "stratum", "rank", "identifier", "name", "ticket"],
            (
                [
                    d.id,
                    d.matter,
                    d.period,
                    t["task_no"],
                    t["stratum"],
                    t["rank"],
                    t["identifier"],
                    t["name"],
                    t["ticket"],
                ]
                for d in draws
                for t in d.tasks
            ),
        )
    else:
        for d in draws:
            _print_draw(d)


@draw_app.command("list")
def list_(
    quarter: Optional[str] = QUARTER,
    month: Optional[str] = MONTH,
    year: Optional[str] = YEAR,
    period: Optional[str] = PERIOD,
    matter: Optional[str] = MATTER,
    json_out: bool = JSON,
    csv_out: bool = CSV,
) -> None:
    """Every draw on record, re-draws included, with seeds and frame hashes.

    Example: inspect draw list --year 2026 --json
    """
    from inspect_kit.draw import service

    p = resolve_period(quarter, month, year, period, required=False)
    if p is not None and year:  # --year: every draw of the year, its quarters and months included
        draws = service.list_draws(common.engine(), matter=matter, year=p.year)
    else:
        draws = service.list_draws(common.engine(), p.label if p else None, matter)
    rows: list[dict[str, Any]] = [
        {
            "draw": d.id,
            "matter": d.matter,
            "period": d.period,
            "drawn_at": d.drawn_at,
            "seed": d.seed,
            "seed_source": d.seed_source,
            "selected": d.n_selected,
            "frame_sha256": d.frame_sha256,
            "redraw_of": d.redraw_of,
            "reason": d.reason,
        }
        for d in draws
    ]
    if json_out:
        common.print_json(rows)
    elif csv_out:
        import sys

        from inspect_kit.spreadsheet import write_csv

        write_csv(sys.stdout, list(rows[0]) if rows else ["draw"], (list(r.values()) for r in rows))
    else:
        common.print_table(
            "draws",
            ["draw", "matter", "period", "drawn at", "seed", "n", "frame SHA-256", "re-draw of"],
            [
                (
                    r["draw"],
                    r["matter"],
                    r["period"],
                    r["drawn_at"],
                    r["seed"],
                    r["selected"],
                    r["frame_sha256"][:16] + "…",
                    r["redraw_of"] and f"#{r['redraw_of']}: {r['reason']}",
                )
                for r in rows
            ],
        )


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


def register(app: typer.Typer) -> None:
    from inspect_kit.cli import listfile, verify

    listfile.register(draw_app)
    app.add_typer(draw_app, name="draw")
    verify.register(app)
