"""Year-end scoring against the database: metrics from the records, manual values, stored runs.

Library first: every function takes an Engine and plain values (year, as_of, now — no clock in
here) and returns dataclasses; `inspect score ...` is a thin shell over it.

Metrics (the definitions behind `metrics.METRICS`, as implemented here)
------------------------------------------------------------------------
A unit's matters are those with `matter.unit == unit`, plus joint matters whose `team` names the
unit. A unit without matters gets NotApplicable for every metric. "Current draw" of (matter,
period) = the latest draw id among the draws made on or before `as_of`; only its tasks count.
"Planned cells" of a unit = its matters × the periods of the year (by the matter's period kind)
that have started by `as_of`.

- plan_completion: one record per planned cell (ref "matter/period"), ok = a current draw exists.
- sample_adequacy: one record per quota cell of each planned cell's current draw — the frame's
  `strata` entries (ref "matter/period/stratum"), ok = tasks drawn in the stratum >= its planned n.
  A planned cell without a draw is one failed cell (ref "matter/period"): its quota was not met.
- key_coverage: for the unit's annual-coverage matters (`coverage = "annual"`): the key entities
  are the identifiers in the frozen frames of the year's current draws; one record per entity
  (ref = identifier), ok = drawn into a task of those draws in the year. NotApplicable without such
  matters; Missing when such matters have no frame in the year yet.
- publicity_on_time: current tasks (any period) with a finding whose inspection ended by `as_of`;
  deadline = publicity_deadline(inspection_end, calendar, publicity_working_days); counted when the
  deadline falls in the year and either the result was published by `as_of` or the deadline has
  passed. Published = issue date of the first `kind='results'` notice listing the task in
  `task_ids` (not in `pending_task_ids`) issued by `as_of`. ok = published on or before the deadline.
- rectification_on_time: findings of current tasks with a rectification deadline (rolled to the
  next working day when it falls on a holiday); counted when that deadline falls in the year and
  either it has passed by `as_of` or the re-check was done; ok = recheck_date <= deadline.
- finding_recorded: current tasks of the year's periods whose inspection ended by `as_of` (their
  finding says so), or whose period ended before `as_of` without a finding; ok = a finding with
  known result categories and known follow-ups, at least one of each.
- team_compliance: current tasks of the year's periods that have a team (the latest assignment
  holding the task, substitutes applied, made by `as_of`) or a finding. ok = for each department of
  the matter's team demand (joint: `team`, else `{unit: team_size}`) enough officers (experts never
  count) who hold a qualification of the matter (or its code) and a certificate valid on the
  inspection start (else the assignment date); no member with a declared conflict with the entity;
  no officer caught by the configured conflict rules (`same_township`, `previous_periods`; the
  matter's own `conflicts` override settings.assign.conflicts). A task with a finding but no team
  fails — unless none of the unit's tasks has a team at all: then Missing (no assignment records).

Manual values
-------------
`manual_values` rows are append-only. For a manual indicator the latest row (highest id) of
(year, unit, indicator) counts; the value "n/a" (不适用) makes it NotApplicable with the note as
reason. For a judgement indicator every row is one JudgementEntry (value = points deducted > 0,
note = reason); a row with value 0 withdraws all earlier rows of that (year, unit, indicator)
(its note says why), later rows count again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.findings.calendar import WorkingCalendar, default_calendar
from inspect_kit.findings.codes import DEFAULT_CODEBOOK, Codebook
from inspect_kit.findings.deadlines import PUBLICITY_WORKING_DAYS, publicity_deadline
from inspect_kit.periods import Period, parse_period
from inspect_kit.score.engine import score
from inspect_kit.score.explain import explain
from inspect_kit.score.inputs import (
    JudgementEntry, ManualValue, MetricRecord, MetricValue, Missing, NotApplicable, UnitInputs,
    from_canonical, inputs_sha256, to_canonical,
)
from inspect_kit.score.metrics import METRICS
from inspect_kit.score.observe import source_of
from inspect_kit.score.results import ScoringRun, UnitResult
from inspect_kit.score.rulebook import Rulebook, loads
from inspect_kit.text import clean_cell, to_halfwidth

__all__ = [
    "ScorePolicy", "ConflictRuleSet", "policy_from_config", "DEFAULT_POLICY",
    "compute_metrics", "collect_inputs", "CollectedInputs",
    "ManualEntry", "add_manual_value", "import_manual_values", "ManualImportSummary", "manual_history",
    "StoredRun", "RunInfo", "run_scoring", "load_run", "list_runs", "verify_run", "VerifyReport", "VerifyCheck",
    "explain_unit", "unit_flags", "default_as_of", "NOT_APPLICABLE_VALUE",
]

INPUTS_FORMAT = "inspect-kit/score-inputs/1"
NOT_APPLICABLE_VALUE = "n/a"
_NA_WORDS = {"n/a", "na", "不适用", "—", "-"}
_TRUE_WORDS = {"true", "yes", "是", "有", "发生"}
_FALSE_WORDS = {"false", "no", "否", "无", "未发生"}
_CHUNK = 1000


# -- policy ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictRuleSet:
    """The configured 回避 rules the team check applies (declared conflicts always apply)."""

    same_township: bool = False
    previous_periods: int = 0


@dataclass(frozen=True)
class ScorePolicy:
    """What the metrics depend on besides the records: code lists, calendar, publicity days, 回避 rules."""

    codebook: Codebook = DEFAULT_CODEBOOK
    calendar: WorkingCalendar = field(default_factory=default_calendar)
    publicity_days: int = PUBLICITY_WORKING_DAYS
    roll_to_working_day: bool = True
    conflicts: ConflictRuleSet = ConflictRuleSet()


DEFAULT_POLICY = ScorePolicy()


def policy_from_config(config: Any) -> ScorePolicy:
    """The policy of a loaded Config: settings.findings (calendar, publicity days, code lists, via
    the findings stage's own reading of them) and settings.assign.conflicts."""
    try:
        from inspect_kit.findings.service import policy_from_config as findings_policy
    except ImportError:  # findings stage absent: read the settings directly
        fs = config.settings.findings
        codebook, days = DEFAULT_CODEBOOK, fs.publicity_working_days
        calendar = WorkingCalendar(fs.extra_holidays, fs.extra_workdays)
        roll = True
    else:
        fp = findings_policy(config)
        codebook, calendar, days, roll = fp.codebook, fp.calendar, fp.publicity_days, fp.roll_to_working_day
    rules = config.settings.assign.conflicts
    return ScorePolicy(codebook=codebook, calendar=calendar, publicity_days=days, roll_to_working_day=roll,
                       conflicts=ConflictRuleSet(rules.same_township, rules.previous_periods))


def default_as_of(year: int, today: dt.date) -> dt.date:
    """`today`, but no later than the last day of `year` (scoring a past year uses its year end)."""
    return min(today, dt.date(year, 12, 31))


def _check_as_of(year: int, as_of: dt.date) -> None:
    if as_of < dt.date(year, 1, 1):
        raise InspectError(f"as-of date {as_of} is before the year {year} begins")


def _cutoff(as_of: dt.date) -> dt.datetime:
    """Timestamps strictly before this are 'on or before as_of'."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min)


# -- a snapshot of the records -------------------------------------------------------------------


@dataclass(frozen=True)
class _Matter:
    code: str
    name: str
    unit: str
    kind: str  # period kind: quarter | month | year
    spec: Mapping[str, Any]

    @property
    def team(self) -> dict[str, int]:
        return dict(self.spec.get("team") or {})

    @property
    def departments(self) -> set[str]:
        return {self.unit} | set(self.team)

    @property
    def demand(self) -> dict[str, int]:
        return self.team or {self.unit: int(self.spec.get("team_size") or 2)}

    @property
    def annual(self) -> bool:
        return self.spec.get("coverage") == "annual"

    @property
    def qualifications(self) -> set[str]:
        q = self.spec.get("qualification") or []
        return ({q} if isinstance(q, str) else set(q)) | {self.code}

    def conflict_rules(self, default: ConflictRuleSet) -> ConflictRuleSet:
        own = self.spec.get("conflicts")
        if not own:
            return default
        return ConflictRuleSet(bool(own.get("same_township", False)), int(own.get("previous_periods", 0) or 0))


@dataclass(frozen=True)
class _Draw:
    id: int
    matter: str
    label: str
    period: Period
    drawn_at: dt.datetime
    frame_id: int


@dataclass(frozen=True)
class _Task:
    id: int
    no: str
    draw_id: int
    matter: str
    period: Period
    entity_id: int
    identifier: str
    entity_name: str
    township: str | None
    stratum: str


@dataclass(frozen=True)
class _Finding:
    inspection_start: dt.date
    inspection_end: dt.date
    results: tuple[str, ...]
    follow_ups: tuple[str, ...]
    rectification_deadline: dt.date | None
    recheck_date: dt.date | None


@dataclass(frozen=True)
class _Member:
    id: int
    assignment_id: int
    inspector_id: int
    role: str
    replaces_id: int | None


@dataclass(frozen=True)
class _Team:
    assignment_id: int
    assigned_on: dt.date
    members: tuple[_Member, ...]


@dataclass(frozen=True)
class _Inspector:
    id: int
    cert_no: str
    name: str
    department: str
    home_township: str | None
    kind: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    qualifications: frozenset[str]


@dataclass
class _Snapshot:
    year: int
    as_of: dt.date
    units: list[tuple[str, str, str]]  # (code, name, kind), in database order
    matters: dict[str, _Matter]
    draws: dict[tuple[str, str], _Draw]  # current draw per (matter, period label)
    strata: dict[int, list[dict[str, Any]]]  # frame id → strata entries
    frame_ids: dict[int, list[str]]  # frame id → identifiers (annual-coverage matters only)
    entity_names: dict[str, str]  # identifier → name (frame members of annual matters)
    tasks: dict[int, list[_Task]]  # draw id → tasks
    findings: dict[int, _Finding]  # task id → finding
    published: dict[int, dt.date]  # task id → first results notice issued by as_of
    teams: dict[int, _Team]  # task id → current team
    inspectors: dict[int, _Inspector]
    conflicts: dict[tuple[int, int], str]  # (inspector id, entity id) → reason
    warnings: list[str] = field(default_factory=list)

    def matters_of(self, unit: str) -> list[_Matter]:
        return sorted((m for m in self.matters.values() if unit in m.departments), key=lambda m: m.code)

    def planned(self, matter: _Matter) -> list[Period]:
        n = {"quarter": 4, "month": 12, "year": 1}.get(matter.kind, 0)
        return [p for p in (Period(self.year, matter.kind, i) for i in range(n)) if p.start <= self.as_of]

    def current_tasks(self, matter: _Matter, years: Iterable[int]) -> list[_Task]:
        wanted = set(years)
        out = []
        for (code, _), d in self.draws.items():
            if code == matter.code and d.period.year in wanted:
                out.extend(self.tasks.get(d.id, ()))
        return sorted(out, key=lambda t: t.no)


def _chunks(seq: Sequence[Any], n: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _period_or_none(label: str) -> Period | None:
    try:
        return parse_period(label)
    except InspectError:
        return None


def _load(conn: Connection, year: int, as_of: dt.date) -> _Snapshot:
    from inspect_kit.storage.models import (
        Assignment, Conflict, Draw, Entity, Finding, Frame, Inspector, InspectorQualification, Matter, Notice,
        Task, TeamMember, Unit,
    )

    cutoff = _cutoff(as_of)
    units = [(r.code, r.name, r.kind) for r in conn.execute(select(Unit.code, Unit.name, Unit.kind).order_by(Unit.id))]
    matters = {r.code: _Matter(r.code, r.name, r.unit_code, r.period, r.spec or {})
               for r in conn.execute(select(Matter.code, Matter.name, Matter.unit_code, Matter.period, Matter.spec))}
    snap = _Snapshot(year, as_of, units, matters, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})

    # Current draws: the latest id per (matter, period) among draws made by as_of, for the year
    # and the year before (the previous period matters for 回避; late results for publicity).
    latest = (select(Draw.matter_code, Draw.period, func.max(Draw.id).label("id"))
              .where(Draw.drawn_at < cutoff).group_by(Draw.matter_code, Draw.period).subquery())
    rows = conn.execute(select(Draw.id, Draw.matter_code, Draw.period, Draw.drawn_at, Draw.frame_id)
                        .join(latest, latest.c.id == Draw.id)).all()
    for r in rows:
        p = _period_or_none(r.period)
        if p is None or p.year not in (year - 1, year):
            continue
        snap.draws[(r.matter_code, r.period)] = _Draw(r.id, r.matter_code, r.period, p, r.drawn_at, r.frame_id)
    draw_ids = [d.id for d in snap.draws.values()]
    frame_ids = sorted({d.frame_id for d in snap.draws.values() if d.period.year == year})
    annual_frames = sorted({d.frame_id for d in snap.draws.values() if d.period.year == year
                            and d.matter in matters and matters[d.matter].annual})
    for part in _chunks(frame_ids):
        for r in conn.execute(select(Frame.id, Frame.strata).where(Frame.id.in_(part))):
            snap.strata[r.id] = list(r.strata or [])
    for part in _chunks(annual_frames):
        for r in conn.execute(select(Frame.id, Frame.frame_blob).where(Frame.id.in_(part))):
            text = zlib.decompress(r.frame_blob).decode("utf-8")
            snap.frame_ids[r.id] = [line.split("\t", 1)[0] for line in text.splitlines() if line]
    members = sorted({i for ids in snap.frame_ids.values() for i in ids})
    for part in _chunks(members):
        snap.entity_names.update(conn.execute(select(Entity.identifier, Entity.name)
                                              .where(Entity.identifier.in_(part))).all())

    draw_info = {d.id: d for d in snap.draws.values()}
    for part in _chunks(draw_ids):
        stmt = (select(Task.id, Task.task_no, Task.draw_id, Task.entity_id, Task.identifier, Task.stratum,
                       Entity.name, Entity.township)
                .join(Entity, Entity.id == Task.entity_id).where(Task.draw_id.in_(part)))
        for r in conn.execute(stmt):
            d = draw_info[r.draw_id]
            snap.tasks.setdefault(r.draw_id, []).append(
                _Task(r.id, r.task_no, r.draw_id, d.matter, d.period, r.entity_id, r.identifier, r.name, r.township,
                      r.stratum))
    task_ids = sorted(t.id for ts in snap.tasks.values() for t in ts)
    for part in _chunks(task_ids):
        stmt = select(Finding.task_id, Finding.inspection_start, Finding.inspection_end, Finding.results,
                      Finding.follow_ups, Finding.rectification_deadline, Finding.recheck_date
                      ).where(Finding.task_id.in_(part))
        for r in conn.execute(stmt):
            snap.findings[r.task_id] = _Finding(r.inspection_start, r.inspection_end, tuple(r.results or ()),
                                                tuple(r.follow_ups or ()), r.rectification_deadline, r.recheck_date)

    wanted = set(task_ids)
    stmt = (select(Notice.task_ids, Notice.pending_task_ids, Notice.issued_on)
            .where(Notice.kind == "results", Notice.issued_on <= as_of))
    for ids, pending, issued in conn.execute(stmt):
        skip = {int(i) for i in (pending or [])}
        for tid in ids or []:
            tid = int(tid)
            if tid in wanted and tid not in skip and (tid not in snap.published or issued < snap.published[tid]):
                snap.published[tid] = issued

    by_task: dict[int, list[tuple[_Member, dt.datetime]]] = defaultdict(list)
    for part in _chunks(task_ids):
        stmt = (select(TeamMember.id, TeamMember.task_id, TeamMember.assignment_id, TeamMember.inspector_id,
                       TeamMember.role, TeamMember.replaces_id, Assignment.created_at)
                .join(Assignment, Assignment.id == TeamMember.assignment_id)
                .where(TeamMember.task_id.in_(part), TeamMember.added_at < cutoff, Assignment.created_at < cutoff)
                .order_by(TeamMember.id))
        for r in conn.execute(stmt):
            by_task[r.task_id].append((_Member(r.id, r.assignment_id, r.inspector_id, r.role, r.replaces_id),
                                       r.created_at))
    for tid, rows_ in by_task.items():
        team = _effective_team(rows_)
        if team is not None:
            snap.teams[tid] = team
    inspector_ids = sorted({m.inspector_id for t in snap.teams.values() for m in t.members})
    quals: dict[int, set[str]] = defaultdict(set)
    for part in _chunks(inspector_ids):
        for iid, q in conn.execute(select(InspectorQualification.inspector_id, InspectorQualification.qualification)
                                   .where(InspectorQualification.inspector_id.in_(part))):
            quals[iid].add(q)
        for i in conn.execute(select(Inspector.__table__).where(Inspector.id.in_(part))):
            snap.inspectors[i.id] = _Inspector(i.id, i.cert_no, i.name, i.department, i.home_township, i.kind,
                                               i.cert_valid_from, i.cert_valid_to, frozenset())
    for iid, ins in list(snap.inspectors.items()):
        snap.inspectors[iid] = _Inspector(**{**ins.__dict__, "qualifications": frozenset(quals.get(iid, ()))})
    for part in _chunks(inspector_ids):
        for iid, eid, reason in conn.execute(select(Conflict.inspector_id, Conflict.entity_id, Conflict.reason)
                                             .where(Conflict.inspector_id.in_(part), Conflict.updated_at < cutoff)):
            snap.conflicts[(iid, eid)] = reason
    return snap


def _effective_team(rows: list[tuple[_Member, dt.datetime]]) -> _Team | None:
    """The task's team: rows of its latest assignment (by id) with substitutes applied."""
    base = [(m, at) for m, at in rows if m.role != "substitute"]
    if not base:
        return None
    aid, assigned_at = max(((m.assignment_id, at) for m, at in base), key=lambda x: x[0])
    members = {m.id: m for m, _ in rows if m.assignment_id == aid}
    grown = True
    while grown:  # a substitute recorded under another assignment still replaces a member of this one
        grown = False
        for m, _ in rows:
            if m.id not in members and m.replaces_id in members:
                members[m.id] = m
                grown = True
    replaced = {m.replaces_id for m in members.values() if m.replaces_id is not None}
    kept = tuple(sorted((m for m in members.values() if m.id not in replaced), key=lambda m: m.id))
    return _Team(aid, assigned_at.date(), kept)


# -- metrics --------------------------------------------------------------------------------------


MetricInput = MetricValue | NotApplicable | Missing


def _metric(records: list[MetricRecord], empty: MetricInput) -> MetricInput:
    if not records:
        return empty
    records = sorted(records, key=lambda r: r.ref)
    return MetricValue(numerator=sum(1 for r in records if r.ok), denominator=len(records), records=tuple(records))


def _plan_completion(s: _Snapshot, matters: list[_Matter]) -> MetricInput:
    records = []
    for m in matters:
        for p in s.planned(m):
            d = s.draws.get((m.code, p.label))
            if d is None:
                records.append(MetricRecord(f"{m.code}/{p.label}", False, f"{m.name}：{p.label}未开展抽取"))
            else:
                n = len(s.tasks.get(d.id, ()))
                records.append(MetricRecord(f"{m.code}/{p.label}", True,
                                            f"抽取#{d.id}（{d.drawn_at.date().isoformat()}），{n}户"))
    return _metric(records, NotApplicable(f"截至{s.as_of.isoformat()}无应开展的抽查"))


def _sample_adequacy(s: _Snapshot, matters: list[_Matter]) -> MetricInput:
    records = []
    for m in matters:
        for p in s.planned(m):
            d = s.draws.get((m.code, p.label))
            if d is None:
                records.append(MetricRecord(f"{m.code}/{p.label}", False, "未开展抽取，抽查比例未落实"))
                continue
            strata = s.strata.get(d.frame_id) or []
            if not strata:
                s.warnings.append(f"draw #{d.id} ({m.code} {p.label}): its frame records no quotas per stratum; "
                                  "not counted in sample_adequacy")
                continue
            drawn: dict[str, int] = defaultdict(int)
            for t in s.tasks.get(d.id, ()):
                drawn[t.stratum] += 1
            for entry in strata:
                label = str(entry.get("stratum"))
                want, got = int(entry.get("n") or 0), drawn.get(label, 0)
                quota = entry.get("quota")
                how = f"（配额{quota}，N={entry.get('N')}）" if quota is not None else ""
                records.append(MetricRecord(f"{m.code}/{p.label}/{label}", got >= want,
                                            f"抽取#{d.id}应抽{want}户，实抽{got}户{how}"))
    return _metric(records, NotApplicable("无抽查配额记录"))


def _key_coverage(s: _Snapshot, matters: list[_Matter]) -> MetricInput:
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


def _publicity_on_time(s: _Snapshot, matters: list[_Matter], policy: ScorePolicy) -> MetricInput:
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
                    records.append(MetricRecord(t.no, True, f"检查结束{f.inspection_end}，{published}公示（期限{deadline}）"))
                else:
                    late = _working_days(cal, deadline, published)
                    records.append(MetricRecord(t.no, False, f"检查结束{f.inspection_end}，{published}公示，"
                                                             f"期限{deadline}，逾期{late}"))
            elif s.as_of > deadline:
                late = _working_days(cal, deadline, s.as_of)
                records.append(MetricRecord(t.no, False, f"检查结束{f.inspection_end}，截至{s.as_of}未公示，"
                                                         f"期限{deadline}，已逾期{late}"))
    return _metric(records, NotApplicable(f"截至{s.as_of.isoformat()}无到期应公示的检查结果"))


def _working_days(cal: WorkingCalendar, after: dt.date, until: dt.date) -> str:
    try:
        return f"{cal.working_days_between(after, until)}个工作日"
    except InspectError:
        return f"{(until - after).days}天"


def _rectification_on_time(s: _Snapshot, matters: list[_Matter], policy: ScorePolicy) -> MetricInput:
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
                    records.append(MetricRecord(t.no, False, f"整改期限{deadline}，{recheck}复查，"
                                                             f"逾期{(recheck - deadline).days}天"))
            elif s.as_of > deadline:
                records.append(MetricRecord(t.no, False, f"整改期限{deadline}，截至{s.as_of}未复查，"
                                                         f"已逾期{(s.as_of - deadline).days}天"))
    return _metric(records, NotApplicable(f"截至{s.as_of.isoformat()}无到期的责令整改事项"))


def _finding_recorded(s: _Snapshot, matters: list[_Matter], policy: ScorePolicy) -> MetricInput:
    cb = policy.codebook
    records = []
    for m in matters:
        for t in s.current_tasks(m, (s.year,)):
            f = s.findings.get(t.id)
            if f is None:
                if t.period.end < s.as_of:
                    records.append(MetricRecord(t.no, False, f"{t.period.label}抽查期已于{t.period.end}结束，未录入检查结果"))
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


def _team_compliance(s: _Snapshot, matters: list[_Matter], policy: ScorePolicy) -> MetricInput:
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
            records.append(MetricRecord(t.no, not problems, "；".join(problems) if problems else f"检查组：{'、'.join(names)}"))
    if records and not teams:
        # Inspected, yet no team recorded for any task: the assignment records are missing
        # (e.g. teams kept outside inspect-kit), not every task is at fault.
        return Missing(f"{len(records)}个已检查任务均无检查组分派记录")
    return _metric(records, NotApplicable(f"截至{s.as_of.isoformat()}无已分派检查组的任务"))


def _team_problems(s: _Snapshot, m: _Matter, t: _Task, team: _Team, f: _Finding | None, rules: ConflictRuleSet,
                   on_team: Mapping[tuple[int, str], set[int]]) -> tuple[list[str], list[str]]:
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
        reason = s.conflicts.get((ins.id, t.entity_id))
        if reason is not None:
            problems.append(f"{ins.name}（{ins.cert_no}）与检查对象存在利害关系（{reason}），未回避")
        if expert:
            continue
        ok = True
        if not (ins.qualifications & m.qualifications):
            problems.append(f"{ins.name}（{ins.cert_no}）无本事项执法资格")
            ok = False
        if (ins.valid_from is not None and on < ins.valid_from) or (ins.valid_to is not None and on > ins.valid_to):
            span = f"{ins.valid_from or ''}至{ins.valid_to or ''}"
            problems.append(f"{ins.name}（{ins.cert_no}）执法证于{on}不在有效期内（{span}）")
            ok = False
        if rules.same_township and ins.home_township and ins.home_township == t.township:
            problems.append(f"{ins.name}（{ins.cert_no}）户籍乡镇与检查对象同为{t.township}，未回避")
        for k in range(1, rules.previous_periods + 1):
            prev = t.period.previous(k).label
            if ins.id in on_team.get((t.entity_id, prev), ()):
                problems.append(f"{ins.name}（{ins.cert_no}）在{prev}检查过该对象，未回避")
        if ok:
            valid_by_dept[ins.department] += 1
    for dept, need in sorted(m.demand.items()):
        got = valid_by_dept.get(dept, 0)
        if got < need:
            problems.append(f"{dept}持有效执法证且具备资格的执法人员{got}名，少于{need}名")
    return problems, names


_COMPUTE = {
    "plan_completion": lambda s, ms, p: _plan_completion(s, ms),
    "sample_adequacy": lambda s, ms, p: _sample_adequacy(s, ms),
    "key_coverage": lambda s, ms, p: _key_coverage(s, ms),
    "publicity_on_time": _publicity_on_time,
    "rectification_on_time": _rectification_on_time,
    "finding_recorded": _finding_recorded,
    "team_compliance": _team_compliance,
}


def _compute(key: str, snap: _Snapshot, matters: list[_Matter], policy: ScorePolicy) -> MetricInput:
    fn = _COMPUTE.get(key)
    if fn is None:  # a metric the engine knows but this integration does not compute yet
        return Missing(f"metric {key!r} is not computed by this version of inspect-kit")
    return fn(snap, matters, policy)


def _metrics_of(snap: _Snapshot, policy: ScorePolicy, keys: Iterable[str]) -> dict[str, dict[str, MetricInput]]:
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


def compute_metrics(engine: Engine, year: int, *, as_of: dt.date, policy: ScorePolicy = DEFAULT_POLICY,
                    keys: Iterable[str] | None = None) -> tuple[dict[str, dict[str, MetricInput]], list[str]]:
    """Unit code → metric key → MetricValue | NotApplicable | Missing, computed from the records as
    of `as_of`; and warnings (records that could not be counted). `keys` defaults to every metric."""
    _check_as_of(year, as_of)
    with engine.connect() as conn:
        snap = _load(conn, year, as_of)
    return _metrics_of(snap, policy, METRICS if keys is None else keys), snap.warnings


# -- manual values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ManualEntry:
    id: int | None  # None in a dry run
    year: int
    unit_code: str
    indicator: str
    value: str  # stored text: exact number ("0.95", "19/21"), or "n/a"
    note: str
    entered_by: str | None
    entered_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "year": self.year, "unit": self.unit_code, "indicator": self.indicator,
                "value": self.value, "note": self.note, "entered_by": self.entered_by,
                "entered_at": self.entered_at.isoformat()}


