"""The compiled SHA-256 (inspect_kit.sha256_kernel over the C extension inspect_kit._sha256x) against
hashlib, with either compression and any number of threads, and the tickets drawn through it against
the hashlib path, the Python formatting and the consistent-sampler package."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
from consistent_sampler import sampler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_kit import sha256_kernel as K
from inspect_kit.draw.core import sampler as S

pytestmark = pytest.mark.skipif(not K.available(), reason="the C extension inspect_kit._sha256x is not built")
# The compressions this machine can run: portable C everywhere, SHA-NI where the CPU has it.
IMPLEMENTATIONS = ["portable"] + (["sha-ni"] if K.available() and K.accelerated() == "sha-ni" else [])

ANY_TEXT = st.characters(exclude_categories=("Cs",))  # every character UTF-8 can encode


def digests_and_keys(prefix, messages, threads=None):
    """The digests as an (n, 32) array and the ticket keys beside them (one pass of the extension)."""
    block, keys = K._hash(prefix, messages, threads, digests=True, keys=True)
    return np.frombuffer(block, dtype=np.uint8).reshape(-1, 32), np.frombuffer(keys, dtype=np.uint64)


def ticket_keys(prefix, messages, threads=None):
    """The ticket keys alone (what `K.ranked` sorts)."""
    return np.frombuffer(K._hash(prefix, messages, threads, digests=False, keys=True)[1], dtype=np.uint64)


def sort_keys(keys):
    """The extension's radix sort as numpy arrays: (order, keys in that order)."""
    order, ordered, _ = K._sha256x.sort_keys(np.ascontiguousarray(keys, dtype=np.uint64))
    return np.frombuffer(order, dtype=np.int64), np.frombuffer(ordered, dtype=np.uint64)


def reference(prefix: bytes, messages: list[str]) -> bytes:
    return b"".join(hashlib.sha256(prefix + m.encode()).digest() for m in messages)


# Messages around the padding limits: 55 bytes fit one block after a 64-byte prefix, 56 need two.
EDGES = ["", "a", "b" * 55, "c" * 56, "d" * 63, "e" * 64, "f" * 119, "g" * 120, "h" * 300, "企业" * 30, "\x00\x7f"]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of 7 messages, so that two threads really share the work in these small tests."""
    monkeypatch.setattr(K, "CHUNK", 7)


@pytest.fixture(params=IMPLEMENTATIONS)
def implementation(request, monkeypatch):
    monkeypatch.setattr(K, "implementation", request.param)
    return request.param


@pytest.mark.parametrize("prefix_len", [0, 1, 55, 56, 63, 64, 65, 119, 128, 200])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_kernel_equals_hashlib_at_every_block_boundary(implementation, prefix_len, threads):
    prefix = bytes((7 * i + prefix_len) % 256 for i in range(prefix_len))
    messages = EDGES + [f"{k:05d}" for k in range(40)]
    assert K.digests(prefix, messages, threads) == reference(prefix, messages)
    assert K.digests(prefix, tuple(messages), threads) == reference(prefix, messages)
    assert K.digests(prefix, packed(messages), threads) == reference(prefix, messages)
    first = 10**12 - 30  # counters crossing a change of width
    assert K.counter_digests(prefix, first, 60, threads).tobytes() == reference(
        prefix, [str(first + i) for i in range(60)]
    )


def packed(messages: list[str]):
    from inspect_kit.hashing import PackedIds

    encoded = [m.encode() for m in messages]
    return PackedIds(b"".join(encoded), np.cumsum([0] + [len(e) for e in encoded], dtype=np.int64))


@settings(max_examples=60, deadline=None)
@given(prefix=st.binary(max_size=140), messages=st.lists(st.text(alphabet=ANY_TEXT, max_size=80), max_size=40))
def test_kernel_equals_hashlib_on_random_unicode(prefix, messages):
    expected = reference(prefix, messages)
    for implementation in IMPLEMENTATIONS:
        K.implementation = implementation
        try:
            assert K.digests(prefix, messages, 2) == expected
            assert K.digests(prefix, messages, 1) == expected
            assert K.digests(prefix, packed(messages), 2) == expected  # a stored frame's packed ids
        finally:
            K.implementation = "auto"


def test_kernel_of_nothing_is_empty():
    assert K.digests(b"x" * 64, [], 2) == b""


@pytest.mark.parametrize("bad_at", [0, 8, 29])
def test_a_message_that_cannot_be_encoded_fails_on_two_threads_too(bad_at):
    """A lone surrogate in any chunk raises hashlib's error; no helper thread is left waiting."""
    import threading

    messages = [f"m{k}" for k in range(30)]
    messages[bad_at] = "\ud800"
    before = threading.active_count()
    with pytest.raises(UnicodeEncodeError):
        K.digests(b"p", messages, 2)
    with pytest.raises(UnicodeEncodeError):
        reference(b"p", messages)
    assert K.digests(b"p", messages[:bad_at], 2) == reference(b"p", messages[:bad_at])
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and thread.daemon:
            thread.join(timeout=5)
    assert threading.active_count() <= before


