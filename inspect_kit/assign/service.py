"""Team assignment against the database (random 2): assign, show, substitute, verify.

`assign_teams` reads the current draws of (matter, period), the inspector registry, declared
conflicts and earlier teams; decides who may inspect what (`inspect_kit.assign.eligibility`);
solves the seed-independent fractional solution; samples the teams with the published seed; and
stores, in one transaction, an `assignments` record (seed, algorithm and version, the canonical
inputs and their SHA-256, the fractional solution and its SHA-256) and one `team_members` row per
officer and expert. When any matter cannot be staffed nothing is written, and the error names
every task that cannot be staffed and why.

Records are append-only (database triggers refuse UPDATE and DELETE):
- a re-assignment is a new record with `reassignment_of` and a reason; the current assignment of a
  task is the latest one holding it;
- a substitute is a new `team_members` row (role 'substitute') naming the row it replaces.

Substitute draws (`substitute`) use the core's `draw_substitute` (officer j drawn with probability
proportional to (Q − x_j)/(1 − x_j)) with the seed

    "{assignment seed}:substitute:{task_no}:{cert_no of the officer leaving}"

unless another seed is given. Officers who have become unavailable since the assignment (off duty,
certificate no longer valid, not qualified, a newly declared conflict) are excluded. The draw is
re-derivable: when the seed is not the default or someone was excluded, the stored reason ends
with a line "[draw] {json}" holding the seed and the excluded 执法证号 (`split_reason` reads it).
An expert who drops out is replaced by a uniform draw among the task's other eligible experts.

Loads: a per-period cap (inspector.max_tasks_per_period) is shared by the matters of the period:
the tasks an officer already has under other matters' current assignments of the same period
label (and, within one run, under the matters assigned before, in matter-code order) are
subtracted from it.

Confidentiality: teams are confidential until the entities are notified; only the inputs' hash
and the seed may be published (`AssignmentInfo.public()`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import Connection, Engine, func, insert, select

from inspect_kit.assign.eligibility import (History, InspectorRow, Rules, TaskRow, build_eligibility,
                                            inputs_document, inputs_sha256, instance_from_inputs, why_text)
from inspect_kit.config import Config
from inspect_kit.config.models import Matter
from inspect_kit.draw.tasks import current_draw_ids, current_tasks
from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.periods import Period, matters_for, parse_period
from inspect_kit.storage.bulk import bulk_insert
from inspect_kit.storage.models import (Assignment as AssignmentRow, Conflict, Draw, Entity, Inspector,
                                        InspectorQualification, Task, TeamMember)

ALGORITHM_NAME = "lp-dependent-rounding"  # Jecmen et al. 2020 LP + Gandhi et al. 2006 rounding, SHA-256 stream
ALGORITHM_VERSION = "1"
BUNDLE_FORMAT = "inspect-kit/assign-bundle"
BUNDLE_VERSION = 1
CONFIDENTIAL_NOTE = ("检查组名单在告知检查对象前保密 — the teams are confidential until the entities are notified; "
                     "only the inputs' SHA-256 and the seed may be published (`inspect assign show --public`).")
_DRAW_MARK = "\n[draw] "
_CHUNK = 1000


# -- results ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    member_id: int
    cert_no: str  # 执法证号
    name: str
    department: str
    kind: str  # the registry's kind: officer | expert
    role: str  # officer | expert | substitute
    probability: float | None
    replaces: str | None  # cert_no of the member this one replaced
    reason: str | None
    added_at: dt.datetime

    @property
    def is_expert(self) -> bool:
        return self.kind != "officer" or self.role == "expert"


@dataclass(frozen=True)
class Team:
    task_id: int
    task_no: str
    identifier: str
    entity_name: str
    township: str | None
    officers: tuple[Member, ...]  # current enforcement officers, substitutes applied
    experts: tuple[Member, ...]
    replaced: tuple[Member, ...] = ()  # members who were replaced by a substitute

    def row(self) -> dict[str, Any]:
        """The export form: entity identifier, certificate numbers and names."""
        return {"task_no": self.task_no, "identifier": self.identifier, "entity_name": self.entity_name,
                "township": self.township,
                "officers": [{"cert_no": m.cert_no, "name": m.name, "department": m.department, "role": m.role}
                             for m in self.officers],
                "experts": [{"cert_no": m.cert_no, "name": m.name, "role": m.role} for m in self.experts]}


@dataclass(frozen=True)
class AssignmentInfo:
    id: int
    matter: str
    period: str
    draw_id: int
    seed: str
    seed_source: str | None
    algorithm: str
    algorithm_version: str
    created_at: dt.datetime
    pair_cap: float
    inputs_sha256: str
    fractional_sha256: str
    reassignment_of: int | None
    reason: str | None
    teams: list[Team] = field(default_factory=list)

    @property
    def loads(self) -> dict[str, int]:
        """cert_no → tasks on this assignment (current officers)."""
        return dict(sorted(Counter(m.cert_no for t in self.teams for m in t.officers).items()))

    def public(self) -> dict[str, Any]:
        """What may be published before the entities are notified."""
        return {"assignment": self.id, "matter": self.matter, "period": self.period,
                "inputs_sha256": self.inputs_sha256, "seed": self.seed, "seed_source": self.seed_source}

    def rows(self) -> list[dict[str, Any]]:
        return [{"assignment": self.id, "matter": self.matter, "period": self.period, **t.row()} for t in self.teams]


@dataclass(frozen=True)
class InputsInfo:
    """The seed-independent part of an assignment: what is committed before the seed is chosen."""

    matter: str
    period: str
    draw_id: int
    n_tasks: int
    n_officers: int
    inputs_sha256: str
    fractional_sha256: str
    expected_loads: dict[str, str]  # cert_no → expected tasks ("3/2")


@dataclass(frozen=True)
class SubstitutionInfo:
    assignment_id: int
    task_no: str
    leaving: str  # cert_no
    leaving_name: str
    substitute: str
    substitute_name: str
    probability: float
    candidates: dict[str, float]  # cert_no → chance of being drawn
    seed: str
    excluded: list[str]  # cert_nos unavailable since the assignment
    team: list[str]  # cert_nos after the substitution


@dataclass
class VerifyReport:
    what: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


# -- reading the database --------------------------------------------------------------------------

def _chunks(items: Sequence[Any], n: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _inspector_rows(conn: Connection) -> list[InspectorRow]:
    quals: dict[int, set[str]] = defaultdict(set)
    for iid, q in conn.execute(select(InspectorQualification.inspector_id, InspectorQualification.qualification)):
        quals[iid].add(q)
    i = Inspector
    stmt = select(i.id, i.cert_no, i.name, i.department, i.kind, i.status, i.home_township, i.cert_valid_from,
                  i.cert_valid_to, i.max_tasks_per_period)
    return [InspectorRow(r.id, r.cert_no, r.name, r.department, r.kind, r.status, r.home_township, r.cert_valid_from,
                         r.cert_valid_to, frozenset(quals.get(r.id, ())), r.max_tasks_per_period)
            for r in conn.execute(stmt)]


@dataclass(frozen=True)
class _Row:
    id: int
    task_id: int
    assignment_id: int
    inspector_id: int
    role: str
    probability: float | None
    replaces_id: int | None
    reason: str | None
    added_at: dt.datetime


def _member_rows(conn: Connection, task_ids: Sequence[int]) -> dict[int, list[_Row]]:
    out: dict[int, list[_Row]] = defaultdict(list)
    tm = TeamMember
    for part in _chunks(list(task_ids)):
        for r in conn.execute(select(tm.id, tm.task_id, tm.assignment_id, tm.inspector_id, tm.role, tm.probability,
                                     tm.replaces_id, tm.reason, tm.added_at)
                              .where(tm.task_id.in_(part)).order_by(tm.id)):
            out[r.task_id].append(_Row(*r))
    return out


def _effective(rows: list[_Row]) -> tuple[int | None, list[_Row], list[_Row]]:
    """(assignment id, current members, replaced members) of one task: the rows of its latest
    assignment with substitutes applied (the same reading as findings and scoring)."""
    base = [r for r in rows if r.role != "substitute"]
    if not base:
        return None, [], []
    aid = max(r.assignment_id for r in base)
    members = {r.id: r for r in rows if r.assignment_id == aid}
    grown = True
    while grown:
        grown = False
        for r in rows:
            if r.id not in members and r.replaces_id in members:
                members[r.id] = r
                grown = True
    replaced = {r.replaces_id for r in members.values() if r.replaces_id is not None}
    ordered = sorted(members.values(), key=lambda r: r.id)
    return aid, [r for r in ordered if r.id not in replaced], [r for r in ordered if r.id in replaced]


def _current_teams(conn: Connection, period_label: str, exclude_matters: Iterable[str] = ()) -> dict[int, tuple[int, list[int]]]:
    """Task id → (entity id, inspector ids of its current team) for the current tasks of a period."""
    skip = set(exclude_matters)
    tasks = [t for t in current_tasks(conn, period_label) if t.matter_code not in skip]
    rows = _member_rows(conn, [t.task_id for t in tasks])
    out = {}
    for t in tasks:
        _, current, _ = _effective(rows.get(t.task_id, []))
        if current:
            out[t.task_id] = (t.entity_id, [r.inspector_id for r in current])
    return out


def _history(conn: Connection, period: Period, run: Iterable[str], rules: Rules, tasks: list[TaskRow],
             kinds: Mapping[int, str], extra_loads: Mapping[int, int]) -> History:
    """Declared conflicts, earlier teams and this period's loads elsewhere. `run`: the matters being
    assigned now (their loads come from `extra_loads`, not from their earlier records)."""
    entity_ids = sorted({t.entity_id for t in tasks})
    conflicts = _conflicts(conn, entity_ids)
    previous: dict[int, set[int]] = defaultdict(set)
    wanted = set(entity_ids)
    for k in range(1, rules.previous_periods + 1):
        for entity_id, members in _current_teams(conn, period.previous(k).label).values():
            if entity_id in wanted:
                previous[entity_id].update(members)
    last_teams = []
    if rules.repeat_pair:
        for _, members in _current_teams(conn, period.previous(1).label).values():
            officers = frozenset(i for i in members if kinds.get(i) == "officer")
            if len(officers) > 1:
                last_teams.append(officers)
    loads: Counter[int] = Counter(extra_loads)
    for _, members in _current_teams(conn, period.label, exclude_matters=run).values():
        loads.update(i for i in members if kinds.get(i) == "officer")
    return History(conflicts=frozenset(conflicts), previous_teams={e: frozenset(s) for e, s in previous.items()},
                   last_period_teams=tuple(last_teams), other_loads=dict(loads))


def _rules(config: Config, matter: Matter, period: Period, on: dt.date | None, experts: int) -> Rules:
    conflicts = matter.conflicts or config.settings.assign.conflicts
    pair_cap = matter.pair_cap if matter.pair_cap is not None else config.settings.assign.pair_cap
    return Rules(qualifications=frozenset(matter.qualification) | {matter.code}, demand=matter.team_demand(),
                 window=(on, on) if on else (period.start, period.end), pair_cap=pair_cap,
                 same_township=conflicts.same_township, previous_periods=conflicts.previous_periods,
                 repeat_pair=conflicts.repeat_pair, max_tasks_per_inspector=matter.max_tasks_per_inspector,
                 experts_per_task=experts)


# -- planning (nothing written) -----------------------------------------------------------------------

@dataclass
class _Prepared:
    matter: Matter
    period: Period
    draw_id: int
    tasks: list[TaskRow]
    rules: Rules
    eligibility: Any
    inputs: dict[str, Any]
    inputs_sha256: str
    fractional: Any
    inspectors: dict[str, InspectorRow]


def _task_rows(conn: Connection, period: Period, matter: Matter) -> tuple[int, list[TaskRow]]:
    ids = current_draw_ids(conn, period.label, matter.code)
    if not ids:
        raise InspectError(f"{matter.code} {period}: nothing drawn yet; run `inspect draw --period {period} "
                           f"--matter {matter.code} ...` first")
    draw_id = ids[(matter.code, period.label)]
    tasks = [TaskRow(t.task_id, t.task_no, t.entity_id, t.identifier, t.entity_name, t.township)
             for t in current_tasks(conn, period.label, matter.code)]
    if not tasks:
        raise InspectError(f"{matter.code} {period}: draw #{draw_id} selected no entity; there is nothing to assign")
    return draw_id, tasks


def _prepare(conn: Connection, config: Config, matter: Matter, period: Period, *, on: dt.date | None, experts: int,
             extra_loads: Mapping[int, int], run: Iterable[str] = ()) -> _Prepared:
    from inspect_kit.assign import AssignmentInfeasible, AssignmentInputInvalid, solve_fractional

    if experts < 0:
        raise InspectError("--experts must be 0 or more")
    draw_id, tasks = _task_rows(conn, period, matter)
    rules = _rules(config, matter, period, on, experts)
    inspectors = _inspector_rows(conn)
    kinds = {r.id: r.kind for r in inspectors}
    history = _history(conn, period, {matter.code, *run}, rules, tasks, kinds, extra_loads)
    el = build_eligibility(inspectors, tasks, rules, history)
    doc = inputs_document(el, rules, matter=matter.code, period=period.label, draw_id=draw_id)
    labels = {t.task_no: t.label for t in tasks}
    problems: list[Problem] = []
    fractional = None
    try:
        fractional = solve_fractional(instance_from_inputs(doc, labels))
    except AssignmentInfeasible as exc:
        problems += [_explain(matter, p, el) for p in exc.problems]
    except AssignmentInputInvalid as exc:  # e.g. an officer ID with a tab: the registry's fault
        problems += [Problem(f"{matter.code}: {p}") for p in exc.problems]
    short = [t for t in tasks if len(el.experts[t.task_no]) < experts]
    if len(short) > 10:
        problems.append(Problem(f"{matter.code}: {len(short)} of {len(tasks)} task(s) have fewer than {experts} eligible expert(s) "
                                f"(qualified for {matter.code}, on duty, no conflict): {_show([t.task_no for t in short], 5)}"))
    else:
        problems += [Problem(f"task {t.task_no} ({t.label}) has {len(el.experts[t.task_no])} eligible expert(s), "
                             f"fewer than the {experts} asked for (--experts)") for t in short]
    if problems:
        raise ValidationFailed(f"{matter.code} {period}: teams cannot be assigned", problems)
    return _Prepared(matter, period, draw_id, tasks, rules, el, doc, inputs_sha256(doc), fractional,
                     {r.cert_no: r for r in inspectors})


def _explain(matter: Matter, problem: Any, el: Any) -> Problem:
    """The core's problem, with the reasons officers were excluded from the task (task numbers
    name the matter; department and total shortfalls get the matter code in front)."""
    task_id = getattr(problem, "task_id", None)
    if task_id:
        return Problem(f"{problem.reason} — {why_text(el, task_id, getattr(problem, 'department', None))}")
    return Problem(f"{matter.code}: {problem.reason}")


def draw_experts(eligible: Mapping[str, Sequence[str]], per_task: int, seed: str) -> dict[str, tuple[str, ...]]:
    """Outside experts per task: `per_task` of the task's eligible experts, uniformly at random.

    Tasks in task-number order; for each, a partial Fisher–Yates shuffle of its sorted eligible
    experts (for i < per_task: swap i with i + below(n − i)) on the stream HashStream(seed, "experts").
    """
    from inspect_kit.assign.randomness import HashStream

    if per_task <= 0:
        return {}
    stream = HashStream(seed, "experts")
    out = {}
    for task in sorted(eligible):
        pool = sorted(eligible[task])
        k = min(per_task, len(pool))
        for i in range(k):
            j = i + stream.below(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        out[task] = tuple(sorted(pool[:k]))
    return out


def _sample(prep: _Prepared, seed: str):
    from inspect_kit.assign import ForbiddenPairsUnresolved, sample_assignment

    try:
        sampled = sample_assignment(prep.fractional, seed)
    except ForbiddenPairsUnresolved as exc:
        labels = {t.task_no: t.label for t in prep.tasks}
        raise ValidationFailed(
            f"{prep.matter.code} {prep.period}: teams cannot be assigned",
            [Problem(f"task {t} ({labels.get(t, '')}): with this seed the team keeps two officers who were a team last "
                     "period (repeat_pair) and no swap with another task can separate them; more officers, or "
                     "repeat_pair = false, would fix it") for t in exc.task_ids]) from None
    experts = draw_experts(prep.inputs["experts"]["eligible"], prep.rules.experts_per_task, seed)
    return sampled, experts


def check_inputs(engine: Engine, config: Config, period: Period | str, *, matters: Sequence[str] | None = None,
                 on: dt.date | None = None, experts: int = 0) -> list[InputsInfo]:
    """Compute the inputs and the fractional solution without a seed and without writing: the hashes
    to publish before the seed is chosen, or the precise reasons why teams cannot be formed."""
    period = parse_period(period) if isinstance(period, str) else period
    out = []
    problems: list[Problem] = []
    with engine.connect() as conn:
        run = _matters(conn, config, period, matters)
        for m in run:
            try:
                prep = _prepare(conn, config, m, period, on=on, experts=experts, extra_loads={}, run=[m.code])
            except ValidationFailed as exc:
                problems += exc.problems
                continue
            loads = prep.fractional.expected_loads()
            out.append(InputsInfo(m.code, period.label, prep.draw_id, len(prep.tasks), len(prep.inputs["officers"]),
                                  prep.inputs_sha256, prep.fractional.sha256, {k: str(v) for k, v in loads.items()}))
    _raise_all(run, period, problems)
    return out


def _raise_all(run: Sequence[Matter], period: Period, problems: list[Problem]) -> None:
    if problems:
        what = f"{run[0].code} {period}" if len(run) == 1 else f"{period} ({', '.join(m.code for m in run)})"
        raise ValidationFailed(f"{what}: teams cannot be assigned", problems)


def _matters(conn: Connection, config: Config, period: Period, codes: Sequence[str] | None) -> list[Matter]:
    if codes:
        found = [config.matter(c) for c in codes]
        for m in found:
            if m.period != period.kind:
                raise InspectError(f"matter {m.code} is drawn per {m.period}, not per {period.kind} ({period})")
        return found
    drawn = {m for (m, _) in current_draw_ids(conn, period.label)}
    found = [m for m in matters_for(config.matters, period) if m.code in drawn]
    if not found:
        raise InspectError(f"no {period.kind}ly matter has been drawn for {period}: run `inspect draw` first")
    return sorted(found, key=lambda m: m.code)


def _check_seed(config: Config, seed: str) -> None:
    min_len = config.settings.draw.min_seed_length
    if not seed or len(seed) < min_len:
        raise InspectError(f"the seed must have at least {min_len} characters (got {len(seed or '')}): use digits from a "
                           "public dice roll, a lottery result or a randomness beacon, chosen after the inputs were fixed")
    if any(c in seed for c in "\t\r\n"):
        raise InspectError("the seed must not contain tabs or line breaks")


# -- assigning -------------------------------------------------------------------------------------------

def assign_teams(engine: Engine, config: Config, period: Period | str, *, seed: str, now: dt.datetime,
                 seed_source: str | None = None, matters: Sequence[str] | None = None, experts: int = 0,
                 on: dt.date | None = None, reassign: bool = False, reason: str | None = None) -> list[AssignmentInfo]:
    """Assign teams to every task of the current draws of the period's matters (or `matters`).

    All or nothing: if any matter cannot be staffed, ValidationFailed lists every task that cannot
    and why, and nothing is written. A matter already assigned needs `reassign=True` and a reason;
    the earlier record stays.
    """
    period = parse_period(period) if isinstance(period, str) else period
    _check_seed(config, seed)
    if reassign and not (reason and reason.strip()):
        raise InspectError("a re-assignment needs --reason: it is kept with the new record")
    planned = []
    with engine.begin() as conn:
        extra: Counter[int] = Counter()
        run = _matters(conn, config, period, matters)
        problems: list[Problem] = []
        for m in run:
            draw_id = current_draw_ids(conn, period.label, m.code).get((m.code, period.label))
            previous = conn.execute(select(AssignmentRow.id, AssignmentRow.seed, AssignmentRow.inputs_sha256,
                                           AssignmentRow.created_at)
                                    .where(AssignmentRow.matter_code == m.code, AssignmentRow.period == period.label,
                                           AssignmentRow.draw_id == draw_id)
                                    .order_by(AssignmentRow.id.desc()).limit(1)).first()
            if previous is not None and not reassign:
                raise InspectError(f"{m.code} {period} already has teams (assignment #{previous.id}, "
                                   f"{previous.created_at:%Y-%m-%d %H:%M}); a re-assignment needs --reassign --reason "
                                   "\"...\" and is recorded beside the first")
            if reassign and previous is None and draw_id is not None:
                raise InspectError(f"{m.code} {period} has no teams to re-assign; drop --reassign")
            try:
                prep = _prepare(conn, config, m, period, on=on, experts=experts, extra_loads=extra,
                                run=[x.code for x in run])
            except ValidationFailed as exc:  # go on: the user hears about every matter at once
                problems += exc.problems
                continue
            if previous is not None and previous.seed == seed and previous.inputs_sha256 == prep.inputs_sha256:
                raise InspectError(f"{m.code} {period}: the same seed on the same inputs gives the same teams as "
                                   f"assignment #{previous.id}; use a new seed")
            drawn_at = conn.execute(select(Draw.drawn_at).where(Draw.id == prep.draw_id)).scalar_one()
            if now < drawn_at:
                raise InspectError(f"{m.code} {period}: the assignment time {now} is before the draw ({drawn_at})")
            try:
                sampled, chosen_experts = _sample(prep, seed)
            except ValidationFailed as exc:
                problems += exc.problems
                continue
            by_cert = {r.cert_no: r.id for r in prep.inspectors.values()}
            for cert, n in sampled.loads.items():
                if n:
                    extra[by_cert[cert]] += n
            planned.append((prep, sampled, chosen_experts, previous.id if previous is not None else None))
        _raise_all(run, period, problems)
        ids = []
        for prep, sampled, chosen_experts, previous_id in planned:
            ids.append(_store(conn, prep, sampled, chosen_experts, seed=seed, seed_source=seed_source, now=now,
                              reassignment_of=previous_id, reason=reason if reassign else None))
    return [get_assignment(engine, i) for i in ids]


def _store(conn: Connection, prep: _Prepared, sampled: Any, experts: Mapping[str, tuple[str, ...]], *, seed: str,
           seed_source: str | None, now: dt.datetime, reassignment_of: int | None, reason: str | None) -> int:
    fr = prep.fractional
    aid = conn.execute(insert(AssignmentRow.__table__).values(
        matter_code=prep.matter.code, period=prep.period.label, draw_id=prep.draw_id, seed=seed, seed_source=seed_source,
        algorithm=ALGORITHM_NAME, algorithm_version=ALGORITHM_VERSION, created_at=now, pair_cap=prep.rules.pair_cap,
        inputs_sha256=prep.inputs_sha256, fractional_sha256=fr.sha256,
        fractional_blob=zlib.compress(fr.canonical_bytes(), 6), inputs=prep.inputs,
        reassignment_of=reassignment_of, reason=reason)).inserted_primary_key[0]
    ins = prep.inspectors
    per_task = prep.rules.experts_per_task
    rows = []
    for t in prep.tasks:
        for cert in sampled.teams[t.task_no]:
            rows.append({"assignment_id": aid, "task_id": t.id, "inspector_id": ins[cert].id, "role": "officer",
                         "probability": float(fr.probability(t.task_no, cert)), "replaces_id": None, "reason": None,
                         "added_at": now})
        pool = len(prep.inputs["experts"]["eligible"].get(t.task_no, ())) if per_task else 0
        for cert in experts.get(t.task_no, ()):
            rows.append({"assignment_id": aid, "task_id": t.id, "inspector_id": ins[cert].id, "role": "expert",
                         "probability": min(per_task, pool) / pool, "replaces_id": None, "reason": None,
                         "added_at": now})
    bulk_insert(conn, TeamMember.__table__, rows)
    return aid


# -- reading assignments back ---------------------------------------------------------------------------

def split_reason(text: str | None) -> tuple[str | None, dict[str, Any]]:
    """A substitute row's reason → (the user's reason, the draw record: seed and excluded officers)."""
    if text is None or _DRAW_MARK not in text:
        return text, {}
    reason, _, meta = text.rpartition(_DRAW_MARK)
    try:
        return reason, json.loads(meta)
    except ValueError:
        return text, {}


def _assignment_row(conn: Connection, assignment_id: int):
    row = conn.execute(select(AssignmentRow.__table__).where(AssignmentRow.id == assignment_id)).first()
    if row is None:
        raise InspectError(f"no assignment #{assignment_id}")
    return row


def _teams_of(conn: Connection, a) -> list[Team]:
    tasks = conn.execute(select(Task.id, Task.task_no, Task.identifier, Entity.name, Entity.township)
                         .join(Entity, Entity.id == Task.entity_id).where(Task.draw_id == a.draw_id)
                         .order_by(Task.task_no)).all()
    rows = _member_rows(conn, [t.id for t in tasks])
    inspector_ids = sorted({r.inspector_id for rs in rows.values() for r in rs})
    people = {}
    for part in _chunks(inspector_ids):
        for r in conn.execute(select(Inspector.id, Inspector.cert_no, Inspector.name, Inspector.department, Inspector.kind)
                              .where(Inspector.id.in_(part))):
            people[r.id] = r
    teams = []
    for t in tasks:
        mine = [r for r in rows.get(t.id, []) if r.assignment_id == a.id]
        if not any(r.role != "substitute" for r in mine):
            continue
        # this assignment's rows, with its substitutes applied (a later assignment does not change it)
        _, current, replaced = _effective(mine)
        cert_of = {r.id: people[r.inspector_id].cert_no for r in mine}

        def member(r: _Row) -> Member:
            p = people[r.inspector_id]
            return Member(r.id, p.cert_no, p.name, p.department, p.kind, r.role, r.probability,
                          cert_of.get(r.replaces_id) if r.replaces_id else None, split_reason(r.reason)[0], r.added_at)

        ms = [member(r) for r in current]
        teams.append(Team(t.id, t.task_no, t.identifier, t.name, t.township,
                          officers=tuple(m for m in ms if not m.is_expert), experts=tuple(m for m in ms if m.is_expert),
                          replaced=tuple(member(r) for r in replaced)))
    return teams


def _info(a, teams: list[Team]) -> AssignmentInfo:
    return AssignmentInfo(a.id, a.matter_code, a.period, a.draw_id, a.seed, a.seed_source, a.algorithm,
                          a.algorithm_version, a.created_at, a.pair_cap, a.inputs_sha256, a.fractional_sha256,
                          a.reassignment_of, a.reason, teams)


def get_assignment(engine: Engine, assignment_id: int, with_teams: bool = True) -> AssignmentInfo:
    with engine.connect() as conn:
        a = _assignment_row(conn, assignment_id)
        return _info(a, _teams_of(conn, a) if with_teams else [])


def _current_ids(conn: Connection, period: str | None, matter: str | None) -> list[int]:
    draws = current_draw_ids(conn, period, matter)
    if not draws:
        return []
    stmt = (select(func.max(AssignmentRow.id)).where(AssignmentRow.draw_id.in_(list(draws.values())))
            .group_by(AssignmentRow.draw_id))
    return sorted(conn.execute(stmt).scalars())


def current_assignments(engine: Engine, period: str | None = None, matter: str | None = None) -> list[AssignmentInfo]:
    """The latest assignment of each current draw (of the period / matter if given), with teams."""
    with engine.connect() as conn:
        ids = _current_ids(conn, period, matter)
    return [get_assignment(engine, i) for i in ids]


def list_assignments(engine: Engine, period: str | None = None, matter: str | None = None) -> list[AssignmentInfo]:
    """Every assignment on record, re-assignments included (without teams)."""
    stmt = select(AssignmentRow.id).order_by(AssignmentRow.period, AssignmentRow.matter_code, AssignmentRow.id)
    if period:
        stmt = stmt.where(AssignmentRow.period == period)
    if matter:
        stmt = stmt.where(AssignmentRow.matter_code == matter)
    with engine.connect() as conn:
        ids = list(conn.execute(stmt).scalars())
    return [get_assignment(engine, i, with_teams=False) for i in ids]


# -- substitutes -------------------------------------------------------------------------------------------

def default_substitute_seed(assignment_seed: str, task_no: str, cert_no: str) -> str:
    """The seed of a substitute draw when none is given: "{seed}:substitute:{task_no}:{cert_no}"."""
    return f"{assignment_seed}:substitute:{task_no}:{cert_no}"


def _state(fractional, teams: Mapping[str, Iterable[str]]):
    """A core Assignment holding the given officer teams (for draw_substitute)."""
    from inspect_kit.assign import Assignment as CoreAssignment

    g = fractional.graph
    dept = dict(zip(g.officer_ids, g.officer_departments))
    by_department: dict[str, dict[str, tuple[str, ...]]] = {}
    loads = dict.fromkeys(g.officer_ids, 0)
    for task, certs in teams.items():
        for d in {dept[c] for c in certs}:
            by_department.setdefault(task, {})[d] = tuple(sorted(c for c in certs if dept[c] == d))
        for c in certs:
            loads[c] += 1
    return CoreAssignment(seed="-", fractional_sha256=fractional.sha256,
                          teams={t: tuple(sorted(c)) for t, c in teams.items()}, by_department=by_department, loads=loads)


def draw_expert_substitute(candidates: Iterable[str], seed: str, task_no: str, leaving: str) -> tuple[str, Fraction]:
    """A replacement expert, uniform among `candidates`, from HashStream("{seed}\\t{task}\\t{leaving}", "experts-substitute")."""
    from inspect_kit.assign.randomness import HashStream

    pool = sorted(candidates)
    if not pool:
        raise InspectError(f"task {task_no}: no other eligible expert can replace {leaving}")
    k = HashStream(f"{seed}\t{task_no}\t{leaving}", "experts-substitute").below(len(pool))
    return pool[k], Fraction(1, len(pool))


def _conflicts(conn: Connection, entity_ids: Sequence[int]) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for part in _chunks(sorted(set(entity_ids))):
        out.update(conn.execute(select(Conflict.inspector_id, Conflict.entity_id).where(Conflict.entity_id.in_(part))).all())
    return out


def _eligible_now(conn: Connection, a, task: TaskRow, people: Iterable[InspectorRow], on: dt.date | None):
    """The stored rules re-applied to today's registry for one task: who is eligible now (officers, experts)."""
    stored = a.inputs.get("rules", {})
    window = (on, on) if on else tuple(dt.date.fromisoformat(d) for d in stored["window"])
    demand = next((t["demand"] for t in a.inputs["tasks"] if t["id"] == task.task_no), {})
    rules = Rules(qualifications=frozenset(stored["qualifications"]), demand=demand, window=window,  # type: ignore[arg-type]
                  same_township=bool(stored.get("same_township")))
    el = build_eligibility(people, [task], rules, History(conflicts=frozenset(_conflicts(conn, [task.entity_id]))))
    return set(el.eligible[task.task_no]), set(el.experts[task.task_no])


