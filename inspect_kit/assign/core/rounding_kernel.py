"""The dependent-rounding walk of rounding.py, compiled: the same teams, bit for bit, 20-50x faster.

`round_compiled(...)` runs exactly the walk that rounding.round_dependently defines (read its
docstring first): the same Fisher-Yates shuffle of the open edges, the same adjacency lists with
the same swap-with-last removal, the same walk rule (first open edge; at a slot, the first edge back
to an officer on the walk), the same steps and the same draws, one stream block per draw in the
same order. Only the machinery differs: flat arrays instead of lists, and the stream's blocks
hashed in bulk up front (from STREAM_KERNEL_MIN blocks on by the C extension of
inspect_kit.sha256_kernel where it is built, else by inspect_kit.hashing, on every core that pays)
instead of one at a time.
The tests run both on many random instances and compare values and stream counters.

Exactness of the draws: below(m) of the stream takes one block v and returns v mod m unless
v >= 2**256 - (2**256 mod m) (rejection). For every m < 2**32 that bound exceeds 2**256 - 2**64, so
a block whose three top words are not all ones is accepted, and v mod m is computed exactly from
its eight 32-bit limbs in uint64 arithmetic (each partial remainder < 2**32). A block that might be
rejected (probability 2**-192 per draw) makes the kernel give up, and the caller then runs the
Python walk, which draws it the slow, exact way. Each step closes at least one edge, so at most
2 * (open edges) - 1 blocks are ever needed: all of them are hashed before the walk starts.

numba compiles the kernel on first use (a few seconds) and caches it beside this file; without
numba, or for instances where compiling would cost more than it saves, rounding.py runs the Python
walk.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import numpy.typing as npt

from inspect_kit import sha256_kernel
from inspect_kit.hashing import sha256_block

from .randomness import HashStream

_GAVE_UP = -1


def available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def round_compiled(
    n_officers: int,
    n_slots: int,
    edge_officer: npt.ArrayLike,
    edge_slot: npt.ArrayLike,
    values: npt.ArrayLike,
    scale: int,
    stream: HashStream,
) -> list[int] | None:
    """The walk's final values, with stream.counter advanced as the Python walk would; None when
    the kernel gives up (a block that might be rejected, or an instance outside its bounds)."""
    units = np.array(values, dtype=np.int64)
    n_open = int(np.count_nonzero((units > 0) & (units < scale)))
    if 2 * scale >= 1 << 32 or n_open >= 1 << 31:
        return None
    n_blocks = max(n_open - 1, 0) + n_open
    first = stream.counter
    words = _stream_blocks(stream, first, n_blocks).view(">u8").reshape(n_blocks, 4).astype(np.uint64)
    used = _kernel()(
        np.int64(n_officers),
        np.int64(n_slots),
        np.asarray(edge_officer, dtype=np.int64),
        np.asarray(edge_slot, dtype=np.int64),
        units,
        np.int64(scale),
        words,
    )
    if used == _GAVE_UP:
        return None
    stream.counter = first + int(used)
    out: list[int] = units.tolist()
    return out


# From this many blocks on, the stream is hashed by the C extension (inspect_kit.sha256_kernel: no
# Python call per block, threads); below, a list of a few digests costs about as much either way.
STREAM_KERNEL_MIN = 256


def _stream_blocks(stream: HashStream, first: int, n: int) -> npt.NDArray[np.uint8]:
    """The stream's blocks first .. first + n - 1 (SHA-256 of "{seed}:{domain}:{counter}") as an
    (n, 32) array: the same bytes by either hasher."""
    if n >= STREAM_KERNEL_MIN and sha256_kernel.available() and first + n <= sha256_kernel.MAX_COUNTER + 1:
        prefix = f"{stream.seed}:{stream.domain}:".encode()
        return sha256_kernel.counter_digests(prefix, first, n)
    block = sha256_block(stream._prefix, range(first, first + n))
    return np.frombuffer(block, dtype=np.uint8).reshape(n, 32)


# numba's dispatchers, set by _kernel(); typed Any: numba ships no types for them.
_compiled: Any = None
_below: Any = None  # the compiled _below_python; _walk calls it by this name


def _kernel() -> Callable[..., int]:
    """The compiled walk (numba is imported, and the kernel compiled or loaded, on first use only)."""
    global _compiled, _below
    if _compiled is None:
        import numba

        _below = numba.njit(cache=True, nogil=True)(_below_python)  # _walk calls it by this name
        _compiled = numba.njit(cache=True, nogil=True)(_walk)
    kernel: Callable[..., int] = _compiled
    return kernel


def _below_python(words: npt.NDArray[np.uint64], k: int, m: int) -> int | np.int64:
    """Block k mod m (m < 2**32), or -1 if the block might be rejected by HashStream.below."""
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    if words[k, 0] == ones and words[k, 1] == ones and words[k, 2] == ones:
        return -1
    mu = np.uint64(m)
    r = np.uint64(0)
    shift = np.uint64(32)
    low = np.uint64(0xFFFFFFFF)
    for w in range(4):
        word = words[k, w]
        r = ((r << shift) | (word >> shift)) % mu
        r = ((r << shift) | (word & low)) % mu
    return np.int64(r)


def _walk(  # noqa: C901  # pragma: no cover - compiled port of round_walk, line for line
    n_officers: int,
    n_slots: int,
    edge_officer: npt.NDArray[np.int64],
    edge_slot: npt.NDArray[np.int64],
    value: npt.NDArray[np.int64],
    scale: int,
    words: npt.NDArray[np.uint64],
) -> int:
    """The walk of rounding.round_dependently on arrays; returns the number of blocks used, or -1."""
    n_edges = value.shape[0]
    n_vertices = n_officers + n_slots
    end_officer = edge_officer
    end_slot = edge_slot + n_officers
    k = 0  # next block

    # Open edges in edge order, then the Fisher-Yates shuffle: for i = n-1 .. 1, j = below(i + 1).
    n_open = 0
    for e in range(n_edges):
        if 0 < value[e] < scale:
            n_open += 1
    order = np.empty(n_open, dtype=np.int64)
    t = 0
    for e in range(n_edges):
        if 0 < value[e] < scale:
            order[t] = e
            t += 1
    for i in range(n_open - 1, 0, -1):
        j = _below(words, k, i + 1)
        k += 1
        if j < 0:
            return -1
        order[i], order[j] = order[j], order[i]

    # Open edges per vertex in shuffled order, each edge's position in both lists.
    degree = np.zeros(n_vertices, dtype=np.int64)
    for t in range(n_open):
        e = order[t]
        degree[end_officer[e]] += 1
        degree[end_slot[e]] += 1
    offset = np.zeros(n_vertices + 1, dtype=np.int64)
    for v in range(n_vertices):
        offset[v + 1] = offset[v] + degree[v]
    adj = np.empty(offset[n_vertices], dtype=np.int64)
    length = np.zeros(n_vertices, dtype=np.int64)
    pos_at_officer = np.zeros(n_edges, dtype=np.int64)
    pos_at_slot = np.zeros(n_edges, dtype=np.int64)
    for t in range(n_open):
        e = order[t]
        o = end_officer[e]
        pos_at_officer[e] = length[o]
        adj[offset[o] + length[o]] = e
        length[o] += 1
        s = end_slot[e]
        pos_at_slot[e] = length[s]
        adj[offset[s] + length[s]] = e
        length[s] += 1

    on_stack = np.full(n_vertices, -1, dtype=np.int64)
    verts = np.empty(n_vertices + 1, dtype=np.int64)
    edges = np.empty(n_vertices + 1, dtype=np.int64)
    chain = np.empty(n_vertices + 1, dtype=np.int64)
    closed = np.empty(n_vertices + 1, dtype=np.int64)

    for start in range(n_vertices):
        while length[start] > 0:
            verts[0] = start
            nv = 1
            ne = 0
            on_stack[start] = 0
            bottom_is_end = False
            while nv > 0:
                u = verts[nv - 1]
                base = offset[u]
                n_here = length[u]
                e = -1
                if n_here > 0:
                    e = adj[base]
                    if ne > 0 and e == edges[ne - 1]:
                        e = adj[base + 1] if n_here > 1 else -1
                    if u >= n_officers and nv > 2:
                        incoming = edges[ne - 1]
                        for t in range(n_here):
                            cand = adj[base + t]
                            if on_stack[end_officer[cand]] >= 0 and cand != incoming:
                                e = cand
                                break
                cut = -1
                n_chain = 0
                p = 0
                if e < 0:  # u is a path end
                    if ne == 0:
                        on_stack[u] = -1
                        nv -= 1
                        continue
                    if bottom_is_end or length[verts[0]] == 1:
                        for t in range(ne):
                            chain[t] = edges[t]
                        n_chain = ne
                        p = 0
                    else:  # extend the path from its other end
                        verts[:nv] = verts[:nv][::-1].copy()
                        edges[:ne] = edges[:ne][::-1].copy()
                        for i in range(nv):
                            on_stack[verts[i]] = i
                        bottom_is_end = True
                        continue
                else:
                    w = end_slot[e] if u < n_officers else end_officer[e]
                    p = on_stack[w]
                    if p < 0:
                        on_stack[w] = nv
                        verts[nv] = w
                        nv += 1
                        edges[ne] = e
                        ne += 1
                        continue
                    for t in range(p, ne):
                        chain[t - p] = edges[t]
                    chain[ne - p] = e
                    n_chain = ne - p + 1

                # One step on chain[:n_chain]: A = even positions, B = odd positions.
                if n_chain < 2:
                    return -1  # never happens (a slot never has one open edge); the Python walk decides
                max_a = -1
                min_a = scale + 1
                max_b = -1
                min_b = scale + 1
                for t in range(0, n_chain, 2):
                    x = value[chain[t]]
                    max_a = max(max_a, x)
                    min_a = min(min_a, x)
                for t in range(1, n_chain, 2):
                    x = value[chain[t]]
                    max_b = max(max_b, x)
                    min_b = min(min_b, x)
                alpha = min(scale - max_a, min_b)
                beta = min(min_a, scale - max_b)
                r = _below(words, k, alpha + beta)
                k += 1
                if r < 0:
                    return -1
                if r < beta:
                    delta = alpha
                    closing_a = scale - alpha
                    closing_b = alpha
                else:
                    delta = -beta
                    closing_a = beta
                    closing_b = scale - beta
                n_closed = 0
                for t in range(0, n_chain, 2):
                    if value[chain[t]] == closing_a:
                        closed[n_closed] = t
                        n_closed += 1
                for t in range(1, n_chain, 2):
                    if value[chain[t]] == closing_b:
                        closed[n_closed] = t
                        n_closed += 1
                for t in range(0, n_chain, 2):
                    value[chain[t]] += delta
                for t in range(1, n_chain, 2):
                    value[chain[t]] -= delta
                first_closed = n_chain
                for c in range(n_closed):
                    t = closed[c]
                    first_closed = min(first_closed, t)
                    e2 = chain[t]
                    # close e2: swap-with-last removal from its officer's list, then its slot's
                    o = end_officer[e2]
                    length[o] -= 1
                    last = adj[offset[o] + length[o]]
                    if last != e2:
                        i = pos_at_officer[e2]
                        adj[offset[o] + i] = last
                        pos_at_officer[last] = i
                    s = end_slot[e2]
                    length[s] -= 1
                    last = adj[offset[s] + length[s]]
                    if last != e2:
                        i = pos_at_slot[e2]
                        adj[offset[s] + i] = last
                        pos_at_slot[last] = i

                if e < 0:  # the path case
                    cut = first_closed
                else:
                    if first_closed == n_chain - 1:
                        continue  # only the closing edge closed; the stack is still a valid walk
                    cut = p + first_closed
                for i in range(cut + 1, nv):
                    on_stack[verts[i]] = -1
                nv = cut + 1
                ne = cut
    return k
