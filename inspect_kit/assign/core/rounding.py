"""Dependent rounding of a bipartite fractional assignment, exact on the integer grid.

Gandhi, Khuller, Parthasarathy, Srinivasan (J. ACM 2006), the sampler behind Jecmen et al.'s
randomized reviewer assignment. Work on the "open" edges, those with 0 < value < scale. Repeatedly
find a cycle, or a maximal path, of open edges; split it alternately into sets A and B (A = 1st,
3rd, ... edge); then either add alpha to A and subtract it from B, or subtract beta from A and add it
to B, where alpha and beta are the largest steps keeping every value in [0, scale]. Choosing the
first with probability beta / (alpha + beta) leaves every expected value unchanged, and each step
closes at least one edge (to 0 or scale). Hence:

- P(edge ends at scale) = its value / scale exactly (integers, exact rejection sampling);
- a vertex inside a cycle or path keeps its sum, so every slot keeps exactly its size (a slot never
  has exactly one open edge, since its sum is a multiple of scale, so it is never a path end);
- an officer's sum changes only while it has a single open edge, so its final load is the floor or
  ceiling of its expected load, hence within its cap;
- an edge with value 0 is never opened, so a pair with probability 0 is never chosen.

Cycles and paths are found by one depth-first walk kept on a stack; after a step the stack is cut
back to just before the first edge that closed, so the walk resumes instead of restarting. The walk
follows each vertex's open edges in an order shuffled by the stream first (any walk order keeps the
marginals exact; a random one lets every pair of officers co-occur), and at a slot it prefers an
edge back to an officer already on the walk, which keeps cycles short. The walk rule is part of
the definition: a re-implementation must follow this code to get the same teams. Stream use: one
Fisher-Yates shuffle of the open edges in edge order (for i = n-1 .. 1: j = below(i + 1), swap i
and j), then one below(alpha + beta) per step. So the same values and seed give the same result on
every machine.

Speed: from KERNEL_MIN_EDGES edges on, the same walk runs compiled (rounding_kernel.py, with numba)
and gives the same values and stream counter, bit for bit (the tests compare both on many random
instances); this Python walk remains the definition, and runs whenever the kernel cannot (no numba,
small instances, or a draw that the kernel leaves to the exact slow path).
"""

from __future__ import annotations

from typing import Sequence

from .randomness import HashStream

# Below this many edges the Python walk is faster than loading (or first compiling) the kernel.
KERNEL_MIN_EDGES = 100_000


def round_dependently(
    n_officers: int,
    n_slots: int,
    edge_officer: Sequence[int],
    edge_slot: Sequence[int],
    values: Sequence[int],
    scale: int,
    stream: HashStream,
) -> list[int]:
    """Final values (each 0 or scale) for the edges, given values in [0, scale] and integral slot sums."""
    if len(values) >= KERNEL_MIN_EDGES:
        from . import rounding_kernel

        if rounding_kernel.available():
            final = rounding_kernel.round_compiled(n_officers, n_slots, edge_officer, edge_slot, values, scale, stream)
            if final is not None:
                return final
    return round_walk(n_officers, n_slots, edge_officer, edge_slot, values, scale, stream)


