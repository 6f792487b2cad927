"""Put the LP's float probabilities on the integer grid (units of 1/scale), exactly.

Each edge becomes floor or ceil of scale * x; which edges round up is a max-flow problem: slot s must
receive exactly (size_s * scale - sum of floors) extra units, one per edge at most, and officer o at
most min(ceil of its fractional remainder, room left under its cap). The float x is a fractional
flow meeting all of it, so by integrality of flows an integral one exists and max-flow finds it.
Hence on the grid: slot sums are exact, no edge exceeds the pair cap, no load exceeds its cap, and
only eligible edges carry probability. The grid is what gets stored and hashed; floats never are.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_flow

from .graph import SlotGraph

SNAP = 1e-3  # grid units: a value this close to an integer is that integer (LP round-off)


def grid_problems(graph: SlotGraph, units: np.ndarray) -> list[str]:
    """Every way `units` breaks the rules of a fractional solution (empty when it is valid)."""
    problems = []
    if len(units) != graph.n_edges:
        return [f"{len(units)} values for {graph.n_edges} edges"]
    if units.min(initial=0) < 0 or units.max(initial=0) > graph.pair_cap_units:
        problems.append(f"values must lie in [0, {graph.pair_cap_units}]")
    slot_sum = np.bincount(graph.edge_slot, weights=units, minlength=graph.n_slots).astype(np.int64)
    bad = np.flatnonzero(slot_sum != graph.slot_sizes * graph.scale)
    for s in bad[:20].tolist():
        problems.append(
            f"slot {graph.slot_tasks[s]}/{graph.slot_departments[s]} sums to {slot_sum[s]}, "
            f"not {graph.slot_sizes[s] * graph.scale}"
        )
    load = np.bincount(graph.edge_officer, weights=units, minlength=graph.n_officers).astype(np.int64)
    for o, cap in enumerate(graph.officer_caps):
        if cap is not None and load[o] > cap * graph.scale:
            problems.append(f"officer {graph.officer_ids[o]} has expected load {load[o]} > {cap * graph.scale}")
    return problems


def round_to_grid(graph: SlotGraph, x: np.ndarray) -> np.ndarray:
    """Integer units per edge with the slot sums, pair cap and load caps kept exactly."""
    scale = graph.scale
    scaled = np.clip(x, 0.0, graph.pair_cap_units / scale) * scale
    nearest = np.rint(scaled)
    snapped = np.abs(scaled - nearest) < SNAP
    base: np.ndarray = np.where(snapped, nearest, np.floor(scaled)).astype(np.int64)
    frac = np.where(snapped, 0.0, scaled - base)

    need = graph.slot_sizes * scale - np.bincount(graph.edge_slot, weights=base, minlength=graph.n_slots).astype(
        np.int64
    )
    open_edges = np.flatnonzero(frac > 0)
    open_per_slot = np.bincount(graph.edge_slot[open_edges], minlength=graph.n_slots)
    if np.any(need < 0) or np.any(need > open_per_slot):
        raise RuntimeError("LP solution is too far from satisfying the slot sums to be put on the grid")
    if not need.any():
        return base

    base_load = np.bincount(graph.edge_officer, weights=base, minlength=graph.n_officers).astype(np.int64)
    frac_load = np.bincount(graph.edge_officer, weights=frac, minlength=graph.n_officers)
    officer_take = np.ceil(frac_load - 1e-6).astype(np.int64)
    for o, cap in enumerate(graph.officer_caps):
        if cap is not None:
            officer_take[o] = max(0, min(officer_take[o], cap * scale - base_load[o]))

    # Nodes: 0 source, 1..S slots, S+1..S+O officers, S+O+1 sink.
    n_s, n_o = graph.n_slots, graph.n_officers
    sink = n_s + n_o + 1
    tails = np.concatenate([np.zeros(n_s, np.int64), 1 + graph.edge_slot[open_edges], n_s + 1 + np.arange(n_o)])
    heads = np.concatenate([1 + np.arange(n_s), n_s + 1 + graph.edge_officer[open_edges], np.full(n_o, sink)])
    capacity = np.concatenate([need, np.ones(len(open_edges), np.int64), officer_take]).astype(np.int32)
    network = sp.csr_matrix((capacity, (tails, heads)), shape=(sink + 1, sink + 1))
    flow = maximum_flow(network, 0, sink, method="dinic")  # type: ignore[arg-type]  # stubs list csr_array only; csr_matrix is accepted
    if flow.flow_value != int(need.sum()):
        raise RuntimeError(
            f"grid rounding found {flow.flow_value} of {int(need.sum())} units; "
            "the LP solution violates its constraints beyond tolerance"
        )
    edge_flow = np.asarray(flow.flow[1 + graph.edge_slot[open_edges], n_s + 1 + graph.edge_officer[open_edges]]).ravel()
    units: np.ndarray = base.copy()
    units[open_edges] += edge_flow.astype(np.int64)
    problems = grid_problems(graph, units)
    if problems:
        raise RuntimeError("grid rounding broke a constraint: " + "; ".join(problems[:5]))
    return units