@pytest.fixture
def kernel_path(monkeypatch):
    """The calls of select() and tickets() that reached the extension (at any size)."""
    calls: list[int] = []
    real = K._hash  # K.digests and K.ranked go through it

    def spy(prefix, messages, *args, **kwargs):
        calls.append(len(messages))
        return real(prefix, messages, *args, **kwargs)

    monkeypatch.setattr(K, "_hash", spy)
    return calls


CHINESE = "企业甲乙丙丁戊己庚辛壬癸市场监管局统一社会信用代码（）·-"
ids_strategy = st.lists(
    st.text(alphabet=st.sampled_from(CHINESE) | ANY_TEXT, min_size=1, max_size=24), min_size=2, max_size=60, unique=True
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.text(alphabet=ANY_TEXT, min_size=1, max_size=30), ids=ids_strategy, data=st.data())
def test_select_through_the_kernel_equals_hashlib_and_the_package(kernel_path, seed, ids, data):
    n = data.draw(st.integers(0, len(ids)))
    kernel_path.clear()
    assert S.digest_block(seed, ids) == b"".join(S._digests(seed, ids))
    drawn = S.select(seed, ids, n)
    # both went through the extension: select ranks all the ids, then hashes the n winners (plus
    # any ids tied with the n-th on the 9-digit key) again for their tickets
    assert kernel_path[:2] == [len(ids), len(ids)] and kernel_path[2:] in ([], [n])
    expected = sampler(ids, seed=seed, with_replacement=False, take=n, output="ticket", digits=100)
    assert [(s.id, s.ticket) for s in drawn] == [(t.id, t.ticket_number) for t in expected]


def test_kernel_path_refuses_duplicates(kernel_path):
    with pytest.raises(ValueError, match="duplicate identifiers: \\['市场主体7'\\]"):
        S.select("种子", [f"市场主体{k}" for k in range(30)] + ["市场主体7"], 3)
    assert kernel_path


def test_without_the_extension_the_hashlib_path_draws(kernel_path, monkeypatch):
    monkeypatch.setattr(K, "available", lambda: False)
    ids = [f"E{k:04d}" for k in range(50)]
    assert [s.id for s in S.select("s", ids, 5)] == list(
        sampler(ids, seed="s", with_replacement=False, take=5, output="id")
    )
    assert kernel_path == []


