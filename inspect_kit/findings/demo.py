"""Demo step: the inspectors of 青山县 record their findings.

The story, all through the same code paths as the CLI:
  1. 10 April: the findings template of 2026Q1 is written, filled in (every Q1 task inspected in
     the quarter) and imported — `inspect findings template` + `inspect findings import`.
  2. 30 June: the template of the yearly matters (2026) is written; the tasks inspected so far
     (about 60 %) are filled in and imported, the others left blank (skipped on import).
  3. 30 June: re-checks of some rectification orders are recorded one by one —
     `inspect findings add` — so those findings get a second revision; others are left open or
     overdue as of DEMO_TODAY.
Importing the Q1 file a second time changes nothing (no new revisions).
The key-source matter (STHJ-01, the one with a checklist) is recorded item by item (一表通查): every
item 符合, the item the problem concerns 不符合 with the problem as note and the finding's problem
category, and every item 不涉及 for a business not operating (``ITEM_OF_PROBLEM``).

Deterministic: a fixed-seed random.Random and the tasks' order decide every value.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from sqlalchemy import select

from inspect_kit.demo import DEMO_TODAY, DemoContext
from inspect_kit.draw.store.tasks import TaskInfo, current_tasks
from inspect_kit.findings import service
from inspect_kit.findings.calendar import WorkingCalendar
from inspect_kit.findings.items import FAIL, NOT_APPLICABLE, PASS, item_key
from inspect_kit.findings.template import COLUMNS, item_header_key
from inspect_kit.storage.models import Draw, Inspector

SEED = "青山县 2026 检查结果 demo"
Q1, YEAR = "2026Q1", "2026"
Q1_IMPORTED = dt.datetime(2026, 4, 10, 16, 30)
MID_YEAR = dt.datetime.combine(DEMO_TODAY, dt.time(10, 0))

PROBLEMS = {
    "STHJ": [
        "废气收集处理设施未正常运行，车间无组织排放明显",
        "危险废物贮存场所未按规定设置识别标志",
        "自行监测方案未按规定公开，监测数据缺失两个月",
        "雨污分流不彻底，雨水排放口有污水流出",
        "排污许可台账记录不完整",
    ],
    "JYTY": [
        "收费项目和标准未在显著位置公示",
        "安全通道堆放杂物，消防器材过期",
        "两名授课人员未取得相应教师资格证书",
        "培训材料未按规定备案",
    ],
    "SCJG": [
        "年度报告公示的从业人数与实际不符",
        "未按规定公示行政许可取得信息",
        "未在经营场所醒目位置亮照经营",
        "公示的联系电话无法接通",
    ],
}
# STHJ-01's checklist item a problem concerns (configs/matters.toml: 01 排污许可证执行情况 …
# 05 危险废物管理), and the problem category of each outcome kind.
ITEMS_MATTER = "STHJ-01"
ITEM_OF_PROBLEM = {
    "废气收集处理设施未正常运行，车间无组织排放明显": "02",
    "危险废物贮存场所未按规定设置识别标志": "05",
    "自行监测方案未按规定公开，监测数据缺失两个月": "03",
    "雨污分流不彻底，雨水排放口有污水流出": "01",
    "排污许可台账记录不完整": "04",
}
ITEM_CATEGORY = {"order": "R05", "unpublished": "R02", "case": "R06", "other": "R10"}
CASE_PREFIX = {"STHJ": "青山环立", "JYTY": "青山教立", "SCJG": "青山市监立"}
OUTCOMES = ["已按要求完成整改", "设施已修复并正常运行", "已补正公示信息", "已整改到位，复查合格"]


def _working_days(lo: dt.date, hi: dt.date, cal: WorkingCalendar) -> list[dt.date]:
    days = [lo + dt.timedelta(d) for d in range((hi - lo).days + 1)]
    return [d for d in days if cal.is_working_day(d)] or [lo]


# Outcome shares among inspected tasks; the rest find nothing wrong.
SHARES = (("order", 0.22), ("unpublished", 0.05), ("case", 0.06), ("inactive", 0.04), ("closed", 0.03), ("other", 0.05))


def _deck(n: int, rng: random.Random) -> list[str]:
    """n outcomes in the shares above, shuffled; a small batch still gets orders and a case."""
    deck = [kind for kind, share in SHARES for _ in range(round(n * share))]
    deck += ["order"] * max(0, min(2, n // 3) - deck.count("order"))
    deck += ["case"] * (1 if n >= 5 and "case" not in deck else 0)
    deck = (deck + ["clean"] * n)[:n]
    rng.shuffle(deck)
    return deck


def _plan(
    tasks: list[TaskInfo],
    rng: random.Random,
    window: tuple[dt.date, dt.date],
    drawn: dict[int, dt.date],
    names: dict[str, list[str]],
    teams: dict[int, str],
    units: dict[str, str],
    cal: WorkingCalendar,
    share: float,
    case_counter: list[int],
    checklists: dict[str, list[str]],
) -> dict[str, dict[str, Any]]:
    """Task number → the values an inspector writes into the template row."""
    out: dict[str, dict[str, Any]] = {}
    inspected = [t for t in tasks if rng.random() < share]  # the others: not inspected yet
    deck = _deck(len(inspected), rng)
    for k, (t, kind) in enumerate(zip(inspected, deck)):
        unit = units.get(t.matter_code, "STHJ")
        lo = max(window[0], drawn[t.draw_id] + dt.timedelta(days=3))
        start = rng.choice(_working_days(lo, max(lo, window[1]), cal))
        end = start if rng.random() < 0.8 else cal.next_working_day(start)
        team = teams.get(t.task_id, "")
        recorder = team.split("、")[0].replace("（专家）", "") if team else None
        if not recorder:
            pool = names.get(unit) or ["张伟"]
            recorder = pool[k % len(pool)]
        row: dict[str, Any] = {"inspection_start": start, "inspection_end": end, "recorded_by": recorder}
        problem = rng.choice(PROBLEMS.get(unit, PROBLEMS["STHJ"]))
        if kind == "clean":
            row.update(results="未发现问题", follow_up="无需后续处置")
        elif kind == "order":
            row.update(
                results="发现问题已责令改正",
                problems=problem,
                follow_up="责令改正",
                rectification_deadline=end + dt.timedelta(days=rng.choice([15, 20, 30, 120])),
            )
        elif kind == "unpublished":
            row.update(
                results="未按规定公示应当公示的信息",
                problems=problem,
                follow_up="责令改正",
                rectification_deadline=end + dt.timedelta(days=15),
            )
        elif kind == "case":
            case_counter[0] += 1
            row.update(
                results="发现问题待后续处理",
                problems=problem,
                follow_up="立案查处",
                case_no=f"{CASE_PREFIX.get(unit, '青山立')}〔{end.year}〕{case_counter[0]}号",
            )
        elif kind == "inactive":
            row.update(results="未发现开展本次抽查涉及的经营活动", follow_up="无需后续处置")
        elif kind == "closed":
            row.update(results="已关闭停业或正在组织清算", follow_up="无需后续处置", notes="现场已停产，设备已拆除")
        elif unit == "SCJG":
            row.update(
                results="通过登记的住所（经营场所）无法联系",
                problems="登记住所无该企业，电话无法接通",
                follow_up="其他",
                notes="已列入经营异常名录",
            )
        else:
            row.update(
                results="违反其他部门相关规定", problems=problem, follow_up="抄告相关部门", notes="已抄告县应急管理局"
            )
        if checklists.get(t.matter_code):
            row.update(_items(checklists[t.matter_code], kind, problem))
        out[t.task_no] = row
    return out


def _items(codes: list[str], kind: str, problem: str) -> dict[str, str]:
    """An inspector's results per item (template cells ``item:CODE``) for an outcome ``kind``."""
    if kind in ("inactive", "closed"):
        return {item_key(c): f"{NOT_APPLICABLE}：企业未生产" for c in codes}
    out = {item_key(c): PASS for c in codes}
    failed = ITEM_OF_PROBLEM.get(problem) if kind in ITEM_CATEGORY else None
    if failed in codes:
        out[item_key(failed)] = f"{FAIL}：{problem}：{ITEM_CATEGORY[kind]}"
    return out