def _number_text(f: Fraction) -> str:
    """Exact text: a finite decimal when there is one ("0.95", "3"), else "n/d"."""
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d != 1:
        return f"{f.numerator}/{f.denominator}"
    places = 0
    while (f * 10**places).denominator != 1:
        places += 1
    text = format(Decimal((f * 10**places).numerator).scaleb(-places), "f")
    return "0" if text in ("-0", "0") else text


def _parse_number(text: str) -> Fraction:
    t = to_halfwidth(text).strip().replace(",", "")
    percent = t.endswith("%")
    if percent:
        t = t[:-1].strip()
    try:
        value = Fraction(Decimal(t)) if "/" not in t else Fraction(t)
    except (InvalidOperation, ValueError, ZeroDivisionError):
        raise ValueError(f"not a number: {text!r}") from None
    return value / 100 if percent else value


def _check_entry(rulebook: Rulebook, units: Mapping[str, str], unit: str, indicator: str, value: object,
                 note: str) -> tuple[str, str, str, list[tuple[str, str]]]:
    """(unit code, indicator key, stored value text, problems as (field, reason))."""
    problems: list[tuple[str, str]] = []
    unit_text = clean_cell(unit)
    code = unit_text if unit_text in units else next((c for c, n in units.items() if n == unit_text), None)
    if code is None:
        problems.append(("unit", f"unknown unit {unit_text!r} (give a unit code or name from units.toml)"))
    ind_text = clean_cell(indicator)
    ind = next((i for i in rulebook.indicators if i.key == ind_text), None) or \
        next((i for i in rulebook.indicators if i.name == ind_text), None)
    stored = ""
    if ind is None:
        problems.append(("indicator", f"{ind_text!r} is not an indicator of {rulebook.name!r} (version {rulebook.version})"))
    elif ind.metric is not None:
        problems.append(("indicator", f"{ind.key!r} is computed from the records (metric {ind.metric!r}); "
                                      "it cannot be entered by hand"))
    if not clean_cell(note):
        problems.append(("note", "a note is required: the evidence (document number, register page) "
                                 "or, for a judgement deduction, its reason"))
    raw = clean_cell(value if not isinstance(value, bool) else int(value))
    if ind is not None and ind.metric is None:
        kind = source_of(ind)
        word = to_halfwidth(raw).strip().lower()
        if word in _NA_WORDS and kind == "manual":
            stored = NOT_APPLICABLE_VALUE
        elif ind.rule.kind == "veto" and word in _TRUE_WORDS | _FALSE_WORDS:
            stored = "1" if word in _TRUE_WORDS else "0"
        else:
            try:
                number = _parse_number(raw)
            except ValueError as exc:
                problems.append(("value", str(exc)))
            else:
                stored = _number_text(number)
                if number < 0:
                    problems.append(("value", f"{raw!r} is negative"))
                elif kind == "judgement" and number > Fraction(ind.max):
                    problems.append(("value", f"a judgement deduction of {raw} exceeds the indicator's max {ind.max}"))
                elif ind.rule.kind in ("deduction", "bonus") and getattr(ind.rule, "occurrences", "value") == "value" \
                        and number.denominator != 1:
                    problems.append(("value", f"{ind.key!r} counts occurrences: give a whole number, not {raw!r}"))
                elif len(stored) > 64:
                    problems.append(("value", "too many digits"))
    return code or unit_text, ind.key if ind is not None else ind_text, stored, problems


