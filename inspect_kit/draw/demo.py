"""Demo step: prepare and draw 2026Q1–2026Q4 (quarterly matters) and 2026 (yearly matters),
print the per-stratum tables, and verify every draw.

The demo seeds below stand in for the public dice rolls a bureau would use; in real use the seed
is chosen AFTER the frame hash is published (see README, "The procedure").
"""

from __future__ import annotations

import datetime as dt

from inspect_kit.periods import Period, matters_for

DEMO_SEEDS = {
    "2026Q1": ("48213 90577 16342 75018", "demo: 20 dice rolled at the 2026-01-05 draw meeting"),
    "2026Q2": ("07731 55290 38164 92047", "demo: 20 dice rolled at the 2026-04-03 draw meeting"),
    "2026Q3": ("61928 04473 85516 20391", "demo: 20 dice rolled at the 2026-07-03 draw meeting"),
    "2026Q4": ("39054 71862 26609 58137", "demo: 20 dice rolled at the 2026-10-09 draw meeting"),
    "2026": ("84402 13395 67721 90548", "demo: 20 dice rolled at the 2026-01-05 draw meeting"),
}
DRAW_DAYS = {"2026Q1": dt.date(2026, 1, 5), "2026Q2": dt.date(2026, 4, 3), "2026Q3": dt.date(2026, 7, 3),
             "2026Q4": dt.date(2026, 10, 9), "2026": dt.date(2026, 1, 5)}


def run(ctx) -> None:
    from inspect_kit.draw import service

    periods = [Period(2026, "year", 0)] + [Period(2026, "quarter", q) for q in range(4)]
    draws = []
    for period in periods:
        day = DRAW_DAYS[period.label]
        seed, source = DEMO_SEEDS[period.label]
        rows = []
        for matter in matters_for(ctx.config.matters, period):
            frame = service.prepare_frame(ctx.engine, ctx.config, matter.code, period, as_of=day,
                                          now=dt.datetime.combine(day, dt.time(9, 0)))
            d = service.run_draw(ctx.engine, ctx.config, matter.code, period, seed=seed, seed_source=source,
                                 now=dt.datetime.combine(day, dt.time(10, 0)))
            draws.append(d)
            for s in frame.strata:
                rows.append((matter.code, s["stratum"], s["N"], s["quota"], s["n"], s["explanation"]))
            rows.append((matter.code, "frame SHA-256", frame.n_rows, "", d.n_selected, frame.sha256))
        ctx.table(f"{period}: seed {seed!r}", ["matter", "stratum", "N", "quota", "n", "explanation"], rows)
    failures = [d.id for d in draws if not service.verify_draw(ctx.engine, d.id).ok]
    if failures:
        raise RuntimeError(f"demo draws did not verify: {failures}")
    ctx.echo(f"{len(draws)} draws, {sum(d.n_selected for d in draws)} tasks; every draw re-derived and verified "
             "(`inspect verify`)")
    ctx.results["draws"] = [d.id for d in draws]
