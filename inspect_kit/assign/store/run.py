"""Assigning teams: `check_inputs` (the inputs and the fractional solution, nothing written) and
`assign_teams` (solve, sample with the seed, store in one transaction).

All or nothing: when any matter cannot be staffed, ValidationFailed names every task that cannot
be staffed and why (the core's infeasibility, with the reasons officers were excluded), and nothing
is written.

One module over 400 lines on purpose: `assign_teams` is `check_inputs` plus the seed and the write,
and both share the preparation step by step.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from sqlalchemy import Connection, Engine, select

from inspect_kit.assign.core.eligibility import (
    InspectorRow,
    Rules,
    TaskRow,
    build_eligibility,
    inputs_document,
    inputs_sha256,
    instance_from_inputs,
    why_text,
)
from inspect_kit.assign.core.experts import draw_experts
from inspect_kit.assign.core.record import ALGORITHM_NAME, ALGORITHM_VERSION, short_list
from inspect_kit.assign.store.records import AssignmentInfo, get_assignment
from inspect_kit.assign.store.rows import inspector_rows, read_history, task_rows
from inspect_kit.config import Config
from inspect_kit.config.models import Matter
from inspect_kit.draw.store.tasks import current_draw_ids
from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.periods import Period, matters_for, parse_period
from inspect_kit.storage.bulk import bulk_insert
from inspect_kit.storage.helpers import insert_id
from inspect_kit.storage.models import Assignment as AssignmentRow
from inspect_kit.storage.models import Draw, TeamMember
from inspect_kit.transparency.store import append_pending

if TYPE_CHECKING:
    from inspect_kit.assign.core.sampling import Assignment as CoreAssignment


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


def _rules(config: Config, matter: Matter, period: Period, on: dt.date | None, experts: int) -> Rules:
    conflicts = matter.conflicts or config.settings.assign.conflicts
    pair_cap = matter.pair_cap if matter.pair_cap is not None else config.settings.assign.pair_cap
    return Rules(
        qualifications=frozenset(matter.qualification) | {matter.code},
        demand=matter.team_demand(),
        window=(on, on) if on else (period.start, period.end),
        pair_cap=pair_cap,
        same_township=conflicts.same_township,
        previous_periods=conflicts.previous_periods,
        repeat_pair=conflicts.repeat_pair,
        max_tasks_per_inspector=matter.max_tasks_per_inspector,
        experts_per_task=experts,
    )


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


def _prepare(
    conn: Connection,
    config: Config,
    matter: Matter,
    period: Period,
    *,
    on: dt.date | None,
    experts: int,
    extra_loads: Mapping[int, int],
    run: Iterable[str] = (),
) -> _Prepared:
    from inspect_kit.assign import AssignmentInfeasible, AssignmentInputInvalid, solve_fractional

    if experts < 0:
        raise InspectError("--experts must be 0 or more")
    draw_id, tasks = task_rows(conn, period, matter)
    rules = _rules(config, matter, period, on, experts)
    inspectors = inspector_rows(conn)
    kinds = {r.id: r.kind for r in inspectors}
    history = read_history(conn, period, {matter.code, *run}, rules, tasks, kinds, extra_loads)
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
        problems.append(
            Problem(
                f"{matter.code}: {len(short)} of {len(tasks)} task(s) have fewer than {experts} eligible expert(s) "
                f"(qualified for {matter.code}, on duty, no conflict): {short_list([t.task_no for t in short], 5)}"
            )
        )
    else:
        problems += [
            Problem(
                f"task {t.task_no} ({t.label}) has {len(el.experts[t.task_no])} eligible expert(s), "
                f"fewer than the {experts} asked for (--experts)"
            )
            for t in short
        ]
    if problems:
        raise ValidationFailed(f"{matter.code} {period}: teams cannot be assigned", problems)
    return _Prepared(
        matter,
        period,
        draw_id,
        tasks,
        rules,
        el,
        doc,
        inputs_sha256(doc),
        fractional,
        {r.cert_no: r for r in inspectors},
    )


def _explain(matter: Matter, problem: Any, el: Any) -> Problem:
    """The core's problem, with the reasons officers were excluded from the task (task numbers
    name the matter; department and total shortfalls get the matter code in front)."""
    task_id = getattr(problem, "task_id", None)
    if task_id:
        return Problem(f"{problem.reason} — {why_text(el, task_id, getattr(problem, 'department', None))}")
    return Problem(f"{matter.code}: {problem.reason}")


def _sample(prep: _Prepared, seed: str) -> tuple[CoreAssignment, dict[str, tuple[str, ...]]]:
    from inspect_kit.assign import ForbiddenPairsUnresolved, sample_assignment

    try:
        sampled = sample_assignment(prep.fractional, seed)
    except ForbiddenPairsUnresolved as exc:
        labels = {t.task_no: t.label for t in prep.tasks}
        raise ValidationFailed(
            f"{prep.matter.code} {prep.period}: teams cannot be assigned",
            [
                Problem(
                    f"task {t} ({labels.get(t, '')}): with this seed the team keeps two officers who were a team last "
                    "period (repeat_pair) and no swap with another task can separate them; more officers, or "
                    "repeat_pair = false, would fix it"
                )
                for t in exc.task_ids
            ],
        ) from None
    experts = draw_experts(prep.inputs["experts"]["eligible"], prep.rules.experts_per_task, seed)
    return sampled, experts


def check_inputs(
    engine: Engine,
    config: Config,
    period: Period | str,
    *,
    matters: Sequence[str] | None = None,
    on: dt.date | None = None,
    experts: int = 0,
) -> list[InputsInfo]:
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
            out.append(
                InputsInfo(
                    m.code,
                    period.label,
                    prep.draw_id,
                    len(prep.tasks),
                    len(prep.inputs["officers"]),
                    prep.inputs_sha256,
                    prep.fractional.sha256,
                    {k: str(v) for k, v in loads.items()},
                )
            )
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
        raise InspectError(
            f"the seed must have at least {min_len} characters (got {len(seed or '')}): use digits from a "
            "public dice roll, a lottery result or a randomness beacon, chosen after the inputs were fixed"
        )
    if any(c in seed for c in "\t\r\n"):
        raise InspectError("the seed must not contain tabs or line breaks")


def assign_teams(
    engine: Engine,
    config: Config,
    period: Period | str,
    *,
    seed: str,
    now: dt.datetime,
    seed_source: str | None = None,
    matters: Sequence[str] | None = None,
    experts: int = 0,
    on: dt.date | None = None,
    reassign: bool = False,
    reason: str | None = None,
    by: str | None = None,
) -> list[AssignmentInfo]:
    """Assign teams to every task of the current draws of the period's matters (or `matters`).
    ``by`` names the web user (recorded on the assignment; its members are attributed through it).

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
            previous = conn.execute(
                select(AssignmentRow.id, AssignmentRow.seed, AssignmentRow.inputs_sha256, AssignmentRow.created_at)
                .where(
                    AssignmentRow.matter_code == m.code,
                    AssignmentRow.period == period.label,
                    AssignmentRow.draw_id == draw_id,
                )
                .order_by(AssignmentRow.id.desc())
                .limit(1)
            ).first()
            if previous is not None and not reassign:
                raise InspectError(
                    f"{m.code} {period} already has teams (assignment #{previous.id}, "
                    f"{previous.created_at:%Y-%m-%d %H:%M}); a re-assignment needs --reassign --reason "
                    '"..." and is recorded beside the first'
                )
            if reassign and previous is None and draw_id is not None:
                raise InspectError(f"{m.code} {period} has no teams to re-assign; drop --reassign")
            try:
                prep = _prepare(
                    conn, config, m, period, on=on, experts=experts, extra_loads=extra, run=[x.code for x in run]
                )
            except ValidationFailed as exc:  # go on: the user hears about every matter at once
                problems += exc.problems
                continue
            if previous is not None and previous.seed == seed and previous.inputs_sha256 == prep.inputs_sha256:
                raise InspectError(
                    f"{m.code} {period}: the same seed on the same inputs gives the same teams as "
                    f"assignment #{previous.id}; use a new seed"
                )
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
            ids.append(
                _store(
                    conn,
                    prep,
                    sampled,
                    chosen_experts,
                    seed=seed,
                    seed_source=seed_source,
                    now=now,
                    reassignment_of=previous_id,
                    reason=reason if reassign else None,
                    by=by,
                )
            )
        append_pending(conn, now)
    return [get_assignment(engine, i) for i in ids]


