"""Many short SHA-256 digests with a shared prefix, on every core that pays: `sha256_block`.

    sha256_block(prefix_state, messages) == b"".join(prefix_state.copy() + m.encode() → digest
                                                     for m in messages)

The draw's tickets (prefix: hex(sha256(seed)), messages: identifiers) and the team sampler's random
stream (prefix: "seed:domain:", messages: decimal counters) both need millions of them. hashlib
holds the GIL for inputs this short, so threads do not help; from PARALLEL_MIN messages on, forked
worker processes hash contiguous slices of the message list (inherited at fork, not copied) while
this process hashes the first one; each returns its digests as one bytes block through a pipe, and
the blocks are joined in slice order. A digest does not depend on who computed it, so the result is
byte-identical for any number of workers.

Workers are only forked where that is safe and pays: a "fork" start method exists, this process
runs a single thread (forking a threaded process can deadlock the child), and a core is idle (the
load average leaves one spare: on a busy machine a worker only competes with this process, which
measured slower than hashing alone). A worker that
cannot be started, dies, or returns the wrong length is replaced by hashing its slice here, so a
failure costs time, never a different result.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any, overload

try:  # PackedIds.take in C (packed_take in inspect_kit/_sha256x.c)
    from inspect_kit import _sha256x as _compiled
except ImportError:  # not built: decoded in Python, the same strings
    _compiled = None  # type: ignore[assignment]
if _compiled is not None and not hasattr(_compiled, "packed_take"):  # built before it
    _compiled = None  # type: ignore[assignment]


class PackedIds(Sequence[str]):
    """Identifiers held as one UTF-8 buffer and the offsets of each in it (n + 1, int64): about 26
    bytes an identifier of 18 instead of a Python str's 75 plus its list slot (a 10-million-row
    frame: 0.26 GB instead of 0.83). A Sequence[str] (indexing decodes one identifier), which
    `sha256_block` and the compiled kernel hash straight from the buffer. `offsets`: any buffer
    of native int64s (bytes, a numpy array), held as a memoryview — no numpy needed to draw."""

    __slots__ = ("data", "offsets")

    def __init__(self, data: bytes, offsets: Any) -> None:
        view = memoryview(offsets)
        int64 = view.format in ("q", "l") and view.itemsize == 8  # "l": numpy's int64 on Linux
        if not (int64 or view.format == "B") or view.nbytes % 8 or not view.c_contiguous:
            raise ValueError("offsets must be contiguous int64s (or their bytes)")
        self.data, self.offsets = data, view.cast("B").cast("q")

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        n = len(self)
        if not -n <= i < n:
            raise IndexError("identifier index out of range")
        i = i + n if i < 0 else i
        return self.data[self.offsets[i] : self.offsets[i + 1]].decode()

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def bounds(self, lo: int, hi: int) -> tuple[list[int], list[int]]:
        """Where identifiers lo..hi-1 start and end in `data`."""
        offs = self.offsets[lo : hi + 1].tolist()
        return offs[:-1], offs[1:]

    def take(self, indices: Sequence[int]) -> list[str]:
        """The identifiers at these positions (each in 0..len - 1), decoded (in C where the
        extension is built: packed_take)."""
        if _compiled is not None:
            return _compiled.packed_take(self.data, self.offsets, indices)
        if indices and (min(indices) < 0 or max(indices) >= len(self)):
            raise IndexError("identifier index out of range")
        data, offs = self.data, self.offsets
        return [data[offs[i] : offs[i + 1]].decode() for i in indices]


# Below this many messages one core is faster: a fork and the pipe cost ~5-10 ms, about what
# 25,000 digests take.
PARALLEL_MIN = 100_000
CHUNK = 65_536  # digests listed at once before they join the block


def parallel_workers(n_messages: int) -> int:
    """How many processes `sha256_block` uses for n_messages here: 1 (this one) or more."""
    if n_messages < PARALLEL_MIN or threading.active_count() > 1:
        return 1
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(spare_cores() + 1, n_messages // max(1, PARALLEL_MIN // 2)))


def spare_cores() -> int:
    """Cores beyond this process's own that nothing else seems to use (from the 1-minute load)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        busy = os.getloadavg()[0]  # this process included, once it has run for a while
    except OSError:
        busy = 1.0
    return max(0, min(cores - 1, round(cores - max(busy, 1.0))))