def test_threads_of_a_server_may_hash_at_once():
    """Two threads launching the parallel kernel together (a web server's): both get hashlib's bytes."""
    import threading

    messages = [f"9136{k:014d}" for k in range(20_000)]
    prefixes = [b"a" * 64, "种子:team:".encode()]
    got: dict[int, bytes] = {}
    workers = [
        threading.Thread(target=lambda i=i: got.__setitem__(i, K.digests(prefixes[i], messages, 2))) for i in (0, 1)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert got == {i: reference(prefixes[i], messages) for i in (0, 1)}


# Digests whose tickets sit at every decimal width: 0, around 10**k (k = 9: one limb division;
# 63/64: where the "064d" padding stops), the largest 256-bit value, and random ones.
EDGE_VALUES = [0, 1, 9, 10, 10**9 - 1, 10**9, 10**18, 10**63 - 1, 10**63, 10**64 - 1, 10**64, 10**64 + 1]
EDGE_VALUES += [10**77, 2**256 - 1, 2**255, 2**32, 2**64 - 1]


def test_compiled_tickets_equal_the_python_ones_at_every_width():
    digests = [v.to_bytes(32, "big") for v in EDGE_VALUES]
    digests += [hashlib.sha256(str(k).encode()).digest() for k in range(3000)]
    block = b"".join(digests)
    order = list(range(len(digests)))[::-1]  # any order, repeats allowed
    order += [0, 0, 5]
    expected = [S._ticket_from_digest(digests[i]) for i in order]
    assert K.tickets_of(block, order) == expected
    assert K.tickets_of(digests_and_keys(b"x", ["a"])[0], []) == []
    widths = {len(S._ticket_from_digest(d)) - 2 for d in digests[: len(EDGE_VALUES)]}
    assert {64, 65, 78} <= widths  # padded tickets, the first unpadded width, the longest


@settings(max_examples=40, deadline=None)
@given(
    prefix=st.binary(max_size=140),
    messages=st.lists(st.text(alphabet=ANY_TEXT | st.sampled_from("\x00企\U0001f600\U00020000"), max_size=70)),
)
def test_kernel_keys_are_the_ticket_prefixes_and_nul_in_messages_is_hashed(prefix, messages):
    """The keys computed while hashing equal sampler._prefix_keys of the digests; a message holding
    a NUL byte (where the separator-free join is used) hashes like any other."""
    block, keys = digests_and_keys(prefix, messages, 2)
    assert block.tobytes() == reference(prefix, messages)
    assert keys.tolist() == S._prefix_keys(S._digest_words(block.tobytes())).tolist()


def test_portable_and_sha_ni_compressions_agree(implementation):
    """The extension compresses with the CPU's SHA extensions where it has them, with portable C
    otherwise (or when asked): both give hashlib's bytes, one thread or two, long messages too."""
    prefix = bytes(range(70))
    messages = EDGES + ["\U0001f600" * k for k in range(20)] + ["x" * k for k in range(0, 700, 13)]
    messages += [f"9136{k:014d}" for k in range(300)]
    for threads in (1, 2):
        assert K.digests(prefix, messages, threads) == reference(prefix, messages)
    if implementation == "sha-ni":
        assert K.accelerated() == "sha-ni"


def test_an_unknown_or_missing_compression_is_refused(monkeypatch):
    from inspect_kit import _sha256x

    with pytest.raises(ValueError, match="implementation 7 is not available"):
        _sha256x.hash_strs(b"p", ["a"], 1, 1, True, False, 7)
    if K.accelerated() is None:
        monkeypatch.setattr(K, "implementation", "sha-ni")
        with pytest.raises(ValueError, match="not available"):
            K.digests(b"p", ["a"])
    with pytest.raises(ValueError, match="chunk"):
        _sha256x.hash_strs(b"p", ["a"], 1, 0, True, False, 0)


def test_packed_offsets_outside_the_data_are_refused():
    """A hostile PackedIds (offsets past the buffer, descending, negative) is refused, never read."""
    from inspect_kit import _sha256x

    for offsets in ([0, 3, 99], [0, 3, 2], [-1, 2], [7]):
        with pytest.raises(ValueError, match="offsets"):
            _sha256x.hash_packed(b"p", b"abcdef", np.array(offsets, dtype=np.int64), 1, 7, True, False, 0)
    with pytest.raises(ValueError, match="offsets"):
        _sha256x.hash_packed(b"p", b"abcdef", b"1234", 1, 7, True, False, 0)  # not int64s
    assert _sha256x.hash_packed(b"p", b"", np.zeros(1, dtype=np.int64), 1, 7, True, True, 0) == (b"", b"")


def test_counters_beyond_64_bits_are_refused_and_the_stream_falls_back(monkeypatch):
    top = K.MAX_COUNTER
    assert K.counter_digests(b"p:", top - 2, 3, 2).tobytes() == reference(b"p:", [str(top - 2 + i) for i in range(3)])
    with pytest.raises(ValueError, match="outside"):
        K.counter_digests(b"p:", top, 2)
    with pytest.raises(ValueError, match="outside"):
        K.counter_digests(b"p:", -1, 2)


def test_tickets_of_refuses_an_index_outside_the_block():
    block = K.digests(b"p", ["a", "b"])
    assert K.tickets_of(block, [1, 0]) == [S._ticket_from_digest(block[32:]), S._ticket_from_digest(block[:32])]
    for bad in (2, -1):
        with pytest.raises(IndexError):
            K.tickets_of(block, [0, bad])
    with pytest.raises(ValueError, match="whole 32-byte"):
        K.tickets_of(block[:40], [0])


def test_ci_requires_the_extension():
    """CI sets INSPECT_REQUIRE_CEXT=1 (.ci/run): there, a missing extension (a failed build that
    pip's optional build silently skipped) fails this test instead of every draw quietly hashing
    with hashlib."""
    from inspect_kit import sha256_kernel
    from inspect_kit.registry import fast_csv

    if os.environ.get("INSPECT_REQUIRE_CEXT") == "1":
        assert sha256_kernel.available(), "inspect_kit._sha256x is not built: pip install -e . should build it"
        assert fast_csv.available(), "inspect_kit._csvx is not built: pip install -e . should build it"


ASTRAL = "𠀀𠀁𡃁𤭢𩸽😀🀄"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.text(alphabet=ANY_TEXT, min_size=1, max_size=30),
    ids=st.lists(
        st.text(alphabet=st.sampled_from(CHINESE + ASTRAL + "\x00A1 "), min_size=0, max_size=20),
        min_size=2,
        max_size=80,
        unique=True,
    ),
    data=st.data(),
)
def test_kernel_select_on_one_and_two_threads_equals_the_package(kernel_path, monkeypatch, seed, ids, data):
    n = data.draw(st.integers(0, len(ids)))
    expected = [
        (t.id, t.ticket_number)
        for t in sampler(ids, seed=seed, with_replacement=False, take=n, output="ticket", digits=100)
    ]
    for threads in (1, 2):
        monkeypatch.setattr(K, "threads_for", lambda count, threads=threads: threads)
        for given_ids in (ids, packed(ids)):
            kernel_path.clear()
            assert [(s.id, s.ticket) for s in S.select(seed, given_ids, n)] == expected
            assert kernel_path[0] == len(ids)


