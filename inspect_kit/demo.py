"""The demo county (青山县, fictitious), end to end: `inspect demo`.

Each pipeline stage adds one step; the steps run in order on one fresh SQLite database. Dates are
fixed so that two runs print the same thing (the registries are loaded on 2 January 2026).
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine

from inspect_kit.config import Config

LOADED_AT = dt.datetime(2026, 1, 2, 9, 0)
# The demo's "today" for deadlines, overdue rectifications and notices: mid-year, so that some
# rectifications are closed, some open and some overdue.
DEMO_TODAY = dt.date(2026, 6, 30)
REGISTRY_FILES = (
    ("entities", "entities_sthj.csv"),
    ("entities", "entities_jyty.xlsx"),
    ("entities", "entities_scjg.csv"),
    ("inspectors", "inspectors.xlsx"),
    ("conflicts", "conflicts.csv"),
)
# Later stages: module inspect_kit.<stage>.demo with run(ctx); absent stages are skipped.
STAGES = ("draw", "assign", "joint", "findings", "publish", "paper", "score", "accounts")


@dataclass
class DemoContext:
    engine: Engine
    config: Config
    registries: Path
    out: Path
    echo: Callable[[str], None]
    table: Callable[..., None]
    results: dict = field(default_factory=dict)  # what a step leaves for the next ones


def load_registries(ctx: DemoContext) -> None:
    from inspect_kit.config.sync import sync_config
    from inspect_kit.registry.importer import ImportOptions, import_registry

    ctx.echo(sync_config(ctx.engine, ctx.config, LOADED_AT).line())
    reg = ctx.config.settings.registry
    opts = ImportOptions(
        now=LOADED_AT,
        known_categories=ctx.config.categories,
        id_scheme=reg.id_scheme,
        other_id_pattern=reg.other_id_pattern,
    )
    for kind, name in REGISTRY_FILES:
        summary = import_registry(ctx.engine, kind, ctx.registries / name, opts)
        ctx.echo(f"{name} ({summary.encoding or 'xlsx'}): {summary.line()}")


def steps() -> list[tuple[str, Callable[[DemoContext], None]]]:
    out: list[tuple[str, Callable[[DemoContext], None]]] = [("registries", load_registries)]
    for stage in STAGES:
        try:
            mod = importlib.import_module(f"inspect_kit.{stage}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"inspect_kit.{stage}.demo":
                raise
            continue
        out.append((stage, mod.run))
    return out


def run_demo(ctx: DemoContext) -> None:
    for name, step in steps():
        ctx.echo(f"\n[bold]== {name} ==[/bold]")
        step(ctx)
    verify_log(ctx)


def verify_log(ctx: DemoContext) -> None:
    """The last step: `inspect log verify` over everything the demo wrote."""
    from inspect_kit.transparency.store import verify_log as verify

    with ctx.engine.connect() as conn:
        report = verify(conn)
    if not report.ok:
        raise RuntimeError(f"the demo's transparency log does not verify: {report.problems}")
    ctx.echo(
        f"\n[bold]== transparency log ==[/bold]\n`inspect log verify`: OK, {report.entries} entries, head {report.head}"
    )
    ctx.results["log_head"] = report.head