def _unit_names(conn: Connection) -> dict[str, str]:
    from inspect_kit.storage.models import Unit

    names = dict(conn.execute(select(Unit.code, Unit.name)).all())
    if not names:
        raise InspectError("no units in the database; run `inspect config load` first")
    return names


def _insert_entries(conn: Connection, entries: list[ManualEntry]) -> list[ManualEntry]:
    from inspect_kit.storage.models import ManualValue as ManualRow

    out = []
    for e in entries:
        new_id = conn.execute(insert(ManualRow.__table__).values(
            year=e.year, unit_code=e.unit_code, indicator=e.indicator, value=e.value, note=e.note,
            entered_by=e.entered_by, entered_at=e.entered_at)).inserted_primary_key[0]
        out.append(ManualEntry(new_id, e.year, e.unit_code, e.indicator, e.value, e.note, e.entered_by, e.entered_at))
    return out


def add_manual_value(engine: Engine, rulebook: Rulebook, *, year: int, unit: str, indicator: str, value: object,
                     note: str, now: dt.datetime, by: str | None = None) -> ManualEntry:
    """Append one manual value (or judgement deduction) after checking it against the rulebook.

    `unit` is a unit code or name, `indicator` an indicator key or name. Raises ValidationFailed."""
    with engine.begin() as conn:
        code, key, stored, problems = _check_entry(rulebook, _unit_names(conn), unit, indicator, value, note)
        if problems:
            raise ValidationFailed(f"manual value refused ({unit} / {indicator})",
                                   [Problem(reason, key=where) for where, reason in problems])
        entry = ManualEntry(None, year, code, key, stored, clean_cell(note), clean_cell(by) or None, now)
        return _insert_entries(conn, [entry])[0]


_IMPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "unit": ("单位", "单位代码", "被考评单位", "单位名称", "unit"),
    "indicator": ("指标", "指标代码", "考评指标", "指标名称", "indicator"),
    "value": ("值", "数值", "分值", "扣分", "value"),
    "note": ("说明", "依据", "理由", "备注", "note", "evidence", "reason"),
    "by": ("录入人", "填报人", "by", "entered_by"),
}
_REQUIRED = ("unit", "indicator", "value", "note")


def _header_key(header: object) -> str | None:
    h = "".join(to_halfwidth(clean_cell(header)).split()).lower()
    for key, names in _IMPORT_COLUMNS.items():
        if h in {n.lower() for n in names}:
            return key
    return None


@dataclass
class ManualImportSummary:
    file: str
    rows: int = 0
    blank_rows: int = 0
    entries: list[ManualEntry] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False

    def line(self) -> str:
        s = f"{self.file}: {self.rows} rows read, {len(self.entries)} manual values {'checked' if self.dry_run else 'added'}"
        if self.blank_rows:
            s += f"; {self.blank_rows} blank rows skipped"
        if self.dry_run:
            s += " (dry run: nothing written)"
        return s


def import_manual_values(engine: Engine, rulebook: Rulebook, path: Path | str, *, year: int, now: dt.datetime,
                         by: str | None = None, dry_run: bool = False, encoding: str | None = None,
                         sheet: str | None = None) -> ManualImportSummary:
    """Append every row of a .csv/.xlsx (单位/unit, 指标/indicator, 值/value, 说明/note, optional 录入人/by).

    All or nothing: any bad row refuses the file with a report naming row and column. The same
    unit and manual (non-judgement) indicator twice in one file is refused as ambiguous."""
    from inspect_kit.registry.tabular import read_table

    path = Path(path)
    table = read_table(path, lambda row: sum(1 for c in row if _header_key(c)), encoding=encoding, sheet=sheet)
    summary = ManualImportSummary(str(path), dry_run=dry_run)
    columns: dict[str, int] = {}
    header_text: dict[str, str] = {}
    for i, h in enumerate(table.headers):
        key = _header_key(h)
        if key is None:
            if clean_cell(h):
                summary.ignored_columns.append(clean_cell(h))
        elif key not in columns:
            columns[key], header_text[key] = i, clean_cell(h)
    problems = [Problem(f"missing column ({' / '.join(_IMPORT_COLUMNS[k][:1] + _IMPORT_COLUMNS[k][-1:])})",
                        file=str(path), row=table.header_row, column=k) for k in _REQUIRED if k not in columns]
    if problems:
        for _ in table.rows:  # close the file
            pass
        raise ValidationFailed(f"{path}: manual values refused", problems)
    entries: list[ManualEntry] = []
    first_row: dict[tuple[str, str], int] = {}
    with engine.connect() as conn:
        units = _unit_names(conn)
    manual_keys = {i.key for i in rulebook.indicators if source_of(i) == "manual"}
    for row_no, cells in table.rows:
        cell = {k: (cells[i] if i < len(cells) else None) for k, i in columns.items()}
        if not any(clean_cell(v) for v in cell.values()):
            summary.blank_rows += 1
            continue
        summary.rows += 1
        code, key, stored, found = _check_entry(rulebook, units, cell["unit"], cell["indicator"], cell["value"],
                                               cell["note"])
        problems += [Problem(reason, file=str(path), row=row_no, column=header_text.get(where, where))
                     for where, reason in found]
        if found:
            continue
        if key in manual_keys:
            earlier = first_row.setdefault((code, key), row_no)
            if earlier != row_no:
                problems.append(Problem(f"{code} / {key} is already given in row {earlier}; give each value once",
                                        file=str(path), row=row_no, column=header_text["indicator"]))
                continue
        entries.append(ManualEntry(None, year, code, key, stored, clean_cell(cell["note"]),
                                   clean_cell(cell.get("by")) or clean_cell(by) or None, now))
    if problems:
        raise ValidationFailed(f"{path}: manual values refused", problems)
    if not dry_run and entries:
        with engine.begin() as conn:
            entries = _insert_entries(conn, entries)
    summary.entries = entries
    return summary


