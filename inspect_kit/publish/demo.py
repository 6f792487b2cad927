"""Demo step: 青山县 publishes its notices (一公开), through the same code as `inspect publish`.

  1. The drawn list of 2026Q1, issued on the day of the draw, with every draw's bundle embedded:
     抽查名单公示-2026Q1.pdf (one file per unit if several units drew that quarter).
  2. The results of 2026Q1, issued on 15 April (within 20 working days of the March
     inspections): 抽查结果公示-2026Q1.pdf. Tasks without a finding, if any, are listed as 待录入.
  3. The yearly matters: one drawn list per unit, and the results known on 30 June (DEMO_TODAY)
     with --allow-incomplete semantics, the tasks not inspected yet listed as 待录入.

Fixed issue dates and creation dates: two runs write byte-identical files (the demo starts afresh,
so it replaces the files of an earlier run: force=True).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from inspect_kit.demo import DEMO_TODAY, DemoContext
from inspect_kit.publish import service
from inspect_kit.publish.notices import default_file_name
from inspect_kit.storage.models import Draw

Q1, YEAR = "2026Q1", "2026"
Q1_RESULTS_ON = dt.date(2026, 4, 15)


def _recorded_at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(16, 0))


def _draw_day(ctx: DemoContext, period: str) -> dt.date | None:
    with ctx.engine.connect() as conn:
        last = conn.execute(select(func.max(Draw.drawn_at)).where(Draw.period == period)).scalar()
    return last.date() if last is not None else None


def _publish(
    ctx: DemoContext, kind: str, period: str, issue_date: dt.date, **extra: Any
) -> list[service.PublishedNotice]:
    units = service.notice_units(ctx.engine, ctx.config, period)
    fn = service.NOTICE_KINDS[kind].publish
    done = []
    for unit in units:
        name = default_file_name(kind, period, unit if len(units) > 1 else None)
        done.append(
            fn(
                ctx.engine,
                ctx.config,
                period,
                path=ctx.out / name,
                unit=unit,
                issue_date=issue_date,
                now=_recorded_at(issue_date),
                force=True,
                **extra,
            )
        )  # the demo starts afresh
    for d in done:
        pending = f", {len(d.pending_task_ids)} 待录入" if d.pending_task_ids else ""
        ctx.echo(
            f"{d.path}  ({d.kind}, {d.issuer}, issued {d.issued_on}, {d.pages} pages, "
            f"{len(d.task_ids)} tasks{pending}; sha256 {d.sha256[:16]}…)"
        )
    return done


def run(ctx: DemoContext) -> None:
    written: list[service.PublishedNotice] = []
    for period, results_on in ((Q1, Q1_RESULTS_ON), (YEAR, DEMO_TODAY)):
        drawn_on = _draw_day(ctx, period)
        if drawn_on is None:
            ctx.echo(f"no draws for {period}: nothing to publish")
            continue
        written += _publish(ctx, "draw", period, drawn_on)
        written += _publish(ctx, "results", period, results_on, allow_incomplete=True)
    if written:
        rows = [
            (
                d.notice_id,
                d.kind,
                d.period,
                d.issued_on,
                d.issuer,
                len(d.task_ids),
                len(d.pending_task_ids),
                d.pages,
                d.path.name,
            )
            for d in written
        ]
        ctx.table(
            "notices issued", ["#", "kind", "period", "issued on", "issuer", "tasks", "待录入", "pages", "file"], rows
        )
    ctx.results["publish"] = {"notices": [d.to_dict() for d in written]}