def test_kernel_select_takes_str_subclasses_as_str_and_refuses_other_items(kernel_path):
    import numpy as np

    ids = [f"E{k:03d}" for k in range(40)]
    drawn = S.select("s", list(np.array(ids)), 5)  # numpy.str_ items
    assert [type(s.id) for s in drawn] == [str] * 5
    assert drawn == S.select("s", ids, 5)
    with pytest.raises(TypeError, match="identifiers must be canonical str, got bytes: b'E007'"):
        S.select("s", ids[:7] + [b"E007"] + ids[8:], 5)


def test_keys_alone_equal_the_keys_beside_the_digests():
    messages = EDGES + [f"9136{k:014d}" for k in range(500)] + ["企业" * k for k in range(9)]
    for as_given in (messages, packed(messages)):
        block, keys = digests_and_keys(b"p" * 64, as_given, 2)
        assert ticket_keys(b"p" * 64, as_given, 2).tolist() == keys.tolist()
        assert block.tobytes() == reference(b"p" * 64, messages)


def test_a_list_changed_by_another_thread_while_hashing_gives_the_digests_of_the_list_as_passed(monkeypatch):
    """The GIL is released while hashing: another thread may empty the list meanwhile, dropping
    the last reference to its strings. The extension hashes what it was given (its private tuple
    holds the strings): a digest of a freed string, or a crash, would show here."""
    import sys
    import threading

    def made() -> list[str]:  # fresh str objects each time: the victim's die with it
        return [f"企业{k}" if k % 3 else f"9136{k:014d}" for k in range(200_000)]

    expected = reference(b"p" * 64, made())
    victim = made()
    go, emptied = threading.Event(), threading.Event()

    def vandal():
        go.wait()
        victim.clear()  # the strings' last references
        victim.extend(f"new{k}" for k in range(100))
        emptied.set()

    thread = threading.Thread(target=vandal)
    thread.start()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1.0)  # the vandal runs only while the extension has released the GIL
    monkeypatch.setattr(K, "implementation", "portable")  # slow enough (~50 ms) for it to run then
    try:
        go.set()
        got = K.digests(b"p" * 64, victim, 1)  # one thread: a core stays free for the vandal
        emptied_meanwhile = emptied.is_set()
    finally:
        sys.setswitchinterval(interval)
        thread.join()
    assert emptied_meanwhile  # else the test proved nothing
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(keys=st.lists(st.integers(0, 2**30 - 1) | st.sampled_from([0, 7, 999_999_999]), max_size=300))
def test_the_radix_sort_of_keys_is_a_stable_argsort(keys):
    """Equal keys (duplicate ids, prefix ties) come out in position order, as a stable argsort."""
    array = np.array(keys, dtype=np.uint64)
    order, ordered = sort_keys(array)
    assert order.tolist() == np.argsort(array, kind="stable").tolist()
    assert ordered.tolist() == sorted(keys)


def test_the_radix_sort_refuses_keys_it_cannot_sort():
    with pytest.raises(ValueError, match="key 2 is not below 2\\*\\*30"):
        sort_keys(np.array([5, 1, 2**30, 3], dtype=np.uint64))
    with pytest.raises(ValueError, match="uint64s"):
        from inspect_kit import _sha256x

        _sha256x.sort_keys(b"12345")


def test_a_fresh_process_draws_without_importing_numpy():
    """Importing numpy costs a fresh process more than drawing 300,000 ids with the extension: the
    draw package loads its numpy-using modules on first use, and the compiled select avoids them."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from inspect_kit.draw import select\n"
        "drawn = select('种子', ['企业' + str(k) for k in range(50)] + ['a', 'b'], 5)\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
        "print(' '.join(s.id for s in drawn))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ids = ["企业" + str(k) for k in range(50)] + ["a", "b"]
    assert done.stdout.split() == list(sampler(ids, seed="种子", with_replacement=False, take=5, output="id"))


def test_the_draw_package_still_offers_every_name():
    import inspect_kit.draw as draw

    namespace: dict[str, object] = {}
    exec("from inspect_kit.draw import *", namespace)
    assert set(draw.__all__) <= set(namespace)
    assert draw.build_bundle.__module__ == "inspect_kit.draw.core.bundle"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        draw.nothing  # noqa: B018