def manual_history(engine: Engine, year: int, unit: str | None = None, indicator: str | None = None) -> list[ManualEntry]:
    """Every manual row of the year (oldest first), optionally for one unit and/or indicator."""
    from inspect_kit.storage.models import ManualValue as ManualRow

    stmt = select(ManualRow.__table__).where(ManualRow.year == year).order_by(ManualRow.id)
    if unit is not None:
        stmt = stmt.where(ManualRow.unit_code == unit)
    if indicator is not None:
        stmt = stmt.where(ManualRow.indicator == indicator)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [ManualEntry(r.id, r.year, r.unit_code, r.indicator, r.value, r.note, r.entered_by, r.entered_at)
            for r in rows]


def _manual_inputs(entries: Sequence[ManualEntry], rulebook: Rulebook, units: set[str]
                   ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, list[JudgementEntry]]], list[str]]:
    sources = {i.key: source_of(i) for i in rulebook.indicators}
    manual: dict[str, dict[str, Any]] = defaultdict(dict)
    judgements: dict[str, dict[str, list[JudgementEntry]]] = defaultdict(lambda: defaultdict(list))
    warnings: list[str] = []
    ignored: set[tuple[str, str]] = set()
    for e in sorted(entries, key=lambda e: e.id or 0):
        kind = sources.get(e.indicator)
        if e.unit_code not in units or kind not in ("manual", "judgement"):
            if (e.unit_code, e.indicator) not in ignored:
                ignored.add((e.unit_code, e.indicator))
                why = "unknown unit" if e.unit_code not in units else "not a manual or judgement indicator of this rulebook"
                warnings.append(f"manual values for {e.unit_code} / {e.indicator} ignored: {why}")
            continue
        if kind == "manual":
            manual[e.unit_code][e.indicator] = (NotApplicable(e.note) if e.value == NOT_APPLICABLE_VALUE
                                                else ManualValue(e.value, e.note))
        elif Fraction(e.value) == 0:
            judgements[e.unit_code][e.indicator] = []  # withdraws the earlier deductions
        else:
            judgements[e.unit_code][e.indicator].append(JudgementEntry(e.value, e.note))
    return manual, {u: {k: v for k, v in d.items() if v} for u, d in judgements.items()}, warnings


