"""Necessary conditions checked before any solving, so the user hears every shortfall at once.

A slot of size k under pair cap Q needs at least ceil(k / Q) eligible officers, because each one
can carry at most Q of the k expected places. A department needs enough capacity in total: officer o
can take at most min(cap_o, Q x (number of slots o is eligible for)) expected places.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .errors import AssignmentInfeasible, AssignmentProblem
from .graph import SlotGraph


def _places(units: int, scale: int) -> str:
    """Grid units as officer-places, without a misleading '.0'."""
    value = units / scale
    return f"{value:g}" if value != int(value) else str(int(value))


def officer_capacity_units(graph: SlotGraph) -> np.ndarray:
    """Most expected load (in grid units) each officer can take: its cap, or Q per eligible slot."""
    degree = np.bincount(graph.edge_officer, minlength=graph.n_officers).astype(np.int64)
    reach = degree * graph.pair_cap_units
    caps = np.array(
        [graph.scale * c if c is not None else np.iinfo(np.int64).max for c in graph.officer_caps], dtype=np.int64
    )
    return np.minimum(reach, caps)


def department_shortfalls(graph: SlotGraph) -> list[tuple[str, int, int]]:
    """(department, demand, capacity) in grid units, for departments whose capacity is short."""
    capacity = officer_capacity_units(graph)
    short = []
    depts = np.asarray(graph.slot_departments, dtype=object)
    officer_depts = np.asarray(graph.officer_departments, dtype=object)
    for dept in sorted(set(graph.slot_departments)):
        demand = int(graph.slot_sizes[depts == dept].sum()) * graph.scale
        supply = int(capacity[officer_depts == dept].sum())
        if supply < demand:
            short.append((dept, demand, supply))
    return short


def check_feasibility(graph: SlotGraph, labels: Mapping[str, str]) -> None:
    """Raise AssignmentInfeasible listing every slot and department that cannot be served."""
    problems: list[AssignmentProblem] = []
    scale, cap = graph.scale, graph.pair_cap_units
    q = _places(cap, scale)

    staffed = set(graph.officer_departments)
    unstaffed = sorted(set(graph.slot_departments) - staffed)
    for dept in unstaffed:
        n_tasks = sum(1 for d in graph.slot_departments if d == dept)
        problems.append(
            AssignmentProblem(
                f"department {dept} has no officers, but {n_tasks} task(s) need its officers", department=dept
            )
        )

    eligible = graph.eligible_count
    for s in range(graph.n_slots):
        dept = graph.slot_departments[s]
        if dept in unstaffed:
            continue
        size = int(graph.slot_sizes[s])
        needed = -(-size * scale // cap)  # ceil(k / Q) on the grid
        if eligible[s] < needed:
            task = graph.slot_tasks[s]
            where = f"task {task} ({labels[task]})" if labels.get(task) else f"task {task}"
            problems.append(
                AssignmentProblem(
                    f"{where} has {eligible[s]} eligible officer(s) of department {dept}; team size {size} "
                    f"with pair cap {q} needs at least {needed}",
                    task_id=task,
                    department=dept,
                )
            )

    for dept, demand, supply in department_shortfalls(graph):
        if dept in unstaffed:
            continue
        problems.append(
            AssignmentProblem(
                f"department {dept}: tasks need {_places(demand, scale)} officer-places but its officers can take "
                f"at most {_places(supply, scale)} (load caps, and pair cap {q} per eligible task)",
                department=dept,
            )
        )

    total_demand = int(graph.slot_sizes.sum()) * scale
    total_supply = int(officer_capacity_units(graph).sum())
    if total_supply < total_demand:
        problems.append(
            AssignmentProblem(
                f"in total, tasks need {_places(total_demand, scale)} officer-places but officers can take at most "
                f"{_places(total_supply, scale)}"
            )
        )

    if problems:
        raise AssignmentInfeasible("teams cannot be assigned", problems)
