"""Demo step: the papers of one lawful inspection and the annual plan, through the same code as
`inspect paper` and `inspect publish plan`.

  1. For the first task of STHJ-01 in 2026Q1 with a 不符合 item (its team assigned by the assign step): the
     行政检查审批表, the 检查通知书 (verification code and QR code) and the 现场检查记录表, dated
     8 January 2026 with the visit planned for 20 January, in 检查文书/ (not a notices folder:
     these papers are not public notices).
     The task's finding (recorded by the findings step, item by item) fills the record.
  2. The 2026 plan (抽查计划) of every unit with matters, issued on 5 January 2026 and recorded
     as a notice.
  3. 30 June: the county amends its matters (STHJ-02's quota 1:10 → 1:8 from the third quarter,
     one more material for STHJ-01's entities), loads the amended configuration
     (`inspect config load`) and re-issues 生态环境局's plan, which lists the changes since 5
     January (计划调整情况). The amended configuration stays loaded: later steps use it (the
     files in configs/ are not changed, so `inspect publish plan --config configs` on the demo
     database asks for `inspect config load` first).

Fixed dates: two runs write byte-identical files (force=True: the demo starts afresh).
"""

from __future__ import annotations

import datetime as dt

from inspect_kit.config import Config
from inspect_kit.demo import DemoContext
from inspect_kit.draw.store.tasks import TaskInfo

MATTER, PERIOD, YEAR = "STHJ-01", "2026Q1", 2026
PAPERS_ON = dt.date(2026, 1, 8)
VISIT_ON = dt.date(2026, 1, 20)
PLAN_ON = dt.date(2026, 1, 5)
FOLDER = "检查文书"
AMENDED_AT = dt.datetime(2026, 6, 30, 11, 0)
AMENDED_UNIT = "STHJ"


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
        task = _task_with_a_failed_item(ctx, tasks)
        folder = ctx.out / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        paper = task_papers(ctx.engine, ctx.config, task_no=task.task_no, with_code=True)[0]
        ctx.echo(
            f"task {task.task_no}: {task.entity_name}; team "
            + "、".join(f"{p.name}（{p.cert_no}）" for p in paper.officers)
            + f"; verification code {paper.verification_code}"
        )
        if paper.item_results:
            ctx.echo(
                f"{KINDS['record']} filled from the finding: "
                + "，".join(f"{i.code} {i.result}" for i in paper.item_results)
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
    _amend_and_reissue(ctx)


def _task_with_a_failed_item(ctx: DemoContext, tasks: list[TaskInfo]) -> TaskInfo:
    """The first task whose finding has a 不符合 item (the record shows both kinds of box), else the first."""
    from inspect_kit.findings.items import FAIL, items_of
    from inspect_kit.findings.records import stored_findings

    with ctx.engine.connect() as conn:
        stored = stored_findings(conn, [t.task_id for t in tasks])
    failed = (
        t for t in tasks if any(i.result == FAIL for i in items_of(stored.get(t.task_id, {}).get("item_results")))
    )
    return next(failed, tasks[0])


def amended_config(config: Config) -> Config:
    """The demo's amendment of 30 June: STHJ-02's quota 1:8, one more material for STHJ-01."""
    import dataclasses
    import hashlib

    from inspect_kit.config.load import matter_spec

    matters = []
    for m in config.matters:
        if m.code == "STHJ-02":
            m = m.model_copy(update={"quota": "1:8"})
        elif m.code == "STHJ-01":
            m = m.model_copy(update={"materials": [*m.materials, "近三个月的污染防治设施用电记录"]})
        matters.append(m)
    digest = hashlib.sha256(config.sha256.encode())
    for m in matters:
        digest.update(matter_spec(m)[1].encode())
    return dataclasses.replace(config, matters=matters, sha256=digest.hexdigest())


def _amend_and_reissue(ctx: DemoContext) -> None:
    from inspect_kit.config.sync import sync_config
    from inspect_kit.publish.notice_plan import plan_matters
    from inspect_kit.publish.plan_service import plan_changes, plan_file_name, publish_plan

    ctx.config = amended_config(ctx.config)
    ctx.echo(f"{AMENDED_AT:%Y-%m-%d}: matters amended — {sync_config(ctx.engine, ctx.config, AMENDED_AT).line()}")
    first, changes = plan_changes(ctx.engine, YEAR, [m.code for m in plan_matters(ctx.config.matters, AMENDED_UNIT)])
    p = publish_plan(
        ctx.engine,
        ctx.config,
        YEAR,
        path=ctx.out / plan_file_name(YEAR, AMENDED_UNIT).replace("抽查计划-", "抽查计划-调整-"),
        unit=AMENDED_UNIT,
        issue_date=AMENDED_AT.date(),
        now=AMENDED_AT,
        force=True,
    )
    ctx.echo(f"{p.path}  ({p.year} plan re-issued, {p.pages} pages; sha256 {p.sha256[:16]}…); changes since {first}:")
    for c in changes:
        ctx.echo(f"  {c.on} {c.matter_code} {c.text}")
    ctx.results["paper"]["amended_plan"] = {**p.to_dict(), "changes": [c.text for c in changes]}