# -- inputs and runs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectedInputs:
    year: int
    as_of: dt.date
    units: list[UnitInputs]
    warnings: list[str]


def collect_inputs(engine: Engine, rulebook: Rulebook, year: int, *, as_of: dt.date,
                   policy: ScorePolicy = DEFAULT_POLICY) -> CollectedInputs:
    """Every unit's inputs for the rulebook: the metrics it names, computed from the records as of
    `as_of`, and the current manual values and judgement deductions of the year."""
    _check_as_of(year, as_of)
    keys = {i.metric for i in rulebook.indicators if i.metric is not None}
    with engine.connect() as conn:
        snap = _load(conn, year, as_of)
    if not snap.units:
        raise InspectError("no units in the database; run `inspect config load` first")
    metrics = _metrics_of(snap, policy, keys)
    manual, judgements, warnings = _manual_inputs(manual_history(engine, year), rulebook, {c for c, _, _ in snap.units})
    units = [UnitInputs(code, name, kind, metrics[code], dict(manual.get(code, {})),
                        {k: list(v) for k, v in judgements.get(code, {}).items()})
             for code, name, kind in snap.units]
    return CollectedInputs(year, as_of, units, snap.warnings + warnings)


@dataclass(frozen=True)
class StoredRun:
    """A scoring run as stored, with its rulebook and inputs, re-scored into result objects."""

    id: int
    year: int
    as_of: dt.date
    created_at: dt.datetime
    rulebook: Rulebook
    inputs: list[UnitInputs]
    run: ScoringRun
    warnings: list[str]
    stored_results: dict[str, Any] = field(repr=False)

    def unit_inputs(self, code: str) -> UnitInputs:
        for u in self.inputs:
            if u.code == code:
                return u
        raise KeyError(code)

    def ranking(self) -> list[dict[str, Any]]:
        return [{"group": u.group, "rank": u.rank, "code": u.code, "name": u.name, "kind": u.unit_kind,
                 "total": str(u.total), "grade": u.grade, "score_grade": u.score_grade, "flags": unit_flags(u)}
                for u in self.run.units]

    def summary(self) -> dict[str, Any]:
        return {"run_id": self.id, "year": self.year, "as_of": self.as_of.isoformat(),
                "created_at": self.created_at.isoformat(),
                "rulebook": {"name": self.run.rulebook_name, "version": self.run.rulebook_version,
                             "sha256": self.run.rulebook_sha256},
                "inputs_sha256": self.run.inputs_sha256, "warnings": list(self.warnings) + list(self.run.warnings),
                "ranking": self.ranking()}


