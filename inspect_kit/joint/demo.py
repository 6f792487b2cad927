"""Demo step: merge 2026Q1 into joint visits (综合查一次), write their letters, print the burden.

The config coordinates STHJ-01 and LH-01 positively (configs/settings.toml [coordination.2026]):
LH-01's three key polluters are the first three of STHJ-01's 2026Q1 sample, so each pair becomes
one visit."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inspect_kit.demo import DemoContext

MERGED_AT = dt.datetime(2026, 1, 6, 11, 0)  # after the teams of 2026Q1 are assigned


def run(ctx: DemoContext) -> None:
    from inspect_kit.draw.store.caps import burden_summary
    from inspect_kit.joint.service import merge, write_letters

    made = merge(ctx.engine, ctx.config, "2026Q1", now=MERGED_AT)
    if not made:
        raise RuntimeError("the demo's coordinated draws made no joint visit")
    ctx.table(
        f"2026Q1: {len(made)} joint visit(s) (综合查一次)",
        ["visit", "entity", "lead unit", "tasks (each result recorded on its own)"],
        [[v.visit_no, v.identifier, v.lead_unit, ", ".join(t["task_no"] for t in v.tasks)] for v in made],
    )
    letters = write_letters(
        ctx.engine, ctx.config, "2026Q1", ctx.out / "联合检查通知书", issue_date=MERGED_AT.date(), force=True
    )  # the demo starts afresh: its files of an earlier run are replaced
    ctx.echo(f"{len(letters)} joint notification letters (one per visit, every matter and officer on it): {letters[0]}")
    b = burden_summary(ctx.engine, ctx.config, 2026)
    ctx.table(
        "2026: inspections per entity (distribution)",
        ["inspections", "entities"],
        [[k, n] for k, n in sorted(b.distribution.items())],
    )
    near = b.at_or_near()
    ctx.echo(
        f"{sum(1 for _, s in near if s == 'at cap')} entities at their yearly cap, "
        f"{sum(1 for _, s in near if s == 'near cap')} near it"
    )
    ctx.results["joint_visits"] = [v.visit_no for v in made]
