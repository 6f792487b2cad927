"""The fractional assignment: P(officer on slot) for every edge, from a linear programme.

Constraints (Jecmen et al. 2020, "Mitigating manipulation in peer review via randomized reviewer
assignments"): every slot's probabilities sum to its size, every edge lies in [0, Q], every
officer's expected load stays within its cap. The objective spreads probability: each edge pays a
convex piecewise-linear cost f_s(x) around its slot's uniform share u = size / (eligible officers),
with breakpoints u/2, u, (u+Q)/2 and slopes 0, 2, 4, 6. Moving mass off u always costs more than it
saves, so without binding caps the uniform share is the unique optimum; binding caps move
probability where the extra cost is smallest, i.e. thinly over many officers.

Solving it small. Officers serve only their own department, so there is one LP per department.
Within it, officers whose caps do not bind are interchangeable inside a slot (same f_s, zero cap
multiplier), so one "pooled" variable per slot carries them all, split equally afterwards; only
edges of officers in the set B of possibly-binding officers get variables of their own. The KKT
conditions of the pooled optimum are those of the full LP as long as every pooled officer ends up
within its cap, so B starts with the officers whose uniform load breaks their cap, and any pooled
officer over its cap after a solve joins B and the LP is solved again. The pooling only ever adds
"equal within the pool" to a relaxation of the pooled officers' caps, so it is infeasible only if the
full LP is. At 10,000 tasks x 1,000 officers this cuts the LP from millions of variables to the
part-time officers' edges plus one per slot.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from .errors import AssignmentInfeasible, AssignmentProblem
from .feasibility import officer_capacity_units
from .graph import SlotGraph

PIECE_SLOPES = np.array([0.0, 2.0, 4.0, 6.0])
CAP_TOLERANCE = 1e-9  # float slack when checking a pooled officer's load against its cap
LP_METHOD = "highs"


def _piece_widths(share: np.ndarray, pair_cap: float) -> np.ndarray:
    """Widths of the four cost pieces on [0, Q] per share, shape (len(share), 4)."""
    low, high = share / 2, (pair_cap - share) / 2
    return np.column_stack([low, low, high, high])


class _DepartmentLP:
    """The pooled LP of one department; `solve(binding)` gives x for its edges."""

    def __init__(self, graph: SlotGraph, dept: str, edges: np.ndarray, method: str):
        self.graph, self.dept, self.edges, self.method = graph, dept, edges, method
        caps = graph.officer_caps
        self.officer = graph.edge_officer[edges]
        slots = graph.edge_slot[edges]
        self.slot_ids, self.slot_row = np.unique(slots, return_inverse=True)
        self.usable = np.array([caps[o] != 0 for o in self.officer.tolist()], dtype=bool)
        counts = graph.eligible_count[slots]
        self.share = np.where(self.usable, graph.slot_sizes[slots] / np.maximum(counts, 1), 0.0)
        self.cap = np.array([np.inf if c is None else c for c in caps], dtype=float)
        self.q = graph.pair_cap_units / graph.scale

    def loads(self, x: np.ndarray) -> np.ndarray:
        return np.bincount(self.officer, weights=x, minlength=self.graph.n_officers)

    def over_cap(self, x: np.ndarray) -> np.ndarray:
        return np.flatnonzero(self.loads(x) > self.cap + CAP_TOLERANCE)

    def solve(self, binding: np.ndarray) -> np.ndarray:
        n_slots = len(self.slot_ids)
        own = self.usable & np.isin(self.officer, binding)  # edges with their own variables
        pooled = self.usable & ~own
        pool_size = np.bincount(self.slot_row[pooled], minlength=n_slots)
        slot_share = np.zeros(n_slots)
        slot_share[self.slot_row[self.usable]] = self.share[self.usable]

        # LP entities: one pool per slot that has pooled officers, then each own edge.
        pools = np.flatnonzero(pool_size > 0)
        own_pos = np.flatnonzero(own)
        entity_row = np.concatenate([pools, self.slot_row[own_pos]])
        entity_mult = np.concatenate([pool_size[pools], np.ones(len(own_pos), np.int64)])
        entity_share = slot_share[entity_row]
        widths = _piece_widths(entity_share, self.q) * entity_mult[:, None]
        keep = widths > 0
        var_entity = np.nonzero(keep)[0]  # row-major: entity-major, piece order kept
        var_width = widths[keep]
        var_cost = np.broadcast_to(PIECE_SLOPES, widths.shape)[keep]
        n_var = len(var_entity)
        cols = np.arange(n_var)

        a_eq = sp.csr_matrix((np.ones(n_var), (entity_row[var_entity], cols)), shape=(n_slots, n_var))
        b_eq = self.graph.slot_sizes[self.slot_ids].astype(float)
        bound_officers, officer_row = np.unique(self.officer[own_pos], return_inverse=True)
        capped_officer = np.isfinite(self.cap[bound_officers])
        entity_officer_row = np.concatenate([np.full(len(pools), -1), officer_row])
        var_row = entity_officer_row[var_entity]
        in_ub = var_row >= 0
        in_ub[in_ub] = capped_officer[var_row[in_ub]]
        ub_officers = bound_officers[capped_officer]
        row_index = np.cumsum(capped_officer) - 1  # officer_row -> ub row
        a_ub = sp.csr_matrix(
            (np.ones(int(in_ub.sum())), (row_index[var_row[in_ub]], cols[in_ub])), shape=(len(ub_officers), n_var)
        )
        b_ub = self.cap[ub_officers]

        result = linprog(  # type: ignore[call-overload]  # scipy-stubs omit the sparse A_ub/A_eq HiGHS accepts
            var_cost,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a_eq,
            b_eq=b_eq,
            bounds=np.column_stack([np.zeros(n_var), var_width]),
            method=self.method,
            options={"primal_feasibility_tolerance": 1e-9},
        )
        if result.status == 2:
            self._infeasible(b_eq.sum(), len(ub_officers))
        if result.status != 0:
            raise RuntimeError(f"LP for department {self.dept} failed: {result.message}")

        entity_x = np.bincount(var_entity, weights=result.x, minlength=len(entity_row))
        x = np.zeros(len(self.edges))
        pool_x = np.zeros(n_slots)
        pool_x[pools] = entity_x[: len(pools)] / pool_size[pools]
        x[pooled] = pool_x[self.slot_row[pooled]]
        x[own_pos] = entity_x[len(pools) :]
        return x

    def _infeasible(self, demand: float, n_capped: int) -> None:
        dept_officers = np.array([d == self.dept for d in self.graph.officer_departments])
        supply = officer_capacity_units(self.graph)[dept_officers].sum() / self.graph.scale
        raise AssignmentInfeasible(
            "teams cannot be assigned",
            [
                AssignmentProblem(
                    f"department {self.dept}: no fractional assignment exists although every task has enough eligible "
                    f"officers; tasks need {demand:g} officer-places over {len(self.slot_ids)} slot(s), officers can "
                    f"take at most {supply:g} in total ({n_capped} with binding load caps); some officers are "
                    f"probably the only eligible ones for more tasks than their caps allow",
                    department=self.dept,
                )
            ],
        )


def _solve_department(graph: SlotGraph, edges: np.ndarray, dept: str, method: str) -> np.ndarray:
    lp = _DepartmentLP(graph, dept, edges, method)
    x = lp.share
    binding = lp.over_cap(x)
    if len(binding) == 0:
        return x  # the uniform share is the unique optimum
    while True:
        x = lp.solve(binding)
        newly = np.setdiff1d(lp.over_cap(x), binding)
        if len(newly) == 0:
            return x
        binding = np.union1d(binding, newly)


def solve_marginals(graph: SlotGraph, method: str = LP_METHOD) -> np.ndarray:
    """P(officer on slot) per edge, as floats (up to solver tolerance)."""
    x = np.zeros(graph.n_edges)
    edge_dept = np.asarray(graph.slot_departments, dtype=object)[graph.edge_slot]
    for dept in sorted(set(graph.slot_departments)):
        edges = np.flatnonzero(edge_dept == dept)
        if len(edges):
            x[edges] = _solve_department(graph, edges, dept, method)
    return x