@dataclass(frozen=True)
class RunInfo:
    id: int
    year: int
    as_of: str
    created_at: dt.datetime
    rulebook_version: str
    rulebook_sha256: str
    inputs_sha256: str
    units: int


def _json_norm(data: Any) -> Any:
    return json.loads(json.dumps(data, ensure_ascii=False, sort_keys=True))


def run_scoring(engine: Engine, rulebook: Rulebook, year: int, *, as_of: dt.date, now: dt.datetime,
                policy: ScorePolicy = DEFAULT_POLICY) -> StoredRun:
    """Collect the inputs, score every unit and store the run (rulebook text and hash, canonical
    inputs, results). Raises ValidationFailed when the engine refuses the inputs."""
    collected = collect_inputs(engine, rulebook, year, as_of=as_of, policy=policy)
    run = score(rulebook, collected.units)
    canonical = to_canonical(collected.units)
    inputs = {"format": INPUTS_FORMAT, "year": year, "as_of": as_of.isoformat(), "units": canonical,
              "inputs_sha256": run.inputs_sha256, "rulebook_model_sha256": rulebook.model_sha256,
              "warnings": collected.warnings}
    results = _json_norm(run.as_dict())
    from inspect_kit.storage.models import ScoringRun as RunRow

    with engine.begin() as conn:
        run_id = conn.execute(insert(RunRow.__table__).values(
            year=year, created_at=now, rulebook_text=rulebook.source_text, rulebook_sha256=rulebook.source_sha256,
            rulebook_version=rulebook.version, inputs=inputs, results=results)).inserted_primary_key[0]
    return StoredRun(run_id, year, as_of, now, rulebook, from_canonical(canonical), run, collected.warnings, results)


def _run_row(conn: Connection, run_id: int | None, year: int | None):
    from inspect_kit.storage.models import ScoringRun as RunRow

    if run_id is not None:
        row = conn.execute(select(RunRow.__table__).where(RunRow.id == run_id)).first()
        if row is None:
            raise InspectError(f"no scoring run #{run_id}; `inspect score runs` lists them")
        return row
    if year is None:
        raise InspectError("give a run id or a year")
    row = conn.execute(select(RunRow.__table__).where(RunRow.year == year).order_by(RunRow.id.desc()).limit(1)).first()
    if row is None:
        raise InspectError(f"no scoring run for {year} yet; run `inspect score --year {year}` first")
    return row


def load_run(engine: Engine, run_id: int | None = None, *, year: int | None = None, check: bool = True) -> StoredRun:
    """A stored run (by id, or the latest of `year`), re-scored from its stored rulebook text and
    inputs. With `check`, a run that does not reproduce its stored results is refused."""
    with engine.connect() as conn:
        row = _run_row(conn, run_id, year)
    rulebook = loads(row.rulebook_text, file=f"scoring run #{row.id}")
    units = from_canonical(row.inputs["units"])
    run = score(rulebook, units)
    if check and _json_norm(run.as_dict()) != _json_norm(row.results):
        raise InspectError(f"scoring run #{row.id} does not reproduce its stored results; "
                           f"see `inspect score verify {row.id}`")
    return StoredRun(row.id, row.year, dt.date.fromisoformat(row.inputs["as_of"]), row.created_at, rulebook, units,
                     run, list(row.inputs.get("warnings", [])), row.results)


