"""Who may inspect what: registry rows and 回避 rules → the assignment core's input.

Pure functions on plain rows (no database, no clock): `inspect_kit.assign.service` reads the rows
and passes them here, `verify` re-reads the stored inputs. The rules, in the order they are applied:

The rules themselves (qualified, on duty, certificate valid, 回避) are written once, in
inspect_kit.avoidance, which the scoring stage calls too; here they are applied to the rows.

Per officer (kind = 'officer', of a department the matter's team needs):
  - qualified, active, certificate valid on every day of the inspection window (the period's
    start..end, or one given day): avoidance.officer_reason;
  - cap: matter.max_tasks_per_inspector, and inspector.max_tasks_per_period minus the tasks the
    officer already has in the same period under other matters' current assignments; the smaller
    one (None = no cap). A cap of 0 makes the officer unavailable.
Per (officer, task):
  - no declared conflict (conflicts table) with the task's entity;
  - same_township: the officer's home township is not the entity's township;
  - previous_periods = N: the officer was not on the team of this entity in any of the previous N
    periods (periods of the same kind, as the scoring stage reads it: 2025Q4 for 2026Q1, 2025 for
    2026; any matter; the current assignment of each task, substitutes applied).
Pairs: repeat_pair forbids pairing two officers who were on one team in the previous period (same
kind, any matter). The core separates such pairs by swaps after sampling (see its repair module).

Outside experts (kind = 'expert') never count towards a team. An expert is available when
qualified and active with a valid certificate (if one is recorded), and eligible for a task unless
a declared conflict or the township rule excludes him or her (department is not restricted).

The canonical inputs document (`inputs_document`) is what gets stored and hashed: officers with
departments and caps, tasks with demands and eligible officer IDs (执法证号), pair cap, forbidden
pairs, experts. `instance_from_inputs` turns it back into the core's Instance.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from inspect_kit.avoidance import AvoidanceRules, Reason, english, officer_reason, task_reasons

if TYPE_CHECKING:
    from inspect_kit.assign.core.model import Instance

INPUTS_FORMAT = "inspect-kit/assign-inputs"
INPUTS_VERSION = 1

# Exclusion reasons as messages show them (the wording lives in inspect_kit.avoidance.WORDING)
NOT_QUALIFIED = english(Reason.NOT_QUALIFIED)
NOT_ACTIVE = english(Reason.NOT_ACTIVE)
CERT_INVALID = english(Reason.CERT_INVALID)
AT_CAP = english(Reason.AT_CAP)
DECLARED = english(Reason.DECLARED)
TOWNSHIP = english(Reason.TOWNSHIP)
PREVIOUS = english(Reason.PREVIOUS)


@dataclass(frozen=True)
class InspectorRow:
    id: int  # database id
    cert_no: str  # 执法证号: the ID the core, the inputs and the hashes use
    name: str
    department: str
    kind: str  # officer | expert
    status: str  # active | on_leave | retired
    home_township: str | None
    cert_valid_from: dt.date | None
    cert_valid_to: dt.date | None
    qualifications: frozenset[str]
    max_tasks_per_period: int | None = None


@dataclass(frozen=True)
class TaskRow:
    id: int  # database id
    task_no: str
    entity_id: int
    identifier: str
    entity_name: str
    township: str | None

    @property
    def label(self) -> str:
        return f"entity {self.entity_name}, township {self.township or '-'}"


@dataclass(frozen=True)
class Rules:
    """What the matter and the settings ask for."""

    qualifications: frozenset[str]  # matter.qualification + matter.code
    demand: Mapping[str, int]  # department → officers per task
    window: tuple[dt.date, dt.date]  # certificates must be valid on every day of it
    pair_cap: float = 0.5
    same_township: bool = False
    previous_periods: int = 0
    repeat_pair: bool = False
    max_tasks_per_inspector: int | None = None
    experts_per_task: int = 0

    @property
    def avoidance(self) -> AvoidanceRules:
        return AvoidanceRules(self.same_township, self.previous_periods, self.repeat_pair)

    def rules_document(self) -> dict[str, Any]:
        return {
            "same_township": self.same_township,
            "previous_periods": self.previous_periods,
            "repeat_pair": self.repeat_pair,
            "max_tasks_per_inspector": self.max_tasks_per_inspector,
            "qualifications": sorted(self.qualifications),
            "window": [self.window[0].isoformat(), self.window[1].isoformat()],
        }


@dataclass(frozen=True)
class History:
    """What earlier periods and other matters contribute (database ids)."""

    conflicts: frozenset[tuple[int, int]] = frozenset()  # (inspector id, entity id), declared
    previous_teams: Mapping[int, frozenset[int]] = field(default_factory=dict)  # entity id → inspector ids
    last_period_teams: Sequence[frozenset[int]] = ()  # each: the officers of one team last period
    other_loads: Mapping[int, int] = field(default_factory=dict)  # inspector id → tasks this period elsewhere


@dataclass(frozen=True)
class Eligibility:
    officers: tuple[InspectorRow, ...]  # the usable officers, sorted by cert_no
    caps: dict[str, int | None]  # cert_no → cap for this assignment
    tasks: tuple[TaskRow, ...]  # sorted by task_no
    eligible: dict[str, tuple[str, ...]]  # task_no → eligible cert_nos (sorted)
    forbidden_pairs: tuple[tuple[str, str], ...]
    experts: dict[str, tuple[str, ...]]  # task_no → eligible expert cert_nos (sorted)
    officer_excluded: dict[str, tuple[str, str]]  # cert_no → (department, why the officer is out altogether)
    task_excluded: dict[str, dict[str, str]]  # task_no → cert_no → why not for this task
    departments: dict[str, int]  # department → officers of it in the registry (kind officer)


def _officer_reason(row: InspectorRow, rules: Rules) -> Reason | None:
    return officer_reason(
        held=row.qualifications,
        needed=rules.qualifications,
        status=row.status,
        valid_from=row.cert_valid_from,
        valid_to=row.cert_valid_to,
        window=rules.window,
    )


def _officer_cap(row: InspectorRow, rules: Rules, history: History) -> int | None:
    caps = []
    if rules.max_tasks_per_inspector is not None:
        caps.append(rules.max_tasks_per_inspector)
    if row.max_tasks_per_period is not None:
        caps.append(max(0, row.max_tasks_per_period - history.other_loads.get(row.id, 0)))
    return min(caps) if caps else None


def build_eligibility(
    inspectors: Iterable[InspectorRow], tasks: Iterable[TaskRow], rules: Rules, history: History = History()
) -> Eligibility:
    """Apply every rule; returns who may inspect what, and why the others may not."""
    officers: list[InspectorRow] = []
    experts: list[InspectorRow] = []
    officer_excluded: dict[str, tuple[str, str]] = {}
    caps: dict[str, int | None] = {}
    departments: Counter[str] = Counter()
    for row in sorted(inspectors, key=lambda r: r.cert_no):
        if row.kind == "expert":
            if _officer_reason(row, rules) is None:
                experts.append(row)
            continue
        if row.kind != "officer" or row.department not in rules.demand:
            continue
        departments[row.department] += 1
        why = _officer_reason(row, rules)
        if why is not None:
            officer_excluded[row.cert_no] = (row.department, english(why))
        else:
            cap = _officer_cap(row, rules, history)
            if cap == 0:
                officer_excluded[row.cert_no] = (row.department, AT_CAP)
            else:
                officers.append(row)
                caps[row.cert_no] = cap

    task_list = sorted(tasks, key=lambda t: t.task_no)
    eligible: dict[str, tuple[str, ...]] = {}
    expert_eligible: dict[str, tuple[str, ...]] = {}
    task_excluded: dict[str, dict[str, str]] = {}
    for t in task_list:
        before = history.previous_teams.get(t.entity_id, frozenset())
        ok, out = [], {}
        for o in officers:
            reason = _task_reason(o, t, rules, history, before)
            if reason:
                out[o.cert_no] = reason
            else:
                ok.append(o.cert_no)
        eligible[t.task_no] = tuple(ok)
        task_excluded[t.task_no] = out
        expert_eligible[t.task_no] = tuple(
            e.cert_no for e in experts if not _task_reason(e, t, rules, history, frozenset())
        )

    forbidden: set[tuple[str, str]] = set()
    if rules.repeat_pair:
        cert = {o.id: o.cert_no for o in officers}
        for team in history.last_period_teams:
            ids = sorted(cert[i] for i in team if i in cert)
            forbidden.update((a, b) for k, a in enumerate(ids) for b in ids[k + 1 :])
    return Eligibility(
        officers=tuple(officers),
        caps=caps,
        tasks=tuple(task_list),
        eligible=eligible,
        forbidden_pairs=tuple(sorted(forbidden)),
        experts=expert_eligible,
        officer_excluded=officer_excluded,
        task_excluded=task_excluded,
        departments=dict(departments),
    )


def _task_reason(o: InspectorRow, t: TaskRow, rules: Rules, history: History, before: frozenset[int]) -> str | None:
    """The first 回避 rule that keeps the officer from the task (``before``: the officers on the
    entity's teams in the previous ``rules.previous_periods`` periods)."""
    found = task_reasons(
        rules.avoidance,
        declared=(o.id, t.entity_id) in history.conflicts,
        home_township=o.home_township,
        township=t.township,
        previous_periods_on=(1,) if o.id in before else (),
    )
    return english(found[0]) if found else None


def why_text(el: Eligibility, task_no: str, department: str | None = None) -> str:
    """E.g. "STHJ: 12 officer(s) in the registry; 4 home township is the entity's township; 1 not on duty; 7 eligible"."""
    by_cert = {o.cert_no: o for o in el.officers}
    parts = []
    depts = [department] if department else sorted(el.departments)
    for dept in depts:
        counts: Counter[str] = Counter()
        total = el.departments.get(dept, 0)
        for d, reason in el.officer_excluded.values():
            if d == dept:
                counts[reason] += 1
        for cert, reason in el.task_excluded.get(task_no, {}).items():
            if by_cert[cert].department == dept:
                counts[reason] += 1
        n_ok = sum(1 for c in el.eligible.get(task_no, ()) if by_cert[c].department == dept)
        detail = "; ".join(f"{n} {r}" for r, n in sorted(counts.items(), key=lambda x: (-x[1], x[0])))
        parts.append(
            f"{dept}: {total} officer(s) in the registry" + (f"; {detail}" if detail else "") + f"; {n_ok} eligible"
        )
    return " | ".join(parts)


# -- the stored, hashed inputs --------------------------------------------------------------------


def inputs_document(el: Eligibility, rules: Rules, *, matter: str, period: str, draw_id: int) -> dict[str, Any]:
    """The canonical inputs: everything the teams are a function of, besides the seed."""
    return {
        "format": INPUTS_FORMAT,
        "version": INPUTS_VERSION,
        "matter": matter,
        "period": period,
        "draw_id": draw_id,
        "pair_cap": rules.pair_cap,
        "rules": rules.rules_document(),
        "officers": [{"id": o.cert_no, "department": o.department, "cap": el.caps[o.cert_no]} for o in el.officers],
        "tasks": [
            {"id": t.task_no, "demand": dict(sorted(rules.demand.items())), "eligible": list(el.eligible[t.task_no])}
            for t in el.tasks
        ],
        "forbidden_pairs": [list(p) for p in el.forbidden_pairs],
        "experts": {
            "per_task": rules.experts_per_task,
            "eligible": {t.task_no: list(el.experts[t.task_no]) for t in el.tasks} if rules.experts_per_task else {},
        },
    }


def canonical_json(doc: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes whose SHA-256 is the published inputs hash."""
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def inputs_sha256(doc: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(doc)).hexdigest()


def instance_from_inputs(doc: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> Instance:
    """The core's Instance described by a stored inputs document (sparse eligibility)."""
    import numpy as np
    import scipy.sparse as sp

    from inspect_kit.assign.core.model import Instance, Officer, TaskDemand

    officers = [Officer(o["id"], o["department"], o["cap"]) for o in doc["officers"]]
    index = {o.id: i for i, o in enumerate(officers)}
    tasks: list[TaskDemand] = []
    rows: list[int] = []
    cols: list[int] = []
    for j, t in enumerate(doc["tasks"]):
        tasks.append(TaskDemand(t["id"], {d: int(n) for d, n in t["demand"].items()}, (labels or {}).get(t["id"], "")))
        for cert in t["eligible"]:
            rows.append(index[cert])
            cols.append(j)
    eligible = sp.csr_matrix(
        (np.ones(len(rows), dtype=bool), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(len(officers), len(tasks)),
    )
    return Instance(
        officers=officers,
        tasks=tasks,
        eligible=eligible,
        pair_cap=float(doc["pair_cap"]),
        forbidden_pairs=[tuple(p) for p in doc["forbidden_pairs"]],
    )
