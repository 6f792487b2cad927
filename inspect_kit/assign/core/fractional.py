"""The stored half of an assignment: grid probabilities per (officer, slot), with their hash.

A Fractional holds everything sampling needs (officers, departments, caps, slots, every eligible
edge with its probability in units of 1/scale, forbidden pairs), so teams are re-derived from it and
a seed alone. Its canonical text is the storage format and its SHA-256 is the published hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Iterator, Mapping

import numpy as np

from .errors import AssignmentInputInvalid, AssignmentProblem
from .feasibility import check_feasibility
from .graph import CANONICAL_VERSION, SlotGraph, build_slot_graph, instance_sha256, sha256_of_lines
from .grid import grid_problems, round_to_grid
from .lp import LP_METHOD, solve_marginals
from .model import Instance

_HEADER = "fractional"


@dataclass(frozen=True, eq=False)
class Fractional:
    graph: SlotGraph
    units: np.ndarray  # int64 per edge: P(officer on slot) = units / graph.scale
    instance_sha256: str

    def canonical_lines(self) -> Iterator[str]:
        lines = self.graph.canonical_lines(_HEADER, self.units)
        yield next(lines)
        yield f"instance\t{self.instance_sha256}\n"
        yield from lines

    def canonical_bytes(self) -> bytes:
        return "".join(self.canonical_lines()).encode("utf-8")

    @cached_property
    def sha256(self) -> str:
        return sha256_of_lines(self.canonical_lines())

    @property
    def scale(self) -> int:
        return self.graph.scale

    def probability(self, task_id: str, officer_id: str) -> Fraction:
        """P(officer is on the task's team); 0 if not eligible."""
        g = self.graph
        o = g.officer_index.get(officer_id)
        for s in g.task_slots.get(task_id, ()):
            lo, hi = g.slot_start[s], g.slot_start[s + 1]
            i = lo + int(np.searchsorted(g.edge_officer[lo:hi], o)) if o is not None else hi
            if i < hi and g.edge_officer[i] == o:
                return Fraction(int(self.units[i]), g.scale)
        return Fraction(0)

    def expected_loads(self) -> dict[str, Fraction]:
        """Officer ID -> expected number of tasks; realised loads are its floor or ceiling."""
        g = self.graph
        load = np.zeros(g.n_officers, dtype=np.int64)
        np.add.at(load, g.edge_officer, self.units)
        return {oid: Fraction(int(u), g.scale) for oid, u in zip(g.officer_ids, load.tolist())}

    @classmethod
    def from_canonical(cls, data: bytes) -> Fractional:
        """Parse stored canonical text back; refuses anything that is not a valid solution."""
        return _parse(data)


def solve_fractional(instance: Instance, method: str = LP_METHOD) -> Fractional:
    """Check feasibility, solve the LP, put it on the grid. Independent of any seed.

    Raises AssignmentInputInvalid for malformed input and AssignmentInfeasible (with every
    per-task and per-department shortfall) when no assignment can satisfy the rules.
    """
    graph = build_slot_graph(instance)
    check_feasibility(graph, {t.id: t.label for t in instance.tasks})
    units = round_to_grid(graph, solve_marginals(graph, method))
    return Fractional(graph=graph, units=units, instance_sha256=instance_sha256(graph))


def _reject(reason: str) -> AssignmentInputInvalid:
    return AssignmentInputInvalid("stored fractional solution rejected", [AssignmentProblem(reason)])


def _parse(data: bytes) -> Fractional:
    lines = data.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    expected_header = f"inspect-kit/assign {_HEADER} {CANONICAL_VERSION}"
    if len(lines) < 4 or lines[0] != expected_header:
        raise _reject(f"first line must be {expected_header!r}")
    fields = [line.split("\t") for line in lines[1:]]
    head: Mapping[str, str] = {}
    try:
        head = {f[0]: f[1] for f in fields[:3]}
        inst_sha, scale, pair_cap = head["instance"], int(head["scale"]), int(head["pair_cap"])
    except (KeyError, IndexError, ValueError):
        raise _reject("lines 2-4 must give instance, scale and pair_cap") from None

    officers: list[list[str]] = []
    slots: list[list[str]] = []
    edges: list[list[str]] = []
    forbidden: list[list[str]] = []
    sections: dict[str, tuple[list[list[str]], int]] = {
        "officer": (officers, 4),
        "slot": (slots, 4),
        "x": (edges, 5),
        "forbidden": (forbidden, 3),
    }
    order = list(sections)
    last_section = 0
    for n, f in enumerate(fields[3:], start=5):
        kind = f[0]
        if kind not in sections or len(f) != sections[kind][1]:
            raise _reject(f"line {n}: not a valid {kind!r} line")
        if order.index(kind) < last_section:
            raise _reject(f"line {n}: {kind!r} lines must come before {order[last_section]!r} lines")
        last_section = order.index(kind)
        sections[kind][0].append(f[1:])

    try:
        officer_index = {oid: i for i, (oid, _, _) in enumerate(officers)}
        caps = tuple(None if cap == "-" else int(cap) for _, _, cap in officers)
        slot_index = {(t, d): i for i, (t, d, _) in enumerate(slots)}
        edge_slot = np.array([slot_index[(t, d)] for t, d, _, _ in edges], dtype=np.int64)
        edge_officer = np.array([officer_index[o] for _, _, o, _ in edges], dtype=np.int64)
        units = np.array([int(u) for _, _, _, u in edges], dtype=np.int64)
        sizes = np.array([int(k) for _, _, k in slots], dtype=np.int64)
    except (KeyError, ValueError) as exc:
        raise _reject(f"unknown or malformed reference: {exc}") from None

    graph = SlotGraph(
        scale=scale,
        pair_cap_units=pair_cap,
        officer_ids=tuple(o[0] for o in officers),
        officer_departments=tuple(o[1] for o in officers),
        officer_caps=caps,
        slot_tasks=tuple(s[0] for s in slots),
        slot_departments=tuple(s[1] for s in slots),
        slot_sizes=sizes,
        edge_slot=edge_slot,
        edge_officer=edge_officer,
        forbidden_pairs=tuple((a, b) for a, b in forbidden),
    )
    problems = _order_problems(graph) + grid_problems(graph, units)
    if problems:
        raise _reject("; ".join(problems[:5]))
    return Fractional(graph=graph, units=units, instance_sha256=inst_sha)


def _order_problems(graph: SlotGraph) -> list[str]:
    """The canonical order and department consistency that the hash relies on."""
    problems = []
    if list(graph.officer_ids) != sorted(set(graph.officer_ids)):
        problems.append("officers must be unique and sorted by ID")
    slot_keys = list(zip(graph.slot_tasks, graph.slot_departments))
    if slot_keys != sorted(set(slot_keys)):
        problems.append("slots must be unique and sorted by (task, department)")
    keys = graph.edge_slot * max(graph.n_officers, 1) + graph.edge_officer
    if len(keys) and np.any(np.diff(keys) <= 0):
        problems.append("x lines must be unique and sorted by (task, department, officer)")
    depts = np.asarray(graph.slot_departments, dtype=object)[graph.edge_slot]
    if np.any(depts != np.asarray(graph.officer_departments, dtype=object)[graph.edge_officer]):
        problems.append("an x line joins an officer to another department's slot")
    if list(graph.forbidden_pairs) != sorted(set(graph.forbidden_pairs)) or any(
        a >= b or a not in graph.officer_index or b not in graph.officer_index for a, b in graph.forbidden_pairs
    ):
        problems.append("forbidden pairs must name known officers as sorted (a < b) unique pairs")
    return problems