def list_runs(engine: Engine, year: int | None = None) -> list[RunInfo]:
    from inspect_kit.storage.models import ScoringRun as RunRow

    stmt = select(RunRow.id, RunRow.year, RunRow.created_at, RunRow.rulebook_version, RunRow.rulebook_sha256,
                  RunRow.inputs).order_by(RunRow.id)
    if year is not None:
        stmt = stmt.where(RunRow.year == year)
    with engine.connect() as conn:
        return [RunInfo(r.id, r.year, str(r.inputs.get("as_of", "")), r.created_at, r.rulebook_version,
                        r.rulebook_sha256, str(r.inputs.get("inputs_sha256", "")), len(r.inputs.get("units", [])))
                for r in conn.execute(stmt)]


@dataclass(frozen=True)
class VerifyCheck:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    run_id: int
    checks: list[VerifyCheck]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def lines(self) -> list[str]:
        out = [f"scoring run #{self.run_id}: {'REPRODUCED' if self.ok else 'NOT REPRODUCED'}"]
        out += [f"  [{'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}" for c in self.checks]
        return out


def _differences(a: Any, b: Any, path: str = "", limit: int = 10) -> list[str]:
    out: list[str] = []

    def walk(x: Any, y: Any, p: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                walk(x.get(k), y.get(k), f"{p}.{k}" if p else str(k))
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (u, v) in enumerate(zip(x, y)):
                label = u.get("code") if isinstance(u, dict) and u.get("code") else (u.get("key") if isinstance(u, dict) else None)
                walk(u, v, f"{p}[{label or i}]")
        elif x != y:
            out.append(f"{p}: stored {json.dumps(x, ensure_ascii=False)[:60]}, re-scored {json.dumps(y, ensure_ascii=False)[:60]}")

    walk(a, b, path)
    return out


def verify_run(engine: Engine, run_id: int) -> VerifyReport:
    """Re-score a stored run's inputs with its stored rulebook text; check every fingerprint and
    that the results are identical."""
    with engine.connect() as conn:
        row = _run_row(conn, run_id, None)
    checks: list[VerifyCheck] = []
    text_sha = hashlib.sha256(row.rulebook_text.removeprefix("\ufeff").encode("utf-8")).hexdigest()
    checks.append(VerifyCheck("rulebook text SHA-256", text_sha == row.rulebook_sha256,
                              f"stored {row.rulebook_sha256[:16]}…, text hashes to {text_sha[:16]}…"))
    try:
        rulebook = loads(row.rulebook_text, file=f"scoring run #{row.id}")
    except InspectError as exc:
        checks.append(VerifyCheck("rulebook loads", False, str(exc).splitlines()[0]))
        return VerifyReport(row.id, checks)
    checks.append(VerifyCheck("rulebook loads", True, f"{rulebook.name}, version {rulebook.version}"))
    checks.append(VerifyCheck("rulebook version", rulebook.version == row.rulebook_version,
                              f"stored {row.rulebook_version}, text says {rulebook.version}"))
    try:
        units = from_canonical(row.inputs["units"])
        sha = inputs_sha256(units)
    except (KeyError, TypeError, ValueError) as exc:
        checks.append(VerifyCheck("inputs", False, f"stored inputs cannot be read: {exc}"))
        return VerifyReport(row.id, checks)
    stored_sha = row.inputs.get("inputs_sha256")
    checks.append(VerifyCheck("inputs SHA-256", sha == stored_sha == row.results.get("inputs_sha256"),
                              f"stored {str(stored_sha)[:16]}…, inputs hash to {sha[:16]}…"))
    try:
        run = score(rulebook, units)
    except InspectError as exc:
        checks.append(VerifyCheck("re-score", False, str(exc).splitlines()[0]))
        return VerifyReport(row.id, checks)
    diffs = _differences(_json_norm(row.results), _json_norm(run.as_dict()))
    checks.append(VerifyCheck("results identical", not diffs,
                              f"{len(run.units)} units, every total, grade, rank and indicator point the same"
                              if not diffs else "; ".join(diffs)))
    return VerifyReport(row.id, checks)


# -- presentation helpers ------------------------------------------------------------------------


def unit_flags(unit: UnitResult) -> list[str]:
    """Short remarks for a ranking line: vetoes, missing data, a grade that differs from the total's band."""
    out = [f"一票否决：{i.name}" for i in unit.indicators if "veto" in i.flags]
    # Missing only costs points in base categories (an absent bonus, penalty or veto is "none").
    missing = [i.name for c in unit.categories if c.kind == "base" for i in c.indicators if "missing" in i.flags]
    if missing:
        out.append(f"数据缺失{len(missing)}项")
    if unit.grade != unit.score_grade:
        out.append(f"按总分应为{unit.score_grade}")
    return out


def explain_unit(stored: StoredRun, code: str, *, limit: int | None = 20) -> list[str]:
    """`explain()` of one unit, headed by the run, with the failing records behind each metric
    indicator whose rule does not cite them itself (linear and tier rules)."""
    try:
        unit = stored.run.unit(code)
    except KeyError:
        raise InspectError(f"unit {code!r} is not in scoring run #{stored.id}; "
                           f"units: {', '.join(u.code for u in stored.run.units)}") from None
    inputs = stored.unit_inputs(code)
    extra: dict[str, list[str]] = {}
    for ind in unit.indicators:
        value = inputs.metrics.get(ind.metric) if ind.metric else None
        if not isinstance(value, MetricValue) or any(r.ref for r in ind.records):
            continue
        failing = [r for r in value.records if not r.ok]
        if not failing:
            continue
        shown = failing if limit is None else failing[:limit]
        lines = [f"    未达标记录（{len(failing)}项）："] + [f"    · {r.ref}：{r.note}" for r in shown]
        if len(shown) < len(failing):
            lines.append(f"    · ……另有{len(failing) - len(shown)}项（--all 显示全部）")
        extra[f"  {ind.name}（{ind.key}）："] = lines
    out = [f"考评运行 #{stored.id}：{stored.year}年度，数据截至{stored.as_of.isoformat()}；"
           f"{stored.run.rulebook_name}（版本 {stored.run.rulebook_version}）"]
    pending: list[str] | None = None
    for line in explain(unit):
        boundary = (line.startswith("  ") and not line.startswith("   ")) or line.startswith(("【", "合计："))
        if boundary and pending:
            out.extend(pending)
            pending = None
        out.append(line)
        for prefix, lines in extra.items():
            if line.startswith(prefix):
                pending = lines
    if pending:
        out.extend(pending)
    return out
