"""Team sampling's fast paths give the slow paths' bytes: the compiled walk, the canonical text.

rounding.round_walk is the walk as first written (the definition every stored assignment was made
with); rounding_kernel.round_compiled must give the same final values and leave the stream at the
same counter on any instance. Random instances here are small and strange on purpose: tiny scales
(so several edges close in one step), edges already at 0 or at scale, officers with one open edge
(paths, and paths extended from their other end), slots of every size.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_kit import sha256_kernel
from inspect_kit.assign import sample_assignment, solve_fractional
from inspect_kit.assign.core import rounding, rounding_kernel
from inspect_kit.assign.core.randomness import HashStream
from inspect_kit.hashing import sha256_block

needs_numba = pytest.mark.skipif(not rounding_kernel.available(), reason="numba is not installed")
needs_cext = pytest.mark.skipif(
    not sha256_kernel.available(), reason="the C extension inspect_kit._sha256x is not built"
)


def random_instance(rng: random.Random, scale: int, most_officers: int = 30, most_slots: int = 60):
    """(n_officers, n_slots, edge_officer, edge_slot, values): values in [0, scale], slot sums k * scale."""
    n_officers = rng.randint(2, most_officers)
    n_slots = rng.randint(1, most_slots)
    edge_officer, edge_slot, values = [], [], []
    for s in range(n_slots):
        officers = sorted(rng.sample(range(n_officers), rng.randint(1, n_officers)))
        size = rng.randint(0, len(officers))
        units = [0] * len(officers)
        left = size * scale
        while left:  # pour the slot's units into random edges, none above scale
            i = rng.randrange(len(officers))
            add = min(rng.randint(1, scale), scale - units[i], left)
            units[i] += add
            left -= add
        edge_officer += officers
        edge_slot += [s] * len(officers)
        values += units
    return n_officers, n_slots, edge_officer, edge_slot, values


def both(instance, scale: int, seed: str):
    walk_stream, kernel_stream = HashStream(seed, "team"), HashStream(seed, "team")
    by_walk = rounding.round_walk(*instance, scale, walk_stream)
    by_kernel = rounding_kernel.round_compiled(*instance, scale, kernel_stream)
    return (by_walk, walk_stream.counter), (by_kernel, kernel_stream.counter)


@needs_numba
@settings(max_examples=150, deadline=None)
@given(
    structure=st.integers(0, 2**32),
    scale=st.sampled_from([1, 2, 3, 4, 7, 10, 100, 10_000]),
    seed=st.text(min_size=1, max_size=12).filter(lambda s: not any(c in s for c in "\t\n\r")),
)
def test_kernel_equals_the_python_walk_on_random_instances(structure, scale, seed):
    instance = random_instance(random.Random(structure), scale)
    walk, kernel = both(instance, scale, seed)
    assert kernel == walk
    final = np.array(walk[0])
    assert set(final.tolist()) <= {0, scale}  # a real rounding happened, not two equal failures


@needs_numba
def test_kernel_equals_the_python_walk_on_a_larger_instance():
    rng = random.Random(17)
    for seed in ("20260105-dice-314159", "种子"):
        instance = random_instance(rng, 10_000, most_officers=80, most_slots=600)
        walk, kernel = both(instance, 10_000, seed)
        assert kernel == walk and walk[1] > 2_000


@needs_numba
def test_round_dependently_uses_the_kernel_above_the_threshold_and_gets_the_same_teams(monkeypatch):
    from tests.test_assign_core import grid_instance  # the suite's own instance builder

    fr = solve_fractional(grid_instance(n_officers=20, n_tasks=15))
    by_walk = sample_assignment(fr, "seed-1")
    calls = []
    real = rounding_kernel.round_compiled
    monkeypatch.setattr(rounding, "KERNEL_MIN_EDGES", 0)
    monkeypatch.setattr(rounding_kernel, "round_compiled", lambda *a: calls.append(1) or real(*a))
    by_kernel = sample_assignment(fr, "seed-1")
    assert calls and by_kernel.canonical_bytes() == by_walk.canonical_bytes()


@needs_numba
def test_a_block_that_might_be_rejected_hands_over_to_the_python_walk(monkeypatch):
    instance = random_instance(random.Random(3), 10)

    def with_all_ones_block(prefix_state, messages, workers=None):
        data = bytearray(sha256_block(prefix_state, messages, workers))
        data[32 * 5 : 32 * 5 + 24] = b"\xff" * 24  # block 5 >= 2**256 - 2**64
        return bytes(data)

    monkeypatch.setattr(rounding_kernel, "sha256_block", with_all_ones_block)
    stream = HashStream("s", "team")
    assert rounding_kernel.round_compiled(*instance, 10, stream) is None and stream.counter == 0
    monkeypatch.setattr(rounding, "KERNEL_MIN_EDGES", 0)
    walk_stream, stream = HashStream("s", "team"), HashStream("s", "team")
    assert rounding.round_dependently(*instance, 10, stream) == rounding.round_walk(*instance, 10, walk_stream)
    assert stream.counter == walk_stream.counter


@settings(max_examples=300, deadline=None)
@given(block=st.binary(min_size=32, max_size=32), m=st.integers(1, 2**32 - 1))
def test_block_mod_m_is_exact(block, m):
    words = np.frombuffer(block, dtype=">u8").reshape(1, 4).astype(np.uint64)
    x = int.from_bytes(block, "big")
    expected = -1 if x >= 2**256 - 2**64 else x % m
    assert rounding_kernel._below_python(words, 0, m) == expected


def test_counter_messages_hash_as_their_decimal_digits():
    prefix = hashlib.sha256(b"seed:team:")
    assert sha256_block(prefix, range(95, 130), 1) == sha256_block(prefix, [str(i) for i in range(95, 130)], 1)
    assert sha256_block(prefix, range(0, 40), 2) == sha256_block(prefix, range(0, 40), 1)


def test_canonical_text_is_one_formatted_line_per_edge():
    """graph.canonical_lines joins a slot's edge lines in C; the text is the line-by-line format."""
    from inspect_kit.assign.core.graph import CANONICAL_VERSION, build_slot_graph
    from tests.test_assign_core import grid_instance

    instance = grid_instance(n_officers=9, n_tasks=7, forbidden_pairs=[("o1", "o4")])
    instance.eligible[:, 3] = False  # a task nobody may inspect: a slot without edge lines
    instance.eligible[2, :] = False
    g = build_slot_graph(instance)
    units = np.arange(g.n_edges, dtype=np.int64) * 37
    for header, values in (("instance", None), ("fractional", units)):
        expected = [
            f"inspect-kit/assign {header} {CANONICAL_VERSION}\n",
            f"scale\t{g.scale}\n",
            f"pair_cap\t{g.pair_cap_units}\n",
        ]
        expected += [
            f"officer\t{o}\t{d}\t{'-' if c is None else c}\n"
            for o, d, c in zip(g.officer_ids, g.officer_departments, g.officer_caps)
        ]
        expected += [f"slot\t{t}\t{d}\t{k}\n" for t, d, k in zip(g.slot_tasks, g.slot_departments, g.slot_sizes)]
        for e, (s, o) in enumerate(zip(g.edge_slot.tolist(), g.edge_officer.tolist())):
            head = f"{g.slot_tasks[s]}\t{g.slot_departments[s]}\t{g.officer_ids[o]}"
            expected.append(f"eligible\t{head}\n" if values is None else f"x\t{head}\t{values[e]}\n")
        expected += [f"forbidden\t{a}\t{b}\n" for a, b in g.forbidden_pairs]
        assert "".join(g.canonical_lines(header, values)) == "".join(expected)


