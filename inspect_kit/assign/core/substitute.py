"""Replace an officer who drops out of a task, without breaking the pair cap.

Officer j (x_j = its probability for the task) is drawn with probability proportional to
w_j = (Q - x_j) / (1 - x_j). Why: j ends up on the task with probability at most x_j + (1 - x_j) * p_j, where
p_j is its chance of being the substitute when it was not drawn; p_j <= w_j keeps that <= Q. The
normalised probabilities w_j / sum(w) satisfy p_j <= w_j whenever sum(w) >= 1, which holds unless
nearly every candidate already sits at the cap. The exact probabilities used are returned.

Candidates: the leaving officer's department, eligible for the task, not on the team, not listed
as unavailable, below their load cap, and not forbidden to pair with anyone staying on the team.
The draw uses the stream SHA-256("{seed}\\t{task}\\t{leaving}:substitute:{counter}"): IDs and seeds
hold no tabs, so distinct events never share a stream even if a seed is reused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Iterable

from inspect_kit.errors import InspectError

from .errors import NoSubstituteAvailable
from .fractional import Fractional
from .randomness import HashStream
from .sampling import Assignment, _check_seed


@dataclass(frozen=True)
class Substitution:
    task_id: str
    department: str
    leaving: str
    substitute: str
    probabilities: dict[str, Fraction]  # every candidate -> chance it was drawn (sums to 1)
    seed: str
    team: tuple[str, ...]  # the task's team after the substitution, sorted


def _candidate_weights(
    fractional: Fractional, assignment: Assignment, task_id: str, leaving: str, unavailable: set[str]
) -> tuple[str, dict[str, Fraction]]:
    g = fractional.graph
    team = set(assignment.teams.get(task_id, ()))
    if leaving not in team:
        raise InspectError(f"officer {leaving} is not on the team of task {task_id}")
    dept = g.officer_departments[g.officer_index[leaving]]
    slot = next(s for s in g.task_slots[task_id] if g.slot_departments[s] == dept)
    staying = team - {leaving}
    banned = {b if a in staying else a for a, b in g.forbidden_pairs if a in staying or b in staying}
    q, scale = g.pair_cap_units, g.scale

    weights: dict[str, Fraction] = {}
    excluded = {
        "on the team": 0,
        "unavailable": 0,
        "may not pair with the team": 0,
        "at their load cap": 0,
        "already at the pair cap": 0,
    }
    lo, hi = int(g.slot_start[slot]), int(g.slot_start[slot + 1])
    for o, x in zip(g.edge_officer[lo:hi].tolist(), fractional.units[lo:hi].tolist()):
        oid, cap = g.officer_ids[o], g.officer_caps[o]
        reason = (
            "on the team"
            if oid in team
            else "unavailable"
            if oid in unavailable
            else "may not pair with the team"
            if oid in banned
            else "at their load cap"
            if cap is not None and assignment.loads.get(oid, 0) >= cap
            else "already at the pair cap"
            if x >= q
            else None
        )
        if reason:
            excluded[reason] += 1
        else:
            weights[oid] = Fraction(q - x, scale - x)  # (Q - x) / (1 - x), both on the grid
    if not weights:
        counts = ", ".join(f"{n} {why}" for why, n in excluded.items() if n)
        raise NoSubstituteAvailable(
            f"task {task_id}: no officer of department {dept} can replace {leaving} without breaking a rule; "
            f"of {hi - lo} eligible: {counts}"
        )
    return dept, weights


def draw_substitute(
    fractional: Fractional,
    assignment: Assignment,
    task_id: str,
    leaving: str,
    seed: str,
    unavailable: Iterable[str] = (),
) -> Substitution:
    """Draw who replaces `leaving` on `task_id`; raises NoSubstituteAvailable if nobody can."""
    _check_seed(seed)
    dept, weights = _candidate_weights(fractional, assignment, task_id, leaving, set(unavailable))
    total = sum(weights.values())
    probabilities = {oid: w / total for oid, w in sorted(weights.items())}
    denominator = math.lcm(*(p.denominator for p in probabilities.values()))
    draw = HashStream(f"{seed}\t{task_id}\t{leaving}", "substitute").below(denominator)
    cumulative = 0
    chosen = ""  # set below: the cumulative weights reach the denominator, and draw < denominator
    for oid, p in probabilities.items():
        cumulative += p.numerator * (denominator // p.denominator)
        if draw < cumulative:
            chosen = oid
            break
    team = tuple(sorted((set(assignment.teams[task_id]) - {leaving}) | {chosen}))
    return Substitution(
        task_id=task_id,
        department=dept,
        leaving=leaving,
        substitute=chosen,
        probabilities=probabilities,
        seed=seed,
        team=team,
    )


def apply_substitution(assignment: Assignment, substitution: Substitution) -> Assignment:
    """The assignment after the substitution (teams and loads updated; seed and hash unchanged)."""
    s = substitution
    teams = dict(assignment.teams)
    teams[s.task_id] = s.team
    by_department = {task: dict(depts) for task, depts in assignment.by_department.items()}
    dept_team = set(by_department[s.task_id][s.department]) - {s.leaving} | {s.substitute}
    by_department[s.task_id][s.department] = tuple(sorted(dept_team))
    loads = dict(assignment.loads)
    loads[s.leaving] -= 1
    loads[s.substitute] = loads.get(s.substitute, 0) + 1
    return replace(assignment, teams=teams, by_department=by_department, loads=loads)