def substitute(engine: Engine, config: Config, task_no: str, cert_no: str, *, reason: str, now: dt.datetime,
               seed: str | None = None, on: dt.date | None = None) -> SubstitutionInfo:
    """Replace an officer (or expert) who drops out of a task's team; records a new team member row.

    Officers: the core's draw_substitute among the department's officers eligible for the task in
    the stored inputs, not on the team, below their cap, not forbidden to pair with the team, not
    replaced on this task before, and still available today (on duty, certificate valid on the
    inspection dates or `on`, qualified, no declared conflict, township rule). Experts: uniform
    among the task's other eligible experts.
    """
    from inspect_kit.assign import Fractional, draw_substitute
    from inspect_kit.draw.tasks import task_by_no

    if not (reason and reason.strip()):
        raise InspectError("a substitute needs --reason: it is kept with the record")
    with engine.begin() as conn:
        info = task_by_no(conn, task_no) or task_by_no(conn, task_no.strip().upper())
        if info is None:
            raise InspectError(f"no task {task_no!r}")
        if current_draw_ids(conn, info.period, info.matter_code).get((info.matter_code, info.period)) != info.draw_id:
            raise InspectError(f"task {info.task_no} belongs to a superseded draw; it is not worked on")
        task = TaskRow(info.task_id, info.task_no, info.entity_id, info.identifier, info.entity_name, info.township)
        aid, current, replaced = _effective(_member_rows(conn, [task.id]).get(task.id, []))
        if aid is None:
            raise InspectError(f"task {task.task_no} has no team yet: run `inspect assign` first")
        a = _assignment_row(conn, aid)
        people = {r.id: r for r in _inspector_rows(conn)}
        by_cert = {r.cert_no: r for r in people.values()}
        leaving = by_cert.get(cert_no.strip())
        leaving_row = next((r for r in current if leaving is not None and r.inspector_id == leaving.id), None)
        if leaving is None or leaving_row is None:
            team = "、".join(f"{people[r.inspector_id].cert_no} {people[r.inspector_id].name}" for r in current)
            raise InspectError(f"{cert_no} is not on the team of task {task.task_no} (team: {team})")
        default = default_substitute_seed(a.seed, task.task_no, leaving.cert_no)
        seed = seed.strip() if seed else default
        if not seed or any(c in seed for c in "\t\r\n"):
            raise InspectError("the seed must be non-empty, without tabs or line breaks")
        if now < a.created_at:
            raise InspectError(f"the substitution time {now} is before the assignment ({a.created_at})")

        officers_now, experts_now = _eligible_now(conn, a, task, people.values(), on)
        team_certs = {people[r.inspector_id].cert_no for r in current}
        left = {people[r.inspector_id].cert_no for r in replaced}  # who dropped out of this task does not come back
        officers_now -= left
        experts_now -= left
        if leaving.kind != "officer" or leaving_row.role == "expert":
            stored = set(a.inputs.get("experts", {}).get("eligible", {}).get(task.task_no, ()))
            unavailable = sorted(stored - experts_now - team_certs)
            pool = stored - team_certs - set(unavailable)
            chosen, p = draw_expert_substitute(pool, seed, task.task_no, leaving.cert_no)
            prob, candidates = float(p), {c: 1 / len(pool) for c in sorted(pool)}
        else:
            fractional = Fractional.from_canonical(zlib.decompress(a.fractional_blob))
            slot = set(_slot_officers(fractional, task.task_no, leaving.cert_no))
            unavailable = sorted(slot - officers_now - team_certs)
            state = _state(fractional, _officer_teams(conn, a, people))
            sub = draw_substitute(fractional, state, task.task_no, leaving.cert_no, seed, unavailable)
            chosen, prob = sub.substitute, float(sub.probabilities[sub.substitute])
            candidates = {c: float(v) for c, v in sub.probabilities.items()}
        meta: dict[str, Any] = {}
        if seed != default:
            meta["seed"] = seed
        if unavailable:
            meta["unavailable"] = unavailable
        stored_reason = reason.strip() + (_DRAW_MARK + json.dumps(meta, ensure_ascii=False, sort_keys=True) if meta else "")
        conn.execute(insert(TeamMember.__table__).values(
            assignment_id=a.id, task_id=task.id, inspector_id=by_cert[chosen].id, role="substitute",
            probability=prob, replaces_id=leaving_row.id, reason=stored_reason, added_at=now))
    return SubstitutionInfo(a.id, task.task_no, leaving.cert_no, leaving.name, chosen, by_cert[chosen].name, prob,
                            candidates, seed, unavailable, sorted(team_certs - {leaving.cert_no} | {chosen}))


