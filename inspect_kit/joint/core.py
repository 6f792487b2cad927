"""Merging the tasks of one period into joint visits: pure.

After the draws of a period, the tasks (of the period's draws and, for a quarter or a month, of
the year's draws not merged yet) of DIFFERENT matters that fall on the same entity become
one visit (tasks of one matter are never merged with each other). The visit has:

* a lead unit (组长单位): the first unit of the configured `lead_order` that takes part; when none
  does, the unit with the most tasks in the visit, ties broken by unit code;
* one combined team: the union of each task's own team, each department's officers drawn from its
  own officers by the existing assignment (nothing is re-drawn here);
* one notification letter listing every matter; each matter's result is still recorded on its
  own task.

A task already in a visit is never merged again; visits are numbered JV-<period>-001, ... in
identifier order, continuing after the period's earlier visits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from inspect_kit.paper.papers import TaskPaper


@dataclass(frozen=True)
class VisitTask:
    task_id: int
    task_no: str
    entity_id: int
    identifier: str
    matter: str
    unit: str


@dataclass(frozen=True)
class PlannedVisit:
    visit_no: str
    identifier: str
    entity_id: int
    lead_unit: str
    units: tuple[str, ...]
    rule: str
    tasks: tuple[VisitTask, ...]


def lead_unit(units: Counter[str], lead_order: Sequence[str]) -> tuple[str, str]:
    """(lead unit, the rule that chose it, in words)."""
    for u in lead_order:
        if u in units:
            return u, f"lead_order: {u} is the first listed unit taking part"
    top = max(units.values())
    chosen = min(u for u, n in units.items() if n == top)
    return chosen, f"most tasks in the visit ({top}), ties by unit code"


def plan_visits(
    period: str, tasks: Iterable[VisitTask], lead_order: Sequence[str], merged: set[int], first_number: int = 1
) -> list[PlannedVisit]:
    by_entity: dict[str, list[VisitTask]] = defaultdict(list)
    for t in tasks:
        if t.task_id not in merged:
            by_entity[t.identifier].append(t)
    out: list[PlannedVisit] = []
    number = first_number
    for ident in sorted(by_entity):
        group = sorted(by_entity[ident], key=lambda t: t.task_no)
        if len({t.matter for t in group}) < 2:
            continue
        units = Counter(t.unit for t in group)
        lead, rule = lead_unit(units, lead_order)
        out.append(
            PlannedVisit(
                f"JV-{period}-{number:03d}", ident, group[0].entity_id, lead, tuple(sorted(units)), rule, tuple(group)
            )
        )
        number += 1
    return out


def joint_rate(task_ids: Iterable[int], merged: set[int]) -> tuple[int, int]:
    """(tasks in a joint visit, tasks) — the 联合抽查率 of a set of tasks."""
    ids = list(task_ids)
    return sum(1 for i in ids if i in merged), len(ids)


def joint_paper(visit_no: str, lead_issuer: str, papers: Sequence[TaskPaper]) -> TaskPaper:
    """One notification letter (检查通知书) for a joint visit from its tasks' own papers: every
    matter named, the combined team, every checklist item and material told once; the lead task's
    verification code (each task keeps its own for its result)."""
    first = papers[0]
    seen: set[tuple[str, str]] = set()
    officers = []
    for p in papers:
        for o in p.officers:
            if (o.name, o.cert_no) not in seen:
                seen.add((o.name, o.cert_no))
                officers.append(o)
    authorities = list(dict.fromkeys(p.issuer for p in papers))
    return replace(
        first,
        task_no=visit_no + "（" + "、".join(p.task_no for p in papers) + "）",
        authority="、".join(authorities) + "（联合检查，组长单位" + lead_issuer + "）",
        issuer=lead_issuer,
        matter_code=visit_no,
        matter_name="、".join(p.matter_name for p in papers),
        legal_basis="；".join(dict.fromkeys(p.legal_basis for p in papers)),
        officers=tuple(officers),
        experts=tuple(e for p in papers for e in p.experts),
        checklist=tuple(i for p in papers for i in p.checklist),
        materials=tuple(dict.fromkeys(m for p in papers for m in p.materials)),
    )