@needs_numba
@needs_cext
def test_stream_blocks_by_the_compiled_sha256_give_the_same_teams(monkeypatch):
    """From STREAM_KERNEL_MIN blocks on, the stream is hashed by inspect_kit.sha256_kernel: forced
    here from one block, the blocks are hashlib's and the walk's values and counter are the same."""
    stream = HashStream("种子:x", "team")
    monkeypatch.setattr(rounding_kernel, "STREAM_KERNEL_MIN", 1)
    monkeypatch.setattr(sha256_kernel, "CHUNK", 7)  # two threads share even the short runs
    # Counters crossing every change of width (the extension writes their decimal digits itself),
    # up to the last 64-bit counter, and beyond it (hashlib's, the extension refusing them).
    top = 2**64 - 1
    for first, n in ((0, 1), (95, 40), (0, 1_005), (99_990, 20), (10**12 - 3, 6), (10**19 - 3, 6), (top - 2, 3)):
        got = rounding_kernel._stream_blocks(stream, first, n).tobytes()
        assert got == sha256_block(stream._prefix, range(first, first + n), 1)
    assert rounding_kernel._stream_blocks(stream, top - 1, 3).tobytes() == sha256_block(
        stream._prefix, range(top - 1, top + 2), 1
    )
    with pytest.raises(ValueError, match="outside"):
        sha256_kernel.counter_digests(b"p", top, 2)
    calls = []
    real = sha256_kernel.counter_digests
    monkeypatch.setattr(sha256_kernel, "counter_digests", lambda *a: calls.append(a[2]) or real(*a))
    rng = random.Random(5)
    for seed in ("20260105-dice-314159", "种子"):
        instance = random_instance(rng, 10_000, most_officers=30, most_slots=200)
        walk, kernel = both(instance, 10_000, seed)
        assert kernel == walk
    assert calls  # the compiled hasher really made the blocks


