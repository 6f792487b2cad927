"""Demo step: commit, then draw, every period of 2026, and verify every draw and the log.

Each period follows the draw-meeting protocol of README ("The draw meeting"): the frames are frozen
and committed to a seed source first, and drawn only once that source's value exists.

* 2026 (yearly matters) and 2026Q1, at one January meeting: a lottery issue drawn the day after the
  commitment (the numbers are fictitious, like the county); STHJ-02 is a sealed draw (保密抽查),
  unsealed on 1 April after the inspections. Sharing one seed source is what lets the coordinated
  STHJ-01 (quarterly) and LH-01 (yearly) draw overlapping samples (configs/settings.toml);
* 2026Q2, 2026Q3: dice rolled at a witnessed meeting (the notice says the operator could influence
  such a seed);
* 2026Q4: drand quicknet round 32285085, published 2026-09-17 23:23:39 (UTC+8): committed that
  afternoon, drawn the next morning with the round's real signature (../shared/BEACONS.md),
  verified offline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any

from inspect_kit.draw.core.seeds import SeedSource
from inspect_kit.periods import Period, matters_for, parse_period

if TYPE_CHECKING:
    from inspect_kit.demo import DemoContext

MEETING = ("县政务服务中心抽签会，公开掷骰20次", ["县公证处公证员周文", "县人大代表林秀"])
SEALED = {"2026Q1": ["STHJ-02"]}
UNSEAL_AT = {("STHJ-02", "2026Q1"): dt.datetime(2026, 4, 1, 9, 0)}
DRAND_Q4 = (
    32285085,
    "81dbce51d584d90d618547f4b50391d53ace6f6b9aeb8fb67e1879427af9d0310ac0ec6f519271d9a313ee84b378d416",
)
# the periods of one draw meeting: (source, committed at, drawn at, value given at the draw)
PLAN: dict[str, tuple[SeedSource, dt.datetime, dt.datetime, dict[str, Any]]] = {
    "2026 2026Q1": (
        SeedSource.lottery("中国福利彩票双色球", "2026002", dt.date(2026, 1, 4)),
        dt.datetime(2026, 1, 3, 10, 0),
        dt.datetime(2026, 1, 5, 10, 0),
        {"numbers": "03 09 14 21 27 30 + 11"},
    ),
    "2026Q2": (
        SeedSource.witnessed(*MEETING),
        dt.datetime(2026, 4, 3, 9, 0),
        dt.datetime(2026, 4, 3, 10, 0),
        {"seed": "07731 55290 38164 92047"},
    ),
    "2026Q3": (
        SeedSource.witnessed(*MEETING),
        dt.datetime(2026, 7, 3, 9, 0),
        dt.datetime(2026, 7, 3, 10, 0),
        {"seed": "61928 04473 85516 20391"},
    ),
    "2026Q4": (
        SeedSource.drand(DRAND_Q4[0]),
        dt.datetime(2026, 9, 17, 16, 0),
        dt.datetime(2026, 9, 18, 9, 0),
        {"signature": DRAND_Q4[1]},
    ),
}
DRAW_DAYS = {label: drawn.date() for labels, (_, _, drawn, _) in PLAN.items() for label in labels.split()}


def demo_salt(matter: str, period: str) -> str:
    """A fixed salt, so that the demo prints the same thing every time (real use: a random one)."""
    return hashlib.sha256(f"inspect-kit demo salt {matter} {period}".encode()).hexdigest()


def run(ctx: DemoContext) -> None:
    from inspect_kit.draw import service
    from inspect_kit.transparency import store as log

    draws = []
    for labels, (source, committed, drawn, value) in PLAN.items():
        periods = [parse_period(label) for label in labels.split()]
        frames = {p.label: _commit(ctx, p, source, committed, drawn) for p in periods}
        ctx.echo(f"{' and '.join(labels.split())}: committed {committed:%Y-%m-%d %H:%M} to {source.describe()}")
        for period in periods:
            draws += _draw(ctx, period, frames[period.label], drawn, value)
    failures = [d.id for d in draws if not service.verify_draw(ctx.engine, d.id).ok]
    if failures:
        raise RuntimeError(f"demo draws did not verify: {failures}")
    with ctx.engine.connect() as conn:
        rep = log.verify_log(conn)
    if not rep.ok:
        raise RuntimeError(f"the demo's transparency log does not verify: {rep.problems}")
    ctx.echo(
        f"{len(draws)} draws, {sum(d.n_selected for d in draws)} tasks; every draw re-derived and verified, "
        f"transparency log OK at {rep.head}"
    )
    ctx.results["draws"] = [d.id for d in draws]


def _commit(
    ctx: DemoContext, period: Period, source: SeedSource, committed: dt.datetime, drawn: dt.datetime
) -> list[Any]:
    """Freeze and commit every matter of ``period`` (the sealed ones each with their salt)."""
    from inspect_kit.draw import service

    codes = [m.code for m in matters_for(ctx.config.matters, period)]
    sealed = [c for c in SEALED.get(period.label, []) if c in codes]

    def commit(codes: list[str], salt: str | None = None) -> list[Any]:
        return service.prepare(
            ctx.engine,
            ctx.config,
            period,
            codes,
            source=source,
            as_of=drawn.date(),
            now=committed,
            sealed=salt is not None,
            salt=salt,
        )

    frames = commit([c for c in codes if c not in sealed])
    for code in sealed:
        frames += commit([code], demo_salt(code, period.label))
    return frames


def _draw(ctx: DemoContext, period: Period, frames: list[Any], drawn: dt.datetime, value: dict[str, Any]) -> list[Any]:
    """Draw the committed frames of ``period``, print them, unseal what the demo unseals."""
    from inspect_kit.draw import service

    done = service.run(ctx.engine, ctx.config, period, [f.matter for f in frames], now=drawn, **value)
    rows = []
    for f, d in zip(frames, done):
        for s in f.strata:
            rows.append((f.matter, s["stratum"], s["N"], s["quota"], s["n"], s["explanation"]))
        rows.append(
            (f.matter, "frame SHA-256" + (" (sealed)" if d.sealed else ""), f.n_rows, "", d.n_selected, f.sha256)
        )
    ctx.table(f"{period}: public seed {done[0].seed!r}", ["matter", "stratum", "N", "quota", "n", "explanation"], rows)
    for (matter, label), at in UNSEAL_AT.items():
        if label == period.label:
            service.unseal(ctx.engine, matter, label, now=at)
            ctx.echo(f"{matter} {label}: sealed draw unsealed on {at:%Y-%m-%d}")
    return list(done)
