"""Each metric, registered with its definition (`metrics.metric`) and computed per unit from a snapshot of the records.

One function per metric turns the snapshot (records.py) into a MetricValue whose records name
every counted item (ref, ok, a note in words a unit can check), or NotApplicable when there is
nothing to measure, or Missing when the records needed are absent. `compute_metrics` is the
entry point; a scoring run (runs.py) calls `metrics_of` on the snapshot it has already read.
Terms (current draw, a unit's matters, planned periods, a task's team) are defined in records.py.

- plan_completion: one record per planned (matter, period) (ref "matter/period"), ok = a current
  draw exists.
- sample_adequacy: one record per quota cell of each planned (matter, period)'s current draw — the
  frame's `strata` entries (ref "matter/period/stratum"), ok = tasks drawn in the stratum >= its
  planned n. A planned (matter, period) without a draw is one failed cell (ref "matter/period").
  A draw whose frame records no strata is not counted (a warning says so).
- key_coverage: for the unit's annual-coverage matters (`coverage = "annual"`): the key entities
  are the identifiers in the frozen frames of the year's current draws; one record per entity
  (ref = identifier), ok = drawn into a task of those draws in the year. NotApplicable without such
  matters; Missing when such matters have no frame in the year yet.
- publicity_on_time: current tasks (this year's and last year's periods) with a finding whose
  inspection ended by `as_of`; deadline = publicity_deadline(inspection_end, calendar,
  publicity_working_days); counted when the deadline falls in the year and either the result was
  published by `as_of` or the deadline has passed. Published = issue date of the first
  `kind='results'` notice listing the task in `task_ids` (not in `pending_task_ids`) issued by
  `as_of`. ok = published on or before the deadline.
- rectification_on_time: findings of current tasks (this year's and last year's periods) with a
  rectification deadline (rolled to the next working day when it falls on a holiday); counted when
  that deadline falls in the year and either it has passed by `as_of` or the re-check was done by
  then; ok = recheck_date <= deadline.
- finding_recorded: current tasks of the year's periods whose inspection ended by `as_of` (their
  finding says so), or whose period ended before `as_of` without a finding; ok = a finding with
  known result categories and known follow-ups, at least one of each.
- team_compliance: current tasks of the year's periods that have a team, or a finding whose
  inspection started by `as_of`. ok = for each department of the matter's team demand (joint:
  `team`, else `{unit: team_size}`) enough officers (experts never count) who hold a qualification
  of the matter (or its code) and a certificate valid on the inspection start (else the assignment
  date); every member in the inspector register; no member with a declared conflict with the
  entity; no officer caught by the configured conflict rules (`same_township`, `previous_periods`;
  the matter's own `conflicts` override settings.assign.conflicts). A task with a finding but no
  team fails — unless none of the unit's tasks has a team at all: then Missing (no assignment
  records).

A unit without matters gets NotApplicable for every metric.

One module over 400 lines on purpose: it is the metric registry — one function per metric,
registered with its definition — so adding a metric stays one place (README, extension points).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping

from sqlalchemy import Engine

from inspect_kit.avoidance import AvoidanceRules, Reason, chinese, officer_reason, task_reasons
from inspect_kit.errors import InspectError
from inspect_kit.findings.calendar import WorkingCalendar
from inspect_kit.findings.deadlines import publicity_deadline
from inspect_kit.score.inputs import MetricInput, MetricRecord, MetricValue, Missing, NotApplicable
from inspect_kit.score.metrics import COMPUTE, METRICS, metric
from inspect_kit.score.policy import DEFAULT_POLICY, ScorePolicy, check_as_of
from inspect_kit.score.records import DrawnTask, MatterSpec, Snapshot, TaskFinding, TaskTeam, load_snapshot


def _metric(records: list[MetricRecord], empty: MetricInput) -> MetricInput:
    if not records:
        return empty
    records = sorted(records, key=lambda r: r.ref)
    return MetricValue(numerator=sum(1 for r in records if r.ok), denominator=len(records), records=tuple(records))


@metric(
    "plan_completion",
    "抽查计划完成率",
    "numerator: planned cells (matter × period) that have a current draw; denominator: planned cells (the"
    " unit's matters × the periods of the year that have started by as_of). Record per cell (ref "
    "'matter/period'), ok = drawn; the note names the draw and its number of tasks. NotApplicable when no"
    " period has started.",
)
def _plan_completion(s: Snapshot, matters: list[MatterSpec], policy: ScorePolicy) -> MetricInput:
    records = []
    for m in matters:
        for p in s.planned(m):
            d = s.draws.get((m.code, p.label))
            if d is None:
                records.append(MetricRecord(f"{m.code}/{p.label}", False, f"{m.name}：{p.label}未开展抽取"))
            else:
                n = len(s.tasks.get(d.id, ()))
                records.append(
                    MetricRecord(f"{m.code}/{p.label}", True, f"抽取#{d.id}（{d.drawn_at.date().isoformat()}），{n}户")
                )
    return _metric(records, NotApplicable(f"截至{s.as_of.isoformat()}无应开展的抽查"))


@metric(
    "sample_adequacy",
    "抽查比例达标率",
    "numerator: quota cells whose drawn count reached the planned n; denominator: quota cells, i.e. the "
    "strata entries recorded in the frame of each planned cell's current draw (drawn count = the draw's "
    "tasks in that stratum, inspected or not; planned n = the entry's n, the sample size the draw "
    "computed), plus one failed cell per planned cell without a draw. Record per cell (ref "
    "'matter/period/stratum', or 'matter/period' for a missing draw), ok = drawn count >= n. A draw whose"
    " frame records no strata is left out with a warning. NotApplicable when there are no cells.",
)
def _sample_adequacy(s: Snapshot, matters: list[MatterSpec], policy: ScorePolicy) -> MetricInput:
    records = []
    for m in matters:
        for p in s.planned(m):
            d = s.draws.get((m.code, p.label))
            if d is None:
                records.append(MetricRecord(f"{m.code}/{p.label}", False, "未开展抽取，抽查比例未落实"))
                continue
            strata = s.strata.get(d.frame_id) or []
            if not strata:
                s.warnings.append(
                    f"draw #{d.id} ({m.code} {p.label}): its frame records no quotas per stratum; "
                    "not counted in sample_adequacy"
                )
                continue
            drawn: dict[str, int] = defaultdict(int)
            for t in s.tasks.get(d.id, ()):
                drawn[t.stratum] += 1
            for entry in strata:
                label = str(entry.get("stratum"))
                want, got = int(entry.get("n") or 0), drawn.get(label, 0)
                quota = entry.get("quota")
                how = f"（配额{quota}，N={entry.get('N')}）" if quota is not None else ""
                records.append(
                    MetricRecord(
                        f"{m.code}/{p.label}/{label}", got >= want, f"抽取#{d.id}应抽{want}户，实抽{got}户{how}"
                    )
                )
    return _metric(records, NotApplicable("无抽查配额记录"))


@metric(
    "key_coverage",
    "重点监管对象覆盖率",
    'Only the unit\'s annual-coverage matters (coverage = "annual") count. numerator: key entities drawn '
    "into a task of those matters' current draws of the year at least once (inspected or not; the note "
    "says when no result is recorded yet); denominator: key entities, i.e. the entities in the frozen "
    "frames of those draws (and any entity drawn by them). Record per key entity (ref = identifier), ok ="
    " drawn. NotApplicable when the unit has no annual-coverage matter; Missing when those matters have "
    "no draw in the year yet.",
)
def _key_coverage(s: Snapshot, matters: list[MatterSpec], policy: ScorePolicy) -> MetricInput:
    annual = [m for m in matters if m.annual]
    if not annual:
        return NotApplicable("本单位无要求年度全覆盖的重点监管事项")
    keys: set[str] = set()
    drawn: dict[str, str] = {}
    for m in annual:
        for (code, _), d in s.draws.items():
            if code != m.code or d.period.year != s.year:
                continue
            keys.update(s.frame_ids.get(d.frame_id, ()))
            for t in s.tasks.get(d.id, ()):
                keys.add(t.identifier)
                if t.identifier not in drawn or t.no < drawn[t.identifier]:
                    drawn[t.identifier] = t.no
    if not keys:
        return Missing(f"{s.year}年度尚无{'、'.join(m.code for m in annual)}的抽取名单，无法计算覆盖率")
    names = s.entity_names
    inspected = {t.no for ts in s.tasks.values() for t in ts if t.id in s.findings}
    records = []
    for ident in sorted(keys):
        name = names.get(ident, "")
        no = drawn.get(ident)
        if no is None:
            records.append(MetricRecord(ident, False, f"{name}：{s.year}年度截至{s.as_of.isoformat()}未被抽查"))
        else:
            tail = "" if no in inspected else "（尚未录入检查结果）"
            records.append(MetricRecord(ident, True, f"{name}：{no}{tail}"))
    return _metric(records, NotApplicable("无重点监管对象"))


@metric(
    "item_records",
    "逐项检查记录率",
    "Only matters with a checklist (检查表, in the matter's spec as loaded) count. numerator: counted tasks "
    "whose finding records a result for every checklist item (符合 / 不符合 / 不涉及; the write path refuses a "
    "partial record); denominator: current tasks of those matters in the year's periods with a finding "
    "whose inspection ended by as_of. Record per task, ok = recorded item by item; the note gives the "
    "number of items and of 不符合 items. NotApplicable when none is counted (no checklist, no finding).",
)
def _item_records(s: Snapshot, matters: list[MatterSpec], policy: ScorePolicy) -> MetricInput:
    records = []
    for m in matters:
        n = len(m.spec.get("checklist") or [])
        if not n:
            continue
        for t in s.current_tasks(m, (s.year,)):
            f = s.findings.get(t.id)
            if f is None or f.inspection_end > s.as_of:
                continue
            if f.items:
                records.append(MetricRecord(t.no, True, f"逐项记录{f.items}项，其中不符合{f.items_failed}项"))
            else:
                records.append(MetricRecord(t.no, False, f"{m.name}有{n}项检查内容，检查结果未逐项记录"))
    return _metric(records, NotApplicable(f"截至{s.as_of.isoformat()}无配置检查表事项的已结束检查"))


@metric(
    "publicity_on_time",
    "抽查结果按时公示率",
    "numerator: counted tasks whose result was published by the publicity deadline; denominator: current "
    "tasks (periods of the year and the year before) with a finding whose inspection ended by as_of, "
    "whose deadline (the configured number of working days, 20 by default, after the inspection ended, "
    "per the working calendar) falls within the year, and which were either published by as_of or are "
    "past their deadline. Published = issue date of the first results notice issued by as_of that lists "
    "the task (not as pending). Record per task, ok = published on or before the deadline; the note says "
    "how late. NotApplicable when none is counted.",
)
def _publicity_on_time(s: Snapshot, matters: list[MatterSpec], policy: ScorePolicy) -> MetricInput:
    cal = policy.calendar
    records = []
    for m in matters:
        for t in s.current_tasks(m, (s.year - 1, s.year)):
            f = s.findings.get(t.id)
            if f is None or f.inspection_end > s.as_of:
                continue
            try:
                deadline = publicity_deadline(f.inspection_end, cal, policy.publicity_days)
            except InspectError as exc:
                if f.inspection_end.year == s.year:
                    s.warnings.append(f"{t.no}: publicity deadline not counted ({exc})")
                continue
            if deadline.year != s.year:
                continue
            published = s.published.get(t.id)
            if published is not None:
                if published <= deadline:
                    records.append(
                        MetricRecord(t.no, True, f"检查结束{f.inspection_end}，{published}公示（期限{deadline}）")
                    )
                else:
                    late = _working_days(cal, deadline, published)
                    records.append(
                        MetricRecord(
                            t.no, False, f"检查结束{f.inspection_end}，{published}公示，期限{deadline}，逾期{late}"
                        )
                    )
            elif s.as_of > deadline:
                late = _working_days(cal, deadline, s.as_of)
                records.append(
                    MetricRecord(
                        t.no, False, f"检查结束{f.inspection_end}，截至{s.as_of}未公示，期限{deadline}，已逾期{late}"
                    )
                )
    return _metric(records, NotApplicable(f"截至{s.as_of.isoformat()}无到期应公示的检查结果"))


def _working_days(cal: WorkingCalendar, after: dt.date, until: dt.date) -> str:
    try:
        return f"{cal.working_days_between(after, until)}个工作日"
    except InspectError:
        return f"{(until - after).days}天"


@metric(
    "rectification_on_time",
    "整改按期复查率",
    "numerator: counted rectification orders (责令整改) re-checked (复查) on or before their deadline; "
    "denominator: findings of current tasks (periods of the year and the year before) with a "
    "rectification deadline (moved to the next working day when it falls on a holiday, unless configured "
    "otherwise) that falls within the year and either has passed by as_of or was followed by a re-check "
    "recorded by as_of. Record per task, ok = re-checked by the deadline; the note says how late. "
    "NotApplicable when none is counted.",
)
def _rectification_on_time(s: Snapshot, matters: list[MatterSpec], policy: ScorePolicy) -> MetricInput:
    cal = policy.calendar
    records = []
    for m in matters:
        for t in s.current_tasks(m, (s.year - 1, s.year)):
            f = s.findings.get(t.id)
            if f is None or f.rectification_deadline is None:
                continue
            deadline = f.rectification_deadline
            if policy.roll_to_working_day:
                try:
                    deadline = cal.on_or_after(deadline)
                except InspectError as exc:
                    s.warnings.append(f"{t.no}: rectification deadline taken as written ({exc})")
            if deadline.year != s.year:
                continue
            recheck = f.recheck_date if f.recheck_date is not None and f.recheck_date <= s.as_of else None
            if recheck is not None:
                if recheck <= deadline:
                    records.append(MetricRecord(t.no, True, f"整改期限{deadline}，{recheck}复查"))
                else:
                    records.append(
                        MetricRecord(
                            t.no, False, f"整改期限{deadline}，{recheck}复查，逾期{(recheck - deadline).days}天"
                        )
                    )
            elif s.as_of > deadline:
                records.append(
                    MetricRecord(
                        t.no, False, f"整改期限{deadline}，截至{s.as_of}未复查，已逾期{(s.as_of - deadline).days}天"
                    )
                )
    return _metric(records, NotApplicable(f"截至{s.as_of.isoformat()}无到期的责令整改事项"))


@metric(
    "finding_recorded",
    "检查结果录入率",
    "numerator: counted tasks whose finding has at least one result category and at least one follow-up, "
    "all in the code lists; denominator: current tasks of the year's periods whose inspection ended by "
    "as_of (per their finding), plus those without a finding whose period ended before as_of. Record per "
    "task, ok = recorded; the note says what is missing or unknown. NotApplicable when none is counted.",
)
def _finding_recorded(s: Snapshot, matters: list[MatterSpec], policy: ScorePolicy) -> MetricInput:
    cb = policy.codebook
    records = []
    for m in matters:
        for t in s.current_tasks(m, (s.year,)):
            f = s.findings.get(t.id)
            if f is None:
                if t.period.end < s.as_of:
                    records.append(
                        MetricRecord(t.no, False, f"{t.period.label}抽查期已于{t.period.end}结束，未录入检查结果")
                    )
                continue
            if f.inspection_end > s.as_of:
                continue
            wrong = []
            if not f.results:
                wrong.append("无检查结果类别")
            unknown = [c for c in f.results if cb.categories.get(c) is None]
            if unknown:
                wrong.append(f"检查结果类别不在标准目录中：{'、'.join(unknown)}")
            if not f.follow_ups:
                wrong.append("无后续处置")
            unknown = [c for c in f.follow_ups if cb.follow_ups.get(c) is None]
            if unknown:
                wrong.append(f"后续处置不在标准目录中：{'、'.join(unknown)}")
            if wrong:
                records.append(MetricRecord(t.no, False, "；".join(wrong)))
            else:
                labels = "、".join(cb.categories[c].label for c in f.results)
                records.append(MetricRecord(t.no, True, f"检查结束{f.inspection_end}：{labels}"))
    return _metric(records, NotApplicable(f"截至{s.as_of.isoformat()}无已结束的检查任务"))


@metric(
    "team_compliance",
    "检查组合规率",
    "numerator: compliant tasks; denominator: current tasks of the year's periods that have a team, plus "
    "those without a team whose finding says the inspection started by as_of (these fail). A team "
    "complies when each department of the matter's team demand (joint matters: their team; else "
    "team_size, 2 by default, from the unit) has that many officers (experts never count) holding a "
    "qualification for the matter and a certificate valid on the inspection start (else the assignment "
    "date); every member is in the inspector register; no member has a declared conflict with the entity;"
    " and no officer is caught by the conflict rules in force (same township, previous periods; the "
    "matter's own rules override settings.assign.conflicts). Record per task, ok = compliant; the note "
    "says what was wrong. Missing when tasks are counted but none has a team (no assignment records); "
    "NotApplicable when none is counted.",
)
def _team_compliance(s: Snapshot, matters: list[MatterSpec], policy: ScorePolicy) -> MetricInput:
    # previous-period teams per entity, for the previous_periods rule
    on_team: dict[tuple[int, str], set[int]] = defaultdict(set)  # (entity id, period label) → inspector ids
    for ts in s.tasks.values():
        for t in ts:
            team = s.teams.get(t.id)
            if team is not None:
                on_team[(t.entity_id, t.period.label)].update(m.inspector_id for m in team.members)
    records = []
    teams = 0
    for m in matters:
        rules = m.conflict_rules(policy.conflicts)
        for t in s.current_tasks(m, (s.year,)):
            team = s.teams.get(t.id)
            f = s.findings.get(t.id)
            if team is None:
                if f is not None and f.inspection_start <= s.as_of:
                    records.append(MetricRecord(t.no, False, "已录入检查结果，但无检查组记录"))
                continue
            teams += 1
            problems, names = _team_problems(s, m, t, team, f, rules, on_team)
            records.append(
                MetricRecord(t.no, not problems, "；".join(problems) if problems else f"检查组：{'、'.join(names)}")
            )
    if records and not teams:
        # Inspected, yet no team recorded for any task: the assignment records are missing
        # (e.g. teams kept outside inspect-kit), not every task is at fault.
        return Missing(f"{len(records)}个已检查任务均无检查组分派记录")
    return _metric(records, NotApplicable(f"截至{s.as_of.isoformat()}无已分派检查组的任务"))


def _team_problems(
    s: Snapshot,
    m: MatterSpec,
    t: DrawnTask,
    team: TaskTeam,
    f: TaskFinding | None,
    rules: AvoidanceRules,
    on_team: Mapping[tuple[int, str], set[int]],
) -> tuple[list[str], list[str]]:
    on = f.inspection_start if f is not None else team.assigned_on
    problems: list[str] = []
    names: list[str] = []
    valid_by_dept: dict[str, int] = defaultdict(int)
    for mem in team.members:
        ins = s.inspectors.get(mem.inspector_id)
        if ins is None:
            problems.append(f"检查人员#{mem.inspector_id}不在执法人员名录库中")
            continue
        expert = ins.kind != "officer" or mem.role == "expert"
        names.append(f"{ins.name}（专家）" if expert else ins.name)
        who = {"name": ins.name, "cert": ins.cert_no}
        declared = s.conflicts.get((ins.id, t.entity_id))
        if declared is not None:
            problems.append(chinese(Reason.DECLARED, reason=declared, **who))
        if expert:
            continue
        why = officer_reason(
            held=ins.qualifications,
            needed=m.qualifications,
            status=None,
            valid_from=ins.valid_from,
            valid_to=ins.valid_to,
            window=(on, on),
            check_status=False,
        )
        ok = why is None
        if why is not None:
            problems.append(chinese(why, on=on, span=f"{ins.valid_from or ''}至{ins.valid_to or ''}", **who))
        earlier = [
            k
            for k in range(1, rules.previous_periods + 1)
            if ins.id in on_team.get((t.entity_id, t.period.previous(k).label), ())
        ]
        for reason in task_reasons(
            rules, declared=False, home_township=ins.home_township, township=t.township, previous_periods_on=earlier
        ):
            if reason is Reason.TOWNSHIP:
                problems.append(chinese(reason, township=t.township, **who))
            else:
                problems += [chinese(reason, period=t.period.previous(k).label, **who) for k in earlier]
        if ok:
            valid_by_dept[ins.department] += 1
    for dept, need in sorted(m.demand.items()):
        got = valid_by_dept.get(dept, 0)
        if got < need:
            problems.append(f"{dept}持有效执法证且具备资格的执法人员{got}名，少于{need}名")
    return problems, names


def _compute(key: str, snap: Snapshot, matters: list[MatterSpec], policy: ScorePolicy) -> MetricInput:
    return COMPUTE[key](snap, matters, policy)


def metrics_of(snap: Snapshot, policy: ScorePolicy, keys: Iterable[str]) -> dict[str, dict[str, MetricInput]]:
    """Unit code → metric key → value, for every unit of the snapshot; adds to `snap.warnings`."""
    keys = sorted(set(keys))
    out: dict[str, dict[str, MetricInput]] = {}
    for code, _, _ in snap.units:
        matters = snap.matters_of(code)
        if not matters:
            out[code] = {k: NotApplicable("本单位无抽查事项") for k in keys}
        else:
            out[code] = {k: _compute(k, snap, matters, policy) for k in keys}
    snap.warnings[:] = list(dict.fromkeys(snap.warnings))  # joint matters are seen once per department
    return out


def compute_metrics(
    engine: Engine,
    year: int,
    *,
    as_of: dt.date,
    policy: ScorePolicy = DEFAULT_POLICY,
    keys: Iterable[str] | None = None,
) -> tuple[dict[str, dict[str, MetricInput]], list[str]]:
    """Unit code → metric key → MetricValue | NotApplicable | Missing, computed from the records as
    of `as_of`; and warnings (records that could not be counted). `keys` defaults to every metric."""
    check_as_of(year, as_of)
    with engine.connect() as conn:
        snap = load_snapshot(conn, year, as_of)
    return metrics_of(snap, policy, METRICS if keys is None else keys), snap.warnings
