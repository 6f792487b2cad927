"""SHA-256 of prefix + message for millions of short messages, compiled: `digests(prefix, messages)`.

    digests(prefix, messages) == b"".join(hashlib.sha256(prefix + m.encode()).digest() for m in messages)

The same bytes as inspect_kit.hashing.sha256_block, computed by the C extension inspect_kit._sha256x
(inspect_kit/_sha256x.c, built by `pip install -e .`; optional: `available()` says whether it was
built, and the callers fall back to hashlib without it). The prefix's full 64-byte blocks are
compressed once (the midstate), then each message costs one or two compressions (the prefix of a
draw's tickets, hex(sha256(seed)), is exactly one block): by the CPU's SHA extensions where it has
them (x86 SHA-NI, detected at run time; two one-block messages at a time), else by portable C.
Messages are a list or tuple of str, identifiers already packed (hashing.PackedIds: hashed straight
from their buffer), or decimal counters written by the extension (`counter_digests`, a
HashStream's blocks). The GIL is released while hashing, and `threads` threads take CHUNK messages
at a time from a shared counter (read straight from the str objects, which a private tuple holds):
a digest does not depend on the thread that computed it, so the result is the same for any number
of threads. Tests compare it with hashlib on random Unicode, empty and multi-block messages and
prefixes of every length around the block size, with either compression and any number of threads.

Instead of the digests, the extension gives the first 9 digits of each consistent-sampler ticket
(the selection key of inspect_kit.draw.core.sampler), sorted by a radix sort (`ranked`), and
`tickets_of` writes the full tickets of chosen digests. Importing it
costs well under a millisecond, and numpy is imported only by the functions that return arrays:
callers use it at every size.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

try:
    from inspect_kit import _sha256x
except ImportError:  # not built (no C compiler at install): the callers use hashlib
    _sha256x = None  # type: ignore[assignment]

# The compression the extension uses: "auto" (SHA-NI where the CPU has it), "portable" or "sha-ni".
# Tests set it to compare them.
IMPLEMENTATIONS = {"auto": 0, "portable": 1, "sha-ni": 2}
implementation = "auto"
CHUNK = 4_096  # messages a thread takes at once (a few hundred microseconds of work)
# One more thread pays from this many messages on: starting one costs some 50 µs, ~500 digests.
PER_THREAD = 16_384


def available() -> bool:
    """Whether the C extension was built (else callers hash with hashlib: the same bytes)."""
    return _sha256x is not None


def accelerated() -> str | None:
    """ "sha-ni" where the extension compresses with the CPU's SHA extensions, else None."""
    _require()
    return _sha256x.accelerated()


def threads_for(n: int) -> int:
    """Threads for n messages: one per PER_THREAD messages, at most one per core this process may
    use. A busy core costs little: the threads share the work chunk by chunk."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, n // PER_THREAD))


def _require() -> None:
    if not available():
        raise RuntimeError("the C extension inspect_kit._sha256x is not built (pip install -e . builds it)")


def digests(prefix: bytes, messages: Sequence[str], threads: int | None = None) -> bytes:
    """The 32-byte digests of prefix + message (UTF-8) for each message, concatenated in order,
    computed on `threads` threads (default `threads_for(len(messages))`)."""
    block = _hash(prefix, messages, threads, digests=True, keys=False)[0]
    assert block is not None
    return block


class Ranked(NamedTuple):
    """All messages ranked on their ticket keys (see `ranked`)."""

    order: memoryview  # int64: the positions of the messages in ascending key order
    ordered: memoryview  # uint64: their keys in that order
    ties: list[int]  # the j where ordered[j] == ordered[j + 1]


def ranked(prefix: bytes, messages: Sequence[str], threads: int | None = None) -> Ranked:
    """The messages' ticket keys (the first 9 digits of each ticket) sorted by the extension's radix sort (equal
    keys in position order), without numpy: a fresh process that draws need not import it."""
    keys = _hash(prefix, messages, threads, digests=False, keys=True)[1]
    assert keys is not None
    order, ordered, ties = _sha256x.sort_keys(keys)
    return Ranked(memoryview(order).cast("q"), memoryview(ordered).cast("Q"), ties)


def _hash(
    prefix: bytes, messages: Sequence[str], threads: int | None, digests: bool, keys: bool
) -> tuple[bytes | None, bytes | None]:
    from inspect_kit.hashing import PackedIds

    _require()
    threads = threads_for(len(messages)) if threads is None else threads
    impl = IMPLEMENTATIONS[implementation]
    if isinstance(messages, PackedIds):
        return _sha256x.hash_packed(prefix, messages.data, messages.offsets, threads, CHUNK, digests, keys, impl)
    items = messages if isinstance(messages, (list, tuple)) else list(messages)
    return _sha256x.hash_strs(prefix, items, threads, CHUNK, digests, keys, impl)


# The extension writes counters as unsigned 64-bit numbers.
MAX_COUNTER = 2**64 - 1


def counter_digests(prefix: bytes, first: int, n: int, threads: int | None = None) -> npt.NDArray[np.uint8]:
    """The (n, 32) digests of prefix + str(first + i) for i < n (a HashStream's blocks), the
    decimal counters written by the extension rather than listed as Python strings."""
    if not 0 <= first <= first + n <= MAX_COUNTER + 1:
        raise ValueError(f"counters {first}..{first + n - 1} outside 0..2**64 - 1")
    import numpy as np

    _require()
    threads = threads_for(n) if threads is None else threads
    block = _sha256x.hash_counters(prefix, first, n, threads, CHUNK, IMPLEMENTATIONS[implementation])
    return np.frombuffer(block, dtype=np.uint8).reshape(n, 32)


def tickets_of(block: bytes | npt.NDArray[np.uint8], indexes: Sequence[int]) -> list[str]:
    """The consistent-sampler ticket strings ("0." + format(x, "064d")[::-1], x the digest as a
    number) of the 32-byte digests at these positions of block (concatenated digests, or an (n, 32)
    array of them)."""
    _require()
    return _sha256x.tickets_of(block, indexes)