# Teams drawn by the implementation before issue 17's speed-ups (main at 53bc565: the stream's blocks
# hashed from a list of decimal strings, the repair filtering with np.isin) from a stored fractional
# solution: 800 tasks (a tenth joint) x 200 officers, 602 forbidden pairs (benchmarks/bench_assign.py's
# generator, seed 11). A stored assignment must re-derive to these bytes on every path.
STORED_TEAMS = {
    "20260105-dice-314159": "3a8958b1b3320ebeb91d53757e5aa84a7f51c81d9500fd8f6038c2dbfb6a9727",  # 222 swaps, 3 unresolved
    "种子 07": "52f224e4d0f34470288300d643110ed8f7cd89e9369faa5c7a7d169aeca9337d",  # 224 swaps
}


@pytest.mark.parametrize("path", ["python walk", "kernel", "kernel, compiled stream, chunks on threads"])
def test_stored_assignments_give_the_teams_of_the_previous_implementation(monkeypatch, path):
    import gzip
    from pathlib import Path

    from inspect_kit import hashing
    from inspect_kit.assign import Fractional

    data = gzip.decompress((Path(__file__).parent / "data" / "teams-800x200.fractional.gz").read_bytes())
    fractional = Fractional.from_canonical(data)
    if path == "python walk":
        monkeypatch.setattr(rounding, "KERNEL_MIN_EDGES", 10**9)
    else:
        if not rounding_kernel.available():
            pytest.skip("numba is not installed")
        monkeypatch.setattr(rounding, "KERNEL_MIN_EDGES", 0)
    if path.endswith("threads"):
        if not sha256_kernel.available():
            pytest.skip("the C extension inspect_kit._sha256x is not built")
        monkeypatch.setattr(rounding_kernel, "STREAM_KERNEL_MIN", 1)
        monkeypatch.setattr(sha256_kernel, "CHUNK", 1_000)
        monkeypatch.setattr(sha256_kernel, "threads_for", lambda n: 2)
        monkeypatch.setattr(hashing, "spare_cores", lambda: 1)
    else:  # the stream hashed by hashlib (on forked workers where they pay)
        monkeypatch.setattr(rounding_kernel, "STREAM_KERNEL_MIN", 10**12)
    for seed, expected in STORED_TEAMS.items():
        assignment = sample_assignment(fractional, seed, strict_forbidden_pairs=False)
        assert assignment.sha256 == expected, seed
