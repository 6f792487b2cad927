"""`inspect burden` and `inspect merge`: the yearly inspections per entity against the caps, and
joint visits (综合查一次). A thin shell over inspect_kit.draw.store.caps and inspect_kit.joint."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from inspect_kit.cli import common
from inspect_kit.cli.options import JSON


def burden_cmd(year: int = typer.Option(..., "--year", help="The year."), json_out: bool = JSON) -> None:
    """Inspections per entity this year by department; entities at or near their cap; the distribution.

    Example: inspect burden --year 2026 --json
    """
    from inspect_kit.config import load_config
    from inspect_kit.draw.store.caps import burden_summary

    b = burden_summary(common.engine(), load_config(common.state.config_path()), year)
    if len(b.rows) > 20:
        typer.echo(f"{len(b.rows)} entities inspected; the 20 most inspected are shown (--json lists all)")
    if json_out:
        common.print_json(b.to_dict())
        return
    common.print_table(
        f"{year}: inspections per entity (counted against the cap; outside the cap apart)",
        ["identifier", "name", *b.units, "counted", "outside cap", "cap", "left"],
        [
            [
                r.identifier,
                r.name,
                *[r.by_unit.get(u, 0) for u in b.units],
                r.counted,
                r.outside,
                r.cap or "-",
                "-" if r.headroom is None else r.headroom,
            ]
            for r in b.rows[:20]
        ],
    )
    near = b.at_or_near()
    common.print_table(
        "at or near the cap",
        ["identifier", "name", "counted", "cap", "status"],
        [[r.identifier, r.name, r.counted, r.cap, s] for r, s in near],
    )
    common.print_table("distribution", ["inspections", "entities"], [[k, v] for k, v in sorted(b.distribution.items())])


def merge_cmd(
    period: str = typer.Option(..., "--period", help="The period, e.g. 2026Q1."),
    letters: Optional[Path] = typer.Option(None, "--letters", help="Also write each visit's 检查通知书 here."),
    json_out: bool = JSON,
) -> None:
    """Merge the period's tasks of different matters on one entity into joint visits (综合查一次).

    Each visit has a lead unit (settings [joint] lead_order), the combined teams and one letter;
    each matter's result stays on its own task.

    Example: inspect merge --period 2026Q1 --letters out/letters
    """
    import datetime as dt

    from inspect_kit.config import load_config
    from inspect_kit.joint.service import merge, write_letters

    cfg = load_config(common.state.config_path())
    made = merge(common.engine(), cfg, period, now=dt.datetime.now())
    paths = write_letters(common.engine(), cfg, period, letters, issue_date=dt.date.today()) if letters else []
    if json_out:
        common.print_json({"visits": [v.to_dict() for v in made], "letters": [str(p) for p in paths]})
        return
    common.print_table(
        f"{period}: {len(made)} joint visit(s) made",
        ["visit", "entity", "lead unit", "units", "tasks"],
        [
            [v.visit_no, v.identifier, v.lead_unit, "、".join(v.units), ", ".join(t["task_no"] for t in v.tasks)]
            for v in made
        ],
    )
    for p in paths:
        typer.echo(f"wrote {p}")


def register(app: typer.Typer) -> None:
    app.command("burden")(burden_cmd)
    app.command("merge")(merge_cmd)