def _slot_officers(fractional, task_no: str, leaving: str) -> list[str]:
    g = fractional.graph
    dept = g.officer_departments[g.officer_index[leaving]]
    out = []
    for s in g.task_slots.get(task_no, ()):
        if g.slot_departments[s] == dept:
            lo, hi = int(g.slot_start[s]), int(g.slot_start[s + 1])
            out += [g.officer_ids[o] for o in g.edge_officer[lo:hi].tolist()]
    return out


def _officer_teams(conn: Connection, a, people: Mapping[int, InspectorRow]) -> dict[str, list[str]]:
    """task_no → current officer cert_nos of every task of the assignment (its substitutes applied)."""
    tasks = dict(conn.execute(select(Task.id, Task.task_no).where(Task.draw_id == a.draw_id)).all())
    rows = _member_rows(conn, list(tasks))
    out = {}
    for tid, rs in rows.items():
        mine = [r for r in rs if r.assignment_id == a.id]
        if not any(r.role != "substitute" for r in mine):
            continue
        _, current, _ = _effective(mine)
        out[tasks[tid]] = [people[r.inspector_id].cert_no for r in current
                           if people[r.inspector_id].kind == "officer" and r.role != "expert"]
    return out


# -- verification --------------------------------------------------------------------------------------

def export_bundle(engine: Engine, assignment_id: int) -> dict[str, Any]:
    """Everything needed to re-derive and check an assignment without the database.

    Holds the teams: confidential until the entities are notified.
    """
    with engine.connect() as conn:
        a = _assignment_row(conn, assignment_id)
        d = conn.execute(select(Draw.matter_code, Draw.period, Draw.drawn_at).where(Draw.id == a.draw_id)).first()
        tasks = dict(conn.execute(select(Task.id, Task.task_no).where(Task.draw_id == a.draw_id)).all())
        rows = [r for rs in _member_rows(conn, list(tasks)).values() for r in rs if r.assignment_id == a.id]
        rows.sort(key=lambda r: r.id)
        people = {}
        for part in _chunks(sorted({r.inspector_id for r in rows})):
            people.update({r.id: r for r in conn.execute(select(Inspector.id, Inspector.cert_no, Inspector.kind)
                                                         .where(Inspector.id.in_(part)))})
    by_id = {r.id: r for r in rows}
    teams: dict[str, dict[str, list[str]]] = {}
    subs = []
    for r in rows:
        cert = people[r.inspector_id].cert_no
        if r.role in ("officer", "expert"):
            team = teams.setdefault(tasks[r.task_id], {"officers": [], "experts": [], "probabilities": []})
            team["officers" if r.role == "officer" else "experts"].append(cert)
            if r.role == "officer":
                team["probabilities"].append(r.probability)
            continue
        old = by_id.get(r.replaces_id)
        reason, meta = split_reason(r.reason)
        leaving = people[old.inspector_id].cert_no if old is not None else None
        kind = ("expert" if old is not None and (people[old.inspector_id].kind != "officer" or old.role == "expert")
                else "officer")
        subs.append({"task": tasks[r.task_id], "leaving": leaving, "substitute": cert, "kind": kind,
                     "probability": r.probability,
                     "seed": meta.get("seed") or (default_substitute_seed(a.seed, tasks[r.task_id], leaving)
                                                  if leaving else None),
                     "unavailable": meta.get("unavailable", []), "reason": reason, "added_at": r.added_at.isoformat()})
    return {
        "format": BUNDLE_FORMAT, "version": BUNDLE_VERSION,
        "algorithm": {"name": a.algorithm, "version": a.algorithm_version},
        "matter": a.matter_code, "period": a.period, "seed": a.seed, "seed_source": a.seed_source,
        "inputs_sha256": a.inputs_sha256, "inputs": a.inputs,
        "fractional_sha256": a.fractional_sha256, "fractional": zlib.decompress(a.fractional_blob).decode("utf-8"),
        "teams": [{"task": t, **teams[t]} for t in sorted(teams)],
        "substitutions": subs,
        "record": {"assignment_id": a.id, "draw_id": a.draw_id, "created_at": a.created_at.isoformat(),
                   "pair_cap": a.pair_cap, "reassignment_of": a.reassignment_of, "reason": a.reason,
                   "draw": {"matter": d.matter_code, "period": d.period, "drawn_at": d.drawn_at.isoformat()} if d else None,
                   "draw_tasks": sorted(tasks.values())},
    }


