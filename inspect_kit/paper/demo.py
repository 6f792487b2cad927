"""Demo step: the papers of one lawful inspection and the annual plan, through the same code as
`inspect paper` and `inspect publish plan`.

  1. For the first task of STHJ-01 in 2026Q1 (its team assigned by the assign step): the
     行政检查审批表, the 检查通知书 (verification code and QR code) and the 现场检查记录表, dated
     8 January 2026 with the visit planned for 20 January, in 检查文书/ (not a notices folder:
     these papers are not public notices).
  2. The 2026 plan (抽查计划) of every unit with matters, issued on 5 January 2026 and recorded
     as a notice.

Fixed dates: two runs write byte-identical files (force=True: the demo starts afresh).
"""

from __future__ import annotations

import datetime as dt

from inspect_kit.demo import DemoContext

MATTER, PERIOD, YEAR = "STHJ-01", "2026Q1", 2026
PAPERS_ON = dt.date(2026, 1, 8)
VISIT_ON = dt.date(2026, 1, 20)
PLAN_ON = dt.date(2026, 1, 5)
FOLDER = "检查文书"


def run(ctx: DemoContext) -> None:
    from inspect_kit.draw.store.tasks import current_tasks
    from inspect_kit.paper.papers import KINDS
    from inspect_kit.paper.service import task_papers, write_papers
    from inspect_kit.publish.plan_service import plan_file_name, plan_units, publish_plan

    with ctx.engine.connect() as conn:
        tasks = current_tasks(conn, PERIOD, MATTER)
    if not tasks:
        ctx.echo(f"no tasks for {MATTER} {PERIOD}: no papers")
    else:
        task = tasks[0]
        folder = ctx.out / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        paper = task_papers(ctx.engine, ctx.config, task_no=task.task_no, with_code=True)[0]
        ctx.echo(
            f"task {task.task_no}: {task.entity_name}; team "
            + "、".join(f"{p.name}（{p.cert_no}）" for p in paper.officers)
            + f"; verification code {paper.verification_code}"
        )
        for kind in KINDS:
            for w in write_papers(
                ctx.engine,
                ctx.config,
                kind,
                output=folder / f"{KINDS[kind]}-{task.task_no}.pdf",
                issue_date=PAPERS_ON,
                task_no=task.task_no,
                visit_from=VISIT_ON,
                visit_to=VISIT_ON,
                force=True,
            ):
                ctx.echo(f"{w.path}  ({KINDS[kind]}, {w.pages} page(s); sha256 {w.sha256[:16]}…)")
        ctx.results["paper"] = {"task_no": task.task_no, "code": paper.verification_code, "url": paper.verification_url}
    plans = []
    for unit in plan_units(ctx.config):
        p = publish_plan(
            ctx.engine,
            ctx.config,
            YEAR,
            path=ctx.out / plan_file_name(YEAR, unit),
            unit=unit,
            issue_date=PLAN_ON,
            now=dt.datetime.combine(PLAN_ON, dt.time(10, 0)),
            force=True,
        )
        plans.append(p)
        ctx.echo(
            f"{p.path}  ({p.year} plan, {p.issuer}, {p.pages} pages, {', '.join(p.matter_codes)}; "
            f"sha256 {p.sha256[:16]}…)"
        )
    ctx.results.setdefault("paper", {})["plans"] = [p.to_dict() for p in plans]