def _fill(path: Path, plan: dict[str, dict[str, Any]]) -> int:
    """Type the planned values into the template, as an inspector would in Excel."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    keys = {c.header: c.key for c in COLUMNS}
    n = 0
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        col_of = {}
        for j, cell in enumerate(ws[2], start=1):
            header = str(cell.value or "")
            key = keys.get(header) or item_header_key(header)
            if key:
                col_of[key] = j
        for r in range(3, ws.max_row + 1):
            task_no = ws.cell(r, col_of["task_no"]).value
            values = plan.get(task_no) if isinstance(task_no, str) else None
            if values is None:
                continue
            for key, value in values.items():
                ws.cell(r, col_of[key], value)
            n += 1
    wb.save(path)
    return n


def run(ctx: DemoContext) -> None:
    policy = service.policy_from_config(ctx.config)
    cal = policy.calendar
    with ctx.engine.connect() as conn:
        q1, yearly = current_tasks(conn, Q1), current_tasks(conn, YEAR)
        drawn = {i: d.date() for i, d in conn.execute(select(Draw.id, Draw.drawn_at))}
        staff: dict[str, list[str]] = {}
        for dep, name in conn.execute(
            select(Inspector.department, Inspector.name).where(Inspector.kind == "officer").order_by(Inspector.cert_no)
        ):
            staff.setdefault(dep, []).append(name)
    if not q1 and not yearly:
        ctx.echo("no drawn tasks for 2026Q1 or 2026: nothing to record")
        return
    units = {m.code: m.unit for m in ctx.config.matters}
    checklists = {ITEMS_MATTER: [i.code for i in ctx.config.matter(ITEMS_MATTER).checklist]}
    teams = {r.task.task_id: r.team for r in service.task_results(ctx.engine, as_of=DEMO_TODAY, policy=policy)}
    rng = random.Random(SEED)
    cases = [0]
    files = []
    closing: list[tuple[str, dt.date]] = []  # (task, deadline) of orders re-checked by 30 June

    # 1. 2026Q1: inspected in the quarter, imported on 10 April.
    if q1:
        plan = _plan(
            q1,
            rng,
            (dt.date(2026, 3, 2), dt.date(2026, 3, 27)),
            drawn,
            staff,
            teams,
            units,
            cal,
            1.0,
            cases,
            checklists,
        )
        imported = max(
            [Q1_IMPORTED] + [dt.datetime.combine(v["inspection_end"], Q1_IMPORTED.time()) for v in plan.values()]
        )
        path = ctx.out / "findings-2026Q1.xlsx"
        service.write_template(ctx.engine, path, period=Q1, policy=policy)
        _fill(path, plan)
        s = service.import_findings(ctx.engine, path, as_of=imported.date(), now=imported, policy=policy)
        ctx.echo(f"{path.name} (imported {imported.date()}): {s.line()}")
        again = service.import_findings(ctx.engine, path, as_of=imported.date(), now=imported, policy=policy)
        ctx.echo(f"{path.name} imported again: {again.added + again.updated} changed, {again.revisions} new revisions")
        files.append(str(path))
        itemised = [v for v in plan.values() if any(k.startswith("item:") for k in v)]
        failed = sum(str(x).startswith(FAIL) for v in itemised for x in v.values())
        ctx.echo(f"{ITEMS_MATTER}: {len(itemised)} findings recorded item by item (一表通查), {failed} items {FAIL}")
        orders = [(no, v["rectification_deadline"]) for no, v in plan.items() if v.get("rectification_deadline")]
        # Every other order (by task order) was re-checked in time; the rest stay overdue.
        closing += [o for i, o in enumerate(orders) if i % 2 == 0 and o[1] < DEMO_TODAY]

    # 2. Yearly matters: about 60 % inspected by 30 June.
    if yearly:
        plan = _plan(
            yearly,
            rng,
            (dt.date(2026, 3, 2), dt.date(2026, 6, 26)),
            drawn,
            staff,
            teams,
            units,
            cal,
            0.6,
            cases,
            checklists,
        )
        path = ctx.out / "findings-2026.xlsx"
        service.write_template(ctx.engine, path, period=YEAR, policy=policy)
        _fill(path, plan)
        s = service.import_findings(ctx.engine, path, as_of=DEMO_TODAY, now=MID_YEAR, policy=policy)
        ctx.echo(f"{path.name} (imported {DEMO_TODAY}): {s.line()}")
        files.append(str(path))
        orders = [(no, v["rectification_deadline"]) for no, v in plan.items() if v.get("rectification_deadline")]
        closing += [o for i, o in enumerate(orders) if i % 3 == 0 and o[1] < DEMO_TODAY]

    # 3. Re-checks recorded one by one (what `inspect findings add TASK --recheck-date ...` does).
    for k, (no, deadline) in enumerate(closing):
        recheck = deadline - dt.timedelta(days=k % 3)
        service.add_finding(
            ctx.engine,
            no,
            {"recheck_date": recheck, "rectification_status": "已整改", "recheck_outcome": OUTCOMES[k % len(OUTCOMES)]},
            as_of=DEMO_TODAY,
            now=MID_YEAR + dt.timedelta(minutes=30 + k),
            by="复查组",
            policy=policy,
        )
    if closing:
        ctx.echo(
            f"re-checks recorded: {len(closing)} rectification orders closed (`inspect findings history "
            f"{closing[0][0]}` shows both revisions)"
        )

    if ctx.config.settings.findings.review == "required":
        _review(ctx, policy, units)
    _summary(ctx, policy)
    ctx.results["findings"] = {
        "as_of": DEMO_TODAY,
        "periods": [p for p, ts in ((Q1, q1), (YEAR, yearly)) if ts],
        "files": files,
    }


def _review(ctx: DemoContext, policy: service.FindingsPolicy, units: dict[str, str]) -> None:
    """[findings] review = "required": each recorded result is submitted by whoever recorded it and
    approved by its unit's reviewer (`inspect findings review submit|approve`); one is returned
    first with a reason, corrected and submitted again, as in the web application."""
    from inspect_kit.findings import review

    found = [r.finding for r in service.task_results(ctx.engine, as_of=DEMO_TODAY, policy=policy) if r.finding]
    at = MID_YEAR + dt.timedelta(hours=2)
    for k, f in enumerate(found):
        reviewer = f"{units[f.matter_code].lower()}.reviewer"
        step = at + dt.timedelta(minutes=k)
        review.submit(ctx.engine, f.task_no, f.recorded_by or "录入人", step)
        if k == 0:
            review.return_(ctx.engine, f.task_no, "检查时间与笔录不一致，请核对", reviewer, step)
            service.add_finding(
                ctx.engine,
                f.task_no,
                {"notes": "检查时间已与现场笔录核对"},
                as_of=DEMO_TODAY,
                now=step,
                by=f.recorded_by or "录入人",
                policy=policy,
            )
            review.submit(ctx.engine, f.task_no, f.recorded_by or "录入人", step)
        review.approve(ctx.engine, f.task_no, reviewer, step)
    ctx.echo(
        f"results reviewed: {len(found)} submitted and approved by their unit's reviewer "
        f"(one returned first and corrected: `inspect findings history {found[0].task_no}`)"
        if found
        else "no results to review"
    )


def _summary(ctx: DemoContext, policy: service.FindingsPolicy) -> None:
    rows = []
    due = service.due(ctx.engine, as_of=DEMO_TODAY, policy=policy, horizon=None)
    late = {i.task_no for i in due.items if i.kind == "publicity" and i.overdue}
    for period in (Q1, YEAR):
        results = service.task_results(ctx.engine, as_of=DEMO_TODAY, policy=policy, period=period)
        by_matter: dict[str, list] = {}
        for r in results:
            by_matter.setdefault(r.task.matter_code, []).append(r)
        for matter, rs in sorted(by_matter.items()):
            fs = [r.finding for r in rs if r.finding is not None]
            status = [f.status for f in fs]
            rows.append(
                (
                    matter,
                    period,
                    len(rs),
                    len(fs),
                    sum(f.problem_found for f in fs),
                    status.count("closed"),
                    status.count("open"),
                    status.count("overdue"),
                    sum(f.case_opened for f in fs),
                    sum(f.task_no in late for f in fs),
                )
            )
    ctx.table(
        f"findings as of {DEMO_TODAY}",
        [
            "matter",
            "period",
            "tasks",
            "recorded",
            "problems",
            "rectified",
            "open",
            "overdue",
            "cases",
            "publicity overdue",
        ],
        rows,
    )
