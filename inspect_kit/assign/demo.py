"""Demo step: random teams (random 2) for the 2026Q1 tasks of the quarterly matters and the 2026
tasks of the yearly matters; one substitute; everything re-derived and verified.

The seeds below stand in for public dice rolls made after the draws (and after the inputs' hashes
were published with `inspect assign check`). The rules are those of configs/settings.toml: pair cap
0.5, no officer in his or her home township, nor on an entity inspected last period, nor with last
period's partner; declared conflicts from registries/conflicts.csv always apply.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from inspect_kit.periods import Period, matters_for

if TYPE_CHECKING:
    from inspect_kit.demo import DemoContext

DEMO_SEEDS = {
    "2026Q1": ("20417 88351 09926 47713", "demo: 20 dice rolled at the 2026-01-06 team meeting"),
    "2026": ("73160 42285 51938 06674", "demo: 20 dice rolled at the 2026-01-06 team meeting"),
}
ASSIGNED_AT = dt.datetime(2026, 1, 6, 10, 0)
# One officer of the first Q1 task falls ill; the replacement is drawn with the default seed.
SUBSTITUTED_AT = dt.datetime(2026, 2, 2, 9, 0)
SUBSTITUTE_REASON = "病假（demo）"


def run(ctx: DemoContext) -> None:
    from inspect_kit.assign import service

    done = []
    for period in (Period(2026, "quarter", 0), Period(2026, "year", 0)):
        if not matters_for(ctx.config.matters, period):
            continue
        seed, source = DEMO_SEEDS[period.label]
        done += service.assign_teams(ctx.engine, ctx.config, period, seed=seed, seed_source=source, now=ASSIGNED_AT)

    q1 = [a for a in done if a.period == "2026Q1"]
    if q1 and q1[0].teams:
        first = q1[0].teams[0]
        s = service.substitute(
            ctx.engine,
            ctx.config,
            first.task_no,
            first.officers[0].cert_no,
            reason=SUBSTITUTE_REASON,
            now=SUBSTITUTED_AT,
        )
        ctx.echo(
            f"{s.task_no}: {s.leaving_name}（{s.leaving}）falls ill; {s.substitute_name}（{s.substitute}）drawn "
            f"as substitute (probability {s.probability:.4f}, seed {s.seed!r})"
        )
        q1 = service.current_assignments(ctx.engine, "2026Q1")
    for a in q1:
        rows = [
            (
                t.task_no,
                t.entity_name,
                t.township or "",
                "、".join(m.name + ("*" if m.role == "substitute" else "") for m in t.officers),
            )
            for t in a.teams
        ]
        ctx.table(
            f"{a.matter} {a.period}: seed {a.seed!r}, inputs SHA-256 {a.inputs_sha256[:16]}…",
            ["task", "entity", "township", "officers (* substitute)"],
            rows,
        )
    for a in done:
        if a.period == "2026Q1":
            continue
        loads = a.loads
        ctx.echo(
            f"{a.matter} {a.period}: {len(a.teams)} teams from {len(loads)} officers, {min(loads.values())}–"
            f"{max(loads.values())} tasks each; inputs SHA-256 {a.inputs_sha256[:16]}…"
        )
    results = service.verify_assignments(ctx.engine)
    failures = [what for what, ok, _ in results if not ok]
    if failures:
        raise RuntimeError(f"demo assignments did not verify: {failures}")
    ctx.echo(
        f"{len(results)} assignments, {sum(len(a.teams) for a in done)} teams; every team re-derived from the "
        "seed and the stored fractional solution, every rule checked (`inspect verify`). "
        "Teams stay confidential until the entities are notified."
    )
    ctx.results["assignments"] = [a.id for a in done]
