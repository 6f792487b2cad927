"""`inspect verify` and `inspect log ...`: re-derive draws and teams, check bundles against what was
published before them, and the transparency log."""

import json
from pathlib import Path
from typing import Any, Optional

import typer

from inspect_kit.cli import common
from inspect_kit.cli.options import JSON


def _load_bundle(path: Path) -> dict:
    from inspect_kit.errors import InspectError

    try:
        if path.stat().st_size > 2 * 1024**3:
            raise InspectError(f"{path}: larger than 2 GiB, not a bundle")
        data = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise InspectError(f"{path}: nested too deeply to be a bundle") from None
    except (OSError, ValueError) as exc:
        raise InspectError(f"{path}: cannot read the bundle ({exc})") from None
    if not isinstance(data, dict):
        raise InspectError(f"{path}: a bundle is a JSON object")
    return data


def verify(
    draw_id: Optional[int] = typer.Argument(None, help="A draw number \\[default: every draw, team and the log]."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Verify a bundle file alone, without the database."),
    expect_frame: Optional[str] = typer.Option(
        None, "--expect-frame-sha256", help="With --bundle: the frame hash published before the seed."
    ),
    expect_seed: Optional[str] = typer.Option(
        None, "--expect-seed", help="With --bundle: the public seed as published."
    ),
    expect_head: Optional[str] = typer.Option(
        None, "--expect-head", help="With --bundle: a log head N:HASH printed on a notice."
    ),
    expect_commitment: Optional[str] = typer.Option(
        None, "--expect-commitment", help="With --bundle: the commitment code published after `draw prepare`."
    ),
    json_out: bool = JSON,
) -> None:
    """Re-derive draws from their frame, seed and quotas, check their commitments, seeds and the
    transparency log; say exactly what does not match.

    Exit code 1 if anything does not verify.

    Example: inspect verify --bundle draw-STHJ-01-2026Q1.json --expect-frame-sha256 9f2c… --expect-head 41:7be0…
    """
    from inspect_kit.errors import InspectError

    results: list[dict[str, Any]] = []  # what, ok, problems, notes
    if bundle is not None:
        # the pure core only: a bundle is checked offline, without the database layer
        from inspect_kit.draw.core.bundle import verify_bundle
        from inspect_kit.draw.core.record import Expected

        rep = verify_bundle(_load_bundle(bundle), Expected(expect_frame, expect_seed, expect_head, expect_commitment))
        results.append({"what": str(bundle), "ok": rep.ok, "problems": rep.problems, "notes": rep.notes})
    else:
        if any((expect_frame, expect_seed, expect_head, expect_commitment)):
            raise InspectError(
                "--expect-... options check a bundle: give --bundle FILE (for the database, use "
                "`inspect log verify --head N:HASH`)"
            )
        from inspect_kit.assign.service import verify_assignments
        from inspect_kit.draw import service
        from inspect_kit.transparency import store as log

        engine = common.engine()
        ids = [draw_id] if draw_id is not None else [d.id for d in service.list_draws(engine)]
        for i in ids:
            rep = service.verify_draw(engine, i)
            results.append({"what": f"draw #{i}", "ok": rep.ok, "problems": rep.problems, "notes": rep.notes})
        if draw_id is None:
            for what, ok, problems in verify_assignments(engine):
                results.append({"what": what, "ok": ok, "problems": problems, "notes": []})
            with engine.connect() as conn:
                lrep = log.verify_log(conn)
            results.append(
                {
                    "what": f"transparency log ({lrep.entries} entries, head {lrep.head})",
                    "ok": lrep.ok,
                    "problems": lrep.problems,
                    "notes": [],
                }
            )
    if json_out:
        common.print_json(results)
    else:
        for r in results:
            common.info(("[green]OK[/]  " if r["ok"] else "[red]FAIL[/] ") + common.escape(r["what"]))
            for p in r["problems"]:
                common.info(f"      {common.escape(p)}")
            for n in r["notes"]:
                common.info(f"      note: {common.escape(n)}")
    bad = [r["what"] for r in results if not r["ok"]]
    if bad:
        raise InspectError(f"{len(bad)} of {len(results)} did not verify: {', '.join(bad)}")


log_app = typer.Typer(help="The transparency log: a hash chain over every published record.", no_args_is_help=True)


@log_app.command("head")
def log_head() -> None:
    """Print the log head as N:HASH (printed on every notice; keep it to check later).

    Example: inspect log head
    """
    from inspect_kit.transparency import store as log

    with common.engine().connect() as conn:
        typer.echo(log.head_text(conn))


@log_app.command("verify")
def log_verify(
    head: Optional[list[str]] = typer.Option(
        None, "--head", help="A head N:HASH printed earlier (repeatable): the log must still extend it."
    ),
    json_out: bool = JSON,
) -> None:
    """Re-hash the whole chain against the records; fail on any deleted, changed or unlogged record.

    Example: inspect log verify --head 41:7be0c5…
    """
    from inspect_kit.errors import InspectError
    from inspect_kit.transparency import store as log

    with common.engine().connect() as conn:
        rep = log.verify_log(conn, head or [])
    if json_out:
        common.print_json(rep.__dict__)
    elif rep.ok:
        common.info(f"[green]OK[/]  transparency log: {rep.entries} entries, head {rep.head}")
    else:
        for p in rep.problems:
            common.info(f"      {common.escape(p)}")
    if not rep.ok:
        raise InspectError(f"the transparency log does not verify ({len(rep.problems)} problem(s))")


def register(app: typer.Typer) -> None:
    app.add_typer(log_app, name="log")
    app.command("verify")(verify)