def sha256_block(prefix_state: "hashlib._Hash", messages: Sequence[str] | range, workers: int | None = None) -> bytes:
    """The 32-byte digests of prefix + message (UTF-8) for each message, concatenated in order.

    `messages` may also be a range of integers, each hashed as its decimal digits (a stream's counters).

    `workers` processes share the work (default `parallel_workers(len(messages))`).
    """
    n = len(messages)
    workers = parallel_workers(n) if workers is None else max(1, min(workers, n))
    if workers == 1:
        return _hash_bytes(prefix_state, messages, 0, n)
    bounds = [n * k // workers for k in range(workers + 1)]
    slices = list(zip(bounds[1:-1], bounds[2:]))
    children = [_fork_hasher(prefix_state, messages, lo, hi) for lo, hi in slices]
    blocks = [_hash_bytes(prefix_state, messages, 0, bounds[1])]
    blocks += [_collect(child, prefix_state, messages, lo, hi) for (lo, hi), child in zip(slices, children)]
    return b"".join(blocks)


def _hash_bytes(prefix_state: "hashlib._Hash", messages: Sequence[str] | range, lo: int, hi: int) -> bytes:
    """messages[lo:hi] hashed into one block, CHUNK digests at a time: a list of ten million
    digest objects would take twice the memory of the block itself."""
    if hi - lo <= CHUNK:
        return b"".join(_hash_slice(prefix_state, messages, lo, hi))
    block = bytearray()
    for start in range(lo, hi, CHUNK):
        block += b"".join(_hash_slice(prefix_state, messages, start, min(start + CHUNK, hi)))
    return bytes(block)


def _hash_slice(prefix_state: "hashlib._Hash", messages: Sequence[str] | range, lo: int, hi: int) -> list[bytes]:
    # A plain loop over a copied state is the fastest pure-Python form measured: one sha256()
    # construction per message (as in sha256(prefix + m)) costs more, and so do map() pipelines.
    # encode() without arguments is UTF-8 through a faster path than encode("utf-8").
    copy = prefix_state.copy
    digests: list[bytes] = []
    append = digests.append
    if isinstance(messages, PackedIds):  # bytes straight from the buffer
        data = messages.data
        for a, b in zip(*messages.bounds(lo, hi)):
            state = copy()
            state.update(data[a:b])
            append(state.digest())
        return digests
    part = messages[lo:hi]
    if isinstance(part, range):  # decimal counters, made here rather than listed by the caller
        for number in part:
            state = copy()
            state.update(b"%d" % number)
            append(state.digest())
        return digests
    for message in part:
        state = copy()
        state.update(message.encode())
        append(state.digest())
    return digests


def _fork_hasher(
    prefix_state: "hashlib._Hash", messages: Sequence[str] | range, lo: int, hi: int
) -> tuple[Any, Any] | None:
    """A forked process hashing messages[lo:hi] into a pipe, or None if none could be started."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    try:
        process = context.Process(target=_hash_into_pipe, args=(prefix_state, messages, lo, hi, send), daemon=True)
        process.start()
    except OSError:
        receive.close()
        send.close()
        return None
    send.close()
    return process, receive


def _hash_into_pipe(
    prefix_state: "hashlib._Hash", messages: Sequence[str] | range, lo: int, hi: int, send: Any
) -> None:
    send.send_bytes(_hash_bytes(prefix_state, messages, lo, hi))
    send.close()


def _collect(
    child: tuple[Any, Any] | None, prefix_state: "hashlib._Hash", messages: Sequence[str] | range, lo: int, hi: int
) -> bytes:
    """The child's block, or the slice hashed here if the child failed."""
    block = b""
    if child is not None:
        process, receive = child
        try:
            block = receive.recv_bytes()
        except (EOFError, OSError):
            block = b""
        finally:
            receive.close()
            process.join()
    if len(block) != 32 * (hi - lo):
        block = _hash_bytes(prefix_state, messages, lo, hi)
    return block
