"""`inspect demo`: the demo county end to end on a new SQLite database."""

from pathlib import Path
from typing import Optional

import typer

from inspect_kit.cli import common


def _find(name: str, given: Optional[Path]) -> Path:
    """The demo's configs/ and registries/: as given, else in the working directory, else the source tree."""
    from inspect_kit.errors import InspectError

    if given is not None:
        return given
    for candidate in (Path.cwd() / name, Path(__file__).resolve().parents[2] / name):
        if candidate.is_dir():
            return candidate
    raise InspectError(f"cannot find the demo's {name}/ folder; run from the inspect-kit checkout or pass --{name}")


def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for the database and the notices."),
    configs: Optional[Path] = typer.Option(None, "--configs", help="Config folder \\[default: ./configs]."),
    registries: Optional[Path] = typer.Option(None, "--registries", help="Registry files \\[default: ./registries]."),
) -> None:
    """Run the demo county end to end on a new SQLite database in --out.

    Loads the config and the demo registries, commits and draws every period of 2026 (a lottery,
    a sealed draw, a drand round), assigns teams, records findings, publishes notices, scores the
    units and verifies the transparency log, printing what it does.

    Example: inspect demo --out demo-output
    """
    from inspect_kit.config import load_config
    from inspect_kit.demo import DemoContext, run_demo
    from inspect_kit.storage.db import init_database
    from inspect_kit.storage.urls import show_url

    configs = _find("configs", configs or common.state.config_dir)
    registries = _find("registries", registries)
    out.mkdir(parents=True, exist_ok=True)
    if common.state.db_url:
        url = common.state.db_url
    else:
        db = out / "inspect.db"
        for suffix in ("", "-wal", "-shm", "-journal"):  # the demo's own database: always start afresh
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    engine = common.new_engine(url)
    init_database(engine)
    con = common.console()
    con.print(f"demo database: {show_url(engine.url)}")
    ctx = DemoContext(engine, load_config(configs), registries, out, echo=con.print, table=common.print_table)
    run_demo(ctx)
    con.print(f"\n[bold green]demo complete[/]: database and files in {out}/")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