def _show(items: Iterable[str], limit: int = 8) -> str:
    items = list(items)
    return ", ".join(items[:limit]) + (f" … ({len(items)} in all)" if len(items) > limit else "")


def verify_bundle(bundle: Mapping[str, Any], resolve: bool = False) -> VerifyReport:
    """Re-derive an exported assignment: hashes, teams from (fractional, seed), every rule, substitutes.

    With resolve=True the fractional solution is also solved again from the inputs and compared.
    """
    rep = VerifyReport(f"assignment {bundle.get('matter')} {bundle.get('period')}")
    try:
        _verify_bundle(bundle, rep, resolve)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        rep.fail(f"the record is malformed: {type(exc).__name__}: {exc}")
    return rep


def _verify_bundle(bundle: Mapping[str, Any], rep: VerifyReport, resolve: bool) -> None:
    from inspect_kit.assign import (AssignmentInputInvalid, ForbiddenPairsUnresolved, Fractional, NoSubstituteAvailable,
                                    apply_substitution, draw_substitute, instance_sha256, sample_assignment,
                                    solve_fractional)

    if bundle.get("format") != BUNDLE_FORMAT:
        rep.fail(f"not an assignment bundle (format {bundle.get('format')!r})")
        return
    inputs, seed = bundle["inputs"], bundle["seed"]
    if inputs_sha256(inputs) != bundle["inputs_sha256"]:
        rep.fail(f"the inputs do not match their SHA-256: stored {bundle['inputs_sha256']}, computed {inputs_sha256(inputs)}")
    text = bundle["fractional"].encode("utf-8")
    if hashlib.sha256(text).hexdigest() != bundle["fractional_sha256"]:
        rep.fail(f"the fractional solution does not match its SHA-256 {bundle['fractional_sha256']}")
    try:
        fractional = Fractional.from_canonical(text)
    except AssignmentInputInvalid as exc:
        rep.fail(f"the fractional solution is not valid: {exc}")
        return
    try:
        instance = instance_from_inputs(inputs)
        if instance_sha256(instance) != fractional.instance_sha256:
            rep.fail("the fractional solution was not computed from these inputs (instance SHA-256 differs)")
    except AssignmentInputInvalid as exc:
        rep.fail(f"the inputs are not a valid instance: {exc}")
        return
    if resolve and solve_fractional(instance).sha256 != fractional.sha256:
        rep.fail("solving the inputs again gives a different fractional solution")

    # the teams, re-derived from the fractional solution and the seed
    stored = {t["task"]: sorted(t["officers"]) for t in bundle["teams"]}
    stored_experts = {t["task"]: sorted(t.get("experts", [])) for t in bundle["teams"]}
    try:
        sampled = sample_assignment(fractional, seed)
    except (ValueError, ForbiddenPairsUnresolved) as exc:
        rep.fail(f"the teams cannot be re-derived with seed {seed!r}: {exc}")
        return
    derived = {t: sorted(c) for t, c in sampled.teams.items()}
    if derived != stored:
        diff = [f"{t}: stored {'、'.join(stored.get(t, [])) or '-'}, re-derived {'、'.join(derived.get(t, [])) or '-'}"
                for t in sorted(set(stored) | set(derived)) if stored.get(t) != derived.get(t)]
        rep.fail(f"the stored teams are not those the seed gives: {_show(diff, 5)}")
    per_task = int(inputs["experts"]["per_task"])
    expert_pool = inputs["experts"].get("eligible", {})
    if per_task:
        derived_experts = {t: sorted(c) for t, c in draw_experts(expert_pool, per_task, seed).items()}
        if {t: c for t, c in derived_experts.items() if c} != {t: c for t, c in stored_experts.items() if c}:
            rep.fail("the stored experts are not those the seed gives")
    elif any(stored_experts.values()):
        rep.fail("experts are stored but the inputs ask for none")
    for t in bundle["teams"]:
        for cert, p in zip(t["officers"], t.get("probabilities", [])):
            if p is None or abs(float(fractional.probability(t["task"], cert)) - p) > 1e-9:
                rep.fail(f"{t['task']}: the stored probability of {cert} is not the fractional solution's")

    # every rule, on the stored teams (before and after substitutes)
    for problem in _rule_problems(inputs, stored, stored_experts, fractional, check_loads=True):
        rep.fail(problem)

    teams = {t: list(c) for t, c in stored.items()}
    experts = {t: set(c) for t, c in stored_experts.items()}
    state = _state(fractional, teams)
    for s in bundle["substitutions"]:
        task, leaving = s["task"], s["leaving"]
        where = f"substitute {s['substitute']} for {leaving} on {task}"
        if leaving is None:
            rep.fail(f"{where}: replaces a member of another assignment")
            continue
        try:
            if s["kind"] == "expert":
                pool = set(expert_pool.get(task, ())) - experts.get(task, set()) - set(s["unavailable"])
                chosen, p = draw_expert_substitute(pool, s["seed"], task, leaving)
                experts[task] = experts.get(task, set()) - {leaving} | {chosen}
            else:
                sub = draw_substitute(fractional, state, task, leaving, s["seed"], s["unavailable"])
                chosen, p = sub.substitute, sub.probabilities[sub.substitute]
                state = apply_substitution(state, sub)
        except (InspectError, NoSubstituteAvailable, ValueError) as exc:
            rep.fail(f"{where}: cannot be re-derived ({exc})")
            continue
        if chosen != s["substitute"]:
            rep.fail(f"{where}: the seed gives {chosen}")
        elif s["probability"] is None or abs(float(p) - s["probability"]) > 1e-9:
            rep.fail(f"{where}: stored probability {s['probability']}, re-derived {float(p)}")
    if bundle["substitutions"]:
        final = {t: sorted(c) for t, c in state.teams.items()}
        for problem in _rule_problems(inputs, final, {t: sorted(c) for t, c in experts.items()}, fractional,
                                      check_loads=False):
            rep.fail(f"after substitutes: {problem}")