def round_walk(  # noqa: C901 - the published walk, kept as written: it defines every stored team
    n_officers: int,
    n_slots: int,
    edge_officer: Sequence[int],
    edge_slot: Sequence[int],
    values: Sequence[int],
    scale: int,
    stream: HashStream,
) -> list[int]:
    """The walk in Python: the definition of round_dependently's result, at any size."""
    value = list(values)
    n_edges = len(value)
    end_officer = list(edge_officer)
    end_slot = [n_officers + s for s in edge_slot]  # vertices: officers first, then slots
    n_vertices = n_officers + n_slots

    # The walk order decides which officers can end up together, so it is random too: without this,
    # a fixed order makes some pairs of officers impossible (and predictable) even though every
    # officer's own probability is right. Fisher-Yates on the open edges, from the same stream.
    open_edges = [e for e in range(n_edges) if 0 < value[e] < scale]
    for i in range(len(open_edges) - 1, 0, -1):
        j = stream.below(i + 1)
        open_edges[i], open_edges[j] = open_edges[j], open_edges[i]

    # Open edges per vertex, in shuffled order, with each edge's position in both lists for O(1) removal.
    adj: list[list[int]] = [[] for _ in range(n_vertices)]
    pos_at_officer = [0] * n_edges
    pos_at_slot = [0] * n_edges
    for e in open_edges:
        lst = adj[end_officer[e]]
        pos_at_officer[e] = len(lst)
        lst.append(e)
        lst = adj[end_slot[e]]
        pos_at_slot[e] = len(lst)
        lst.append(e)

    def close(e: int) -> None:
        lst = adj[end_officer[e]]
        last = lst.pop()
        if last != e:
            i = pos_at_officer[e]
            lst[i] = last
            pos_at_officer[last] = i
        lst = adj[end_slot[e]]
        last = lst.pop()
        if last != e:
            i = pos_at_slot[e]
            lst[i] = last
            pos_at_slot[last] = i

    def step(chain: list[int]) -> int:
        """One random step on an alternating chain; returns the index of its first closed edge."""
        set_a, set_b = chain[0::2], chain[1::2]
        va = [value[e] for e in set_a]
        vb = [value[e] for e in set_b]
        alpha = min(scale - max(va), min(vb))  # largest step: A up, B down
        beta = min(min(va), scale - max(vb))  # largest step: A down, B up
        if stream.below(alpha + beta) < beta:  # probability beta / (alpha + beta)
            delta = alpha
            closing_a, closing_b = scale - alpha, alpha  # old values that land on scale / on 0
        else:
            delta = -beta
            closing_a, closing_b = beta, scale - beta
        closed = [2 * i for i, v in enumerate(va) if v == closing_a]
        closed += [2 * i + 1 for i, v in enumerate(vb) if v == closing_b]
        for e in set_a:
            value[e] += delta
        for e in set_b:
            value[e] -= delta
        for i in closed:
            close(chain[i])
        return min(closed)

    on_stack = [-1] * n_vertices  # position of a vertex on the walk, or -1
    for start in range(n_vertices):
        while adj[start]:
            verts = [start]
            edges: list[int] = []
            on_stack[start] = 0
            bottom_is_end = False  # True once the stack's bottom has no other open edge
            while verts:
                u = verts[-1]
                lst = adj[u]
                e = -1
                if lst:
                    e = lst[0]
                    if edges and e == edges[-1]:
                        e = lst[1] if len(lst) > 1 else -1
                    if u >= n_officers and len(verts) > 2:
                        # At a slot, close a cycle through an officer already on the walk if one is
                        # there: short cycles make short steps. (Any rule keeps the marginals.)
                        incoming = edges[-1]
                        for cand in lst:
                            if on_stack[end_officer[cand]] >= 0 and cand != incoming:
                                e = cand
                                break
                if e < 0:  # u is a path end
                    if not edges:
                        on_stack[u] = -1
                        verts.pop()
                        continue
                    if bottom_is_end or len(adj[verts[0]]) == 1:
                        cut = step(edges)
                    else:  # extend the path from its other end to make it maximal
                        verts.reverse()
                        edges.reverse()
                        for i, v in enumerate(verts):
                            on_stack[v] = i
                        bottom_is_end = True
                        continue
                else:
                    w = end_slot[e] if u < n_officers else end_officer[e]
                    p = on_stack[w]
                    if p < 0:
                        on_stack[w] = len(verts)
                        verts.append(w)
                        edges.append(e)
                        continue
                    chain = edges[p:]
                    chain.append(e)
                    closed = step(chain)
                    if closed == len(chain) - 1:
                        continue  # only the closing edge closed; the stack is still a valid walk
                    cut = p + closed
                # Cut the stack back to just before the first closed edge.
                for v in verts[cut + 1 :]:
                    on_stack[v] = -1
                del verts[cut + 1 :]
                del edges[cut:]
            # verts is empty here, so on_stack is all -1 again
    return value
