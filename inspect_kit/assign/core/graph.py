"""The instance in canonical form: a bipartite graph of officers and slots.

A slot is one (task, department) pair that needs `size` officers of that department; a plain task
has one slot, a joint task one per department. An edge joins an officer to a slot of its own
department on a task it is eligible for. Officers are sorted by ID, slots by (task ID, department),
edges by (slot, officer): this order is the one the LP, the sampler and the hashes all use, so the
result never depends on how the caller ordered its lists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable, Iterator

import numpy as np
import scipy.sparse as sp

from .errors import AssignmentInputInvalid, AssignmentProblem
from .model import Instance

CANONICAL_VERSION = "v1"
_FORBIDDEN_ID_CHARS = ("\t", "\n", "\r")  # the canonical text is tab/line separated


@dataclass(frozen=True, eq=False)
class SlotGraph:
    scale: int
    pair_cap_units: int
    officer_ids: tuple[str, ...]
    officer_departments: tuple[str, ...]
    officer_caps: tuple[int | None, ...]
    slot_tasks: tuple[str, ...]
    slot_departments: tuple[str, ...]
    slot_sizes: np.ndarray  # int64, officers each slot needs
    edge_slot: np.ndarray  # int64, non-decreasing
    edge_officer: np.ndarray  # int64, increasing within a slot
    forbidden_pairs: tuple[tuple[str, str], ...]  # each (a, b) with a < b, sorted

    @property
    def n_officers(self) -> int:
        return len(self.officer_ids)

    @property
    def n_slots(self) -> int:
        return len(self.slot_tasks)

    @property
    def n_edges(self) -> int:
        return len(self.edge_slot)

    @cached_property
    def slot_start(self) -> np.ndarray:
        """CSR offsets: the edges of slot s are edge_start[s]:edge_start[s+1]."""
        return np.searchsorted(self.edge_slot, np.arange(self.n_slots + 1)).astype(np.int64)

    @cached_property
    def officer_index(self) -> dict[str, int]:
        return {oid: i for i, oid in enumerate(self.officer_ids)}

    @cached_property
    def task_slots(self) -> dict[str, tuple[int, ...]]:
        """Task ID -> its slot indices (one per department it needs)."""
        slots: dict[str, list[int]] = {}
        for s, task in enumerate(self.slot_tasks):
            slots.setdefault(task, []).append(s)
        return {task: tuple(ss) for task, ss in slots.items()}

    @cached_property
    def eligible_count(self) -> np.ndarray:
        """Per slot, how many officers may fill it (cap 0 counts as unavailable)."""
        usable = np.array([cap != 0 for cap in self.officer_caps], dtype=bool)
        return np.bincount(self.edge_slot[usable[self.edge_officer]], minlength=self.n_slots)

    def canonical_lines(self, header: str, units: np.ndarray | None = None) -> Iterator[str]:
        """The canonical text in pieces, each ending in a newline: one line, or a slot's edge lines.

        With `units` the edge lines carry the grid probability ("x" lines), without they only
        state eligibility. Task labels are not included: they never change a result.
        """
        yield f"inspect-kit/assign {header} {CANONICAL_VERSION}\n"
        yield f"scale\t{self.scale}\n"
        yield f"pair_cap\t{self.pair_cap_units}\n"
        for oid, dept, cap in zip(self.officer_ids, self.officer_departments, self.officer_caps):
            yield f"officer\t{oid}\t{dept}\t{'-' if cap is None else cap}\n"
        for task, dept, size in zip(self.slot_tasks, self.slot_departments, self.slot_sizes.tolist()):
            yield f"slot\t{task}\t{dept}\t{size}\n"
        # Edge lines "kind<TAB>task<TAB>dept<TAB>officer[<TAB>units]", a slot at a time: the edges are
        # sorted by slot, so each slot's lines share one prefix and are joined in C (a million edges
        # in a fraction of the time of one formatted line each).
        kind = "eligible" if units is None else "x"
        names = list(map(self.officer_ids.__getitem__, self.edge_officer.tolist()))
        items = names if units is None else list(map("{}\t{}".format, names, units.tolist()))
        starts = self.slot_start.tolist()
        for s, (task, dept) in enumerate(zip(self.slot_tasks, self.slot_departments)):
            lo, hi = starts[s], starts[s + 1]
            if lo < hi:
                prefix = f"{kind}\t{task}\t{dept}\t"
                yield prefix + ("\n" + prefix).join(items[lo:hi]) + "\n"
        for a, b in self.forbidden_pairs:
            yield f"forbidden\t{a}\t{b}\n"


def sha256_of_lines(lines: Iterable[str]) -> str:
    digest = hashlib.sha256()
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= 65536:
            digest.update("".join(batch).encode("utf-8"))
            batch.clear()
    digest.update("".join(batch).encode("utf-8"))
    return digest.hexdigest()


def instance_sha256(graph: SlotGraph) -> str:
    """SHA-256 of the canonical instance text: officers, slots, eligibility, forbidden pairs."""
    return sha256_of_lines(graph.canonical_lines("instance"))


def _bad_id(value: object) -> bool:
    return not isinstance(value, str) or not value or any(c in value for c in _FORBIDDEN_ID_CHARS)


def _validate(instance: Instance) -> list[AssignmentProblem]:
    problems: list[AssignmentProblem] = []
    seen: set[str] = set()
    for officer in instance.officers:
        if _bad_id(officer.id) or _bad_id(officer.department):
            problems.append(
                AssignmentProblem(
                    f"officer {officer.id!r}: ID and department must be non-empty text without tabs or newlines"
                )
            )
        elif officer.id in seen:
            problems.append(AssignmentProblem(f"officer ID {officer.id!r} appears more than once"))
        seen.add(officer.id)
        if officer.cap is not None and (
            not isinstance(officer.cap, (int, np.integer)) or isinstance(officer.cap, bool) or officer.cap < 0
        ):
            problems.append(AssignmentProblem(f"officer {officer.id}: cap must be a whole number >= 0 or None"))
    seen.clear()
    for task in instance.tasks:
        if _bad_id(task.id):
            problems.append(AssignmentProblem(f"task {task.id!r}: ID must be non-empty text without tabs or newlines"))
        elif task.id in seen:
            problems.append(AssignmentProblem(f"task ID {task.id!r} appears more than once", task_id=task.id))
        seen.add(task.id)
        valid = True
        for dept, n in task.demand.items():
            if _bad_id(dept) or not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
                valid = False
                problems.append(
                    AssignmentProblem(
                        f"{task.describe()}: demand {dept!r}: {n!r} is not a department with a whole number >= 0",
                        task_id=task.id,
                    )
                )
        if valid and not any(n > 0 for n in task.demand.values()):
            problems.append(AssignmentProblem(f"{task.describe()}: needs no officers at all", task_id=task.id))
    if not 0 < instance.pair_cap <= 1 or instance.pair_cap_units < 1:
        problems.append(
            AssignmentProblem(f"pair cap {instance.pair_cap} must lie in (0, 1] and be at least 1/{instance.scale}")
        )
    shape = getattr(instance.eligible, "shape", None)
    if shape != (len(instance.officers), len(instance.tasks)):
        problems.append(
            AssignmentProblem(
                f"eligibility matrix has shape {shape}; expected (officers, tasks) = "
                f"({len(instance.officers)}, {len(instance.tasks)})"
            )
        )
    return problems


def _canonical_pairs(pairs: Iterable[tuple[str, str]], known: set[str]) -> tuple[tuple[str, str], ...]:
    # Pairs naming officers outside this instance (e.g. someone who has left) cannot matter.
    out = set()
    for a, b in pairs:
        if a != b and a in known and b in known:
            out.add((a, b) if a < b else (b, a))
    return tuple(sorted(out))


def build_slot_graph(instance: Instance) -> SlotGraph:
    """Validate the instance and put it into canonical form; raises AssignmentInputInvalid."""
    problems = _validate(instance)
    if problems:
        raise AssignmentInputInvalid("assignment input rejected", problems)

    officer_order = sorted(range(len(instance.officers)), key=lambda i: instance.officers[i].id)
    task_order = sorted(range(len(instance.tasks)), key=lambda j: instance.tasks[j].id)
    officers = [instance.officers[i] for i in officer_order]
    tasks = [instance.tasks[j] for j in task_order]
    eligible: Any = instance.eligible  # a numpy array or any scipy sparse matrix (see Instance)
    sparse = sp.issparse(eligible)
    if sparse:
        eligible = sp.csr_matrix(eligible)[officer_order][:, task_order].tocsc().astype(bool)
    else:
        eligible = np.asarray(eligible).astype(bool)[np.ix_(officer_order, task_order)]

    slot_tasks, slot_depts, slot_sizes, slot_task_index = [], [], [], []
    for j, task in enumerate(tasks):
        for dept in sorted(d for d, n in task.demand.items() if n > 0):
            slot_tasks.append(task.id)
            slot_depts.append(dept)
            slot_sizes.append(int(task.demand[dept]))
            slot_task_index.append(j)
    slot_task_index_arr = np.asarray(slot_task_index, dtype=np.int64)
    slot_dept_arr = np.asarray(slot_depts, dtype=object)
    officer_dept_arr = np.asarray([o.department for o in officers], dtype=object)

    # One block per department: its officers against the slots that need it.
    edge_slots, edge_officers = [], []
    for dept in sorted(set(slot_depts)):
        rows = np.flatnonzero(officer_dept_arr == dept)
        slots = np.flatnonzero(slot_dept_arr == dept)
        if len(rows) == 0:
            continue
        block = eligible[rows][:, slot_task_index_arr[slots]]
        r, c = block.nonzero() if sparse else np.nonzero(block)
        edge_officers.append(rows[r])
        edge_slots.append(slots[c])
    edge_slot = np.concatenate(edge_slots) if edge_slots else np.zeros(0, np.int64)
    edge_officer = np.concatenate(edge_officers) if edge_officers else np.zeros(0, np.int64)
    order = np.lexsort((edge_officer, edge_slot))

    known = {o.id for o in officers}
    return SlotGraph(
        scale=int(instance.scale),
        pair_cap_units=instance.pair_cap_units,
        officer_ids=tuple(o.id for o in officers),
        officer_departments=tuple(o.department for o in officers),
        officer_caps=tuple(None if o.cap is None else int(o.cap) for o in officers),
        slot_tasks=tuple(slot_tasks),
        slot_departments=tuple(slot_depts),
        slot_sizes=np.asarray(slot_sizes, dtype=np.int64),
        edge_slot=edge_slot[order].astype(np.int64),
        edge_officer=edge_officer[order].astype(np.int64),
        forbidden_pairs=_canonical_pairs(instance.forbidden_pairs, known),
    )