def _rule_problems(inputs: Mapping[str, Any], teams: Mapping[str, Sequence[str]], experts: Mapping[str, Sequence[str]],
                   fractional: Any, check_loads: bool) -> list[str]:
    """Team sizes per department, distinct members, eligibility, forbidden pairs, caps, floor/ceil loads."""
    problems = []
    dept = {o["id"]: o["department"] for o in inputs["officers"]}
    caps = {o["id"]: o["cap"] for o in inputs["officers"]}
    forbidden = {tuple(p) for p in inputs["forbidden_pairs"]}
    expert_pool = inputs["experts"].get("eligible", {})
    per_task = int(inputs["experts"]["per_task"])
    task_ids = [t["id"] for t in inputs["tasks"]]
    if set(teams) != set(task_ids):
        problems.append(f"teams are stored for {len(teams)} task(s) but the inputs have {len(task_ids)}: "
                        f"{_show(sorted(set(teams) ^ set(task_ids)))}")
    for t in inputs["tasks"]:
        team = list(teams.get(t["id"], []))
        if len(set(team)) != len(team):
            problems.append(f"{t['id']}: an officer appears twice on the team")
        outside = sorted(set(team) - set(t["eligible"]))
        if outside:
            problems.append(f"{t['id']}: {'、'.join(outside)} not eligible for the task")
        got = Counter(dept.get(c) for c in set(team))
        if dict(got) != {d: n for d, n in t["demand"].items() if n}:
            problems.append(f"{t['id']}: team {dict(got)} does not meet the demand {t['demand']}")
        pairs = {(a, b) for a in team for b in team if a < b} & forbidden
        if pairs:
            problems.append(f"{t['id']}: {'; '.join(f'{a}+{b}' for a, b in sorted(pairs))} were a team last period")
        ex = list(experts.get(t["id"], []))
        if sorted(set(ex) - set(expert_pool.get(t["id"], ()))):
            problems.append(f"{t['id']}: expert(s) {'、'.join(sorted(set(ex) - set(expert_pool.get(t['id'], ()))))} "
                            "not eligible for the task")
        if per_task and len(set(ex)) != min(per_task, len(expert_pool.get(t["id"], ()))):
            problems.append(f"{t['id']}: {len(set(ex))} expert(s), {per_task} asked for")
    loads = Counter(c for team in teams.values() for c in team)
    for cert, n in sorted(loads.items()):
        if caps.get(cert) is not None and n > caps[cert]:
            problems.append(f"{cert} has {n} tasks, above the cap {caps[cert]}")
    if check_loads:
        for cert, expected in fractional.expected_loads().items():
            n = loads.get(cert, 0)
            if not (expected.numerator // expected.denominator <= n <= -(-expected.numerator // expected.denominator)):
                problems.append(f"{cert} has {n} tasks; the fractional solution expects {float(expected):g} "
                                "(floor or ceiling)")
    return problems


def verify_assignment(engine: Engine, assignment_id: int, resolve: bool = False) -> VerifyReport:
    """Re-derive one stored assignment (see verify_bundle) and check it against its draw."""
    bundle = export_bundle(engine, assignment_id)
    rep = verify_bundle(bundle, resolve)
    rec = bundle["record"]
    rep.what = f"assignment #{assignment_id} ({bundle['matter']} {bundle['period']})"
    inputs = bundle["inputs"]
    if bundle["algorithm"]["name"] != ALGORITHM_NAME:
        rep.fail(f"unknown algorithm {bundle['algorithm']['name']!r}")
    if (inputs.get("matter"), inputs.get("period"), inputs.get("draw_id")) != (bundle["matter"], bundle["period"], rec["draw_id"]):
        rep.fail("the inputs name another matter, period or draw than the record")
    draw = rec["draw"]
    if draw is None or (draw["matter"], draw["period"]) != (bundle["matter"], bundle["period"]):
        rep.fail(f"draw #{rec['draw_id']} is not a draw of {bundle['matter']} {bundle['period']}")
    elif dt.datetime.fromisoformat(rec["created_at"]) < dt.datetime.fromisoformat(draw["drawn_at"]):
        rep.fail(f"the assignment ({rec['created_at']}) predates its draw ({draw['drawn_at']})")
    if sorted(t["id"] for t in inputs.get("tasks", [])) != rec["draw_tasks"]:
        rep.fail(f"the inputs' tasks are not the tasks of draw #{rec['draw_id']}")
    if abs(float(inputs.get("pair_cap", -1)) - rec["pair_cap"]) > 1e-12:
        rep.fail("the record's pair cap is not the inputs' pair cap")
    for s in bundle["substitutions"]:
        if dt.datetime.fromisoformat(s["added_at"]) < dt.datetime.fromisoformat(rec["created_at"]):
            rep.fail(f"substitute {s['substitute']} on {s['task']} predates the assignment")
    return rep


def verify_assignments(engine: Engine) -> list[tuple[str, bool, list[str]]]:
    """Every stored assignment, re-derived: (what, ok, problems) each (what `inspect verify` prints)."""
    with engine.connect() as conn:
        ids = list(conn.execute(select(AssignmentRow.id).order_by(AssignmentRow.id)).scalars())
    out = []
    for i in ids:
        rep = verify_assignment(engine, i)
        out.append((rep.what, rep.ok, rep.problems))
    return out