def _store(
    conn: Connection,
    prep: _Prepared,
    sampled: Any,
    experts: Mapping[str, tuple[str, ...]],
    *,
    seed: str,
    seed_source: str | None,
    now: dt.datetime,
    reassignment_of: int | None,
    reason: str | None,
    by: str | None = None,
) -> int:
    fr = prep.fractional
    aid = insert_id(
        conn,
        AssignmentRow.__table__,
        matter_code=prep.matter.code,
        period=prep.period.label,
        draw_id=prep.draw_id,
        seed=seed,
        seed_source=seed_source,
        algorithm=ALGORITHM_NAME,
        algorithm_version=ALGORITHM_VERSION,
        created_at=now,
        pair_cap=prep.rules.pair_cap,
        inputs_sha256=prep.inputs_sha256,
        fractional_sha256=fr.sha256,
        fractional_blob=zlib.compress(fr.canonical_bytes(), 6),
        inputs=prep.inputs,
        reassignment_of=reassignment_of,
        reason=reason,
        by=by,
    )
    ins = prep.inspectors
    per_task = prep.rules.experts_per_task
    rows = []
    for t in prep.tasks:
        for cert in sampled.teams[t.task_no]:
            rows.append(
                {
                    "assignment_id": aid,
                    "task_id": t.id,
                    "inspector_id": ins[cert].id,
                    "role": "officer",
                    "probability": float(fr.probability(t.task_no, cert)),
                    "replaces_id": None,
                    "reason": None,
                    "added_at": now,
                }
            )
        pool = len(prep.inputs["experts"]["eligible"].get(t.task_no, ())) if per_task else 0
        for cert in experts.get(t.task_no, ()):
            rows.append(
                {
                    "assignment_id": aid,
                    "task_id": t.id,
                    "inspector_id": ins[cert].id,
                    "role": "expert",
                    "probability": min(per_task, pool) / pool,
                    "replaces_id": None,
                    "reason": None,
                    "added_at": now,
                }
            )
    bulk_insert(conn, TeamMember.__table__, rows)
    return aid
