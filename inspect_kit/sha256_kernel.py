"""SHA-256 of prefix + message for millions of short messages, compiled: `digests(prefix, messages)`.

    digests(prefix, messages) == b"".join(hashlib.sha256(prefix + m.encode()).digest() for m in messages)

The same bytes as inspect_kit.hashing.sha256_block, without a Python call per message: the messages
are encoded once into one buffer, the prefix's full 64-byte blocks are compressed once (the
midstate), and a numba kernel finishes every message (its bytes, the 0x80 marker, the bit length:
FIPS 180-4 padding) on all threads given, each thread a contiguous range of messages. A digest does
not depend on the thread that computed it, so the result is the same for any number of threads.
Tests compare it with hashlib on random Unicode, empty and multi-block messages and prefixes of
every length around the block size.

numba compiles the kernel on first use (seconds) and caches it beside this file; `available()` says
whether numba is installed. Callers use it only where it pays (see inspect_kit.draw.core.sampler):
importing numba and loading the cached kernel cost about 0.3 s.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

_K = np.array(
    [
        0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
        0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
        0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
        0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
        0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
        0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
        0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
        0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
    ],
    dtype=np.uint32,
)  # fmt: skip
_IV = np.array(
    [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19], dtype=np.uint32
)


def available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


# The kernel's functions are plain Python below (readable, and runnable uncompiled in a test);
# _compiled() compiles them with numba. uint32 wrap-around is made explicit by np.uint32(...).


def _rotr(x: Any, n: int) -> Any:
    return np.uint32((x >> n) | (x << (32 - n)))


def _compress(h: Any, blk: Any, w: Any) -> None:  # pragma: no cover - compiled
    """One SHA-256 compression of the 64-byte block `blk` into the state `h` (w: 64-word scratch)."""
    rotr = _rotr
    for t in range(16):
        w[t] = np.uint32(
            (np.uint32(blk[4 * t]) << 24)
            | (np.uint32(blk[4 * t + 1]) << 16)
            | (np.uint32(blk[4 * t + 2]) << 8)
            | np.uint32(blk[4 * t + 3])
        )
    for t in range(16, 64):
        x = w[t - 15]
        y = w[t - 2]
        s0 = np.uint32(rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3))
        s1 = np.uint32(rotr(y, 17) ^ rotr(y, 19) ^ (y >> 10))
        w[t] = np.uint32(w[t - 16] + s0 + w[t - 7] + s1)
    a, b, c, d, e, f, g, hh = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    ones = np.uint32(0xFFFFFFFF)
    for t in range(64):
        s1 = np.uint32(rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25))
        ch = np.uint32((e & f) ^ ((e ^ ones) & g))
        t1 = np.uint32(hh + s1 + ch + _K[t] + w[t])
        s0 = np.uint32(rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22))
        mj = np.uint32((a & b) ^ (a & c) ^ (b & c))
        t2 = np.uint32(s0 + mj)
        hh, g, f, e, d, c, b, a = g, f, e, np.uint32(d + t1), c, b, a, np.uint32(t1 + t2)
    h[0] = np.uint32(h[0] + a)
    h[1] = np.uint32(h[1] + b)
    h[2] = np.uint32(h[2] + c)
    h[3] = np.uint32(h[3] + d)
    h[4] = np.uint32(h[4] + e)
    h[5] = np.uint32(h[5] + f)
    h[6] = np.uint32(h[6] + g)
    h[7] = np.uint32(h[7] + hh)


def _finish_range(  # pragma: no cover - compiled
    mid: Any, tail: Any, prefix_len: int, data: Any, offsets: Any, out: Any, lo: int, hi: int
) -> None:
    """out[i] = the digest of prefix + data[offsets[i]:offsets[i+1]] for lo <= i < hi, from the
    prefix's midstate `mid` and its last (len < 64) bytes `tail`."""
    w = np.empty(64, np.uint32)
    blk = np.empty(64, np.uint8)
    h = np.empty(8, np.uint32)
    nt = tail.shape[0]
    for i in range(lo, hi):
        start = offsets[i]
        length = offsets[i + 1] - start
        m = nt + length  # bytes after the midstate, before padding
        n_blocks = (m + 9 + 63) // 64
        bits = np.uint64((prefix_len + length) * 8)
        for k in range(8):
            h[k] = mid[k]
        for b in range(n_blocks):
            base = b * 64
            for k in range(64):
                blk[k] = 0
            for j in range(base, min(base + 64, m)):
                blk[j - base] = tail[j] if j < nt else data[start + j - nt]
            if base <= m < base + 64:
                blk[m - base] = 0x80
            if b == n_blocks - 1:
                for k in range(8):
                    blk[56 + k] = np.uint8((bits >> np.uint64(8 * (7 - k))) & np.uint64(0xFF))
            _compress(h, blk, w)
        for k in range(8):
            out[i, 4 * k] = np.uint8(h[k] >> 24)
            out[i, 4 * k + 1] = np.uint8((h[k] >> 16) & 0xFF)
            out[i, 4 * k + 2] = np.uint8((h[k] >> 8) & 0xFF)
            out[i, 4 * k + 3] = np.uint8(h[k] & 0xFF)


def _finish_all(prefix: Any, data: Any, offsets: Any, out: Any, parts: int) -> None:  # pragma: no cover - compiled
    """out[i] = the digest of prefix + data[offsets[i]:offsets[i+1]] for every i, in `parts`
    contiguous ranges run in parallel; the prefix's full blocks are compressed once, first."""
    mid = _IV.copy()
    w = np.empty(64, np.uint32)
    full = prefix.shape[0] // 64 * 64
    for s in range(0, full, 64):
        _compress(mid, prefix[s : s + 64], w)
    tail = prefix[full:]
    n = offsets.shape[0] - 1
    for p in _prange(parts):
        _finish_range(mid, tail, prefix.shape[0], data, offsets, out, n * p // parts, n * (p + 1) // parts)


# One parallel launch at a time: numba's fallback threading layer (workqueue) aborts the process
# when two threads (a web server's) launch parallel kernels at once.
_launch = threading.Lock()
_prange: Any = range  # numba.prange once compiled
_kernel: Any = None  # (compress, finish_all) compiled; typed Any: numba ships no types


def _compiled() -> Any:
    global _kernel, _compress, _finish_range, _finish_all, _rotr, _prange
    if _kernel is None:
        import numba

        _prange = numba.prange
        # The compiled functions call each other by these module names, so they are rebound here.
        _rotr = numba.njit(inline="always", cache=True)(_rotr)
        _compress = numba.njit(inline="always", cache=True)(_compress)
        _finish_range = numba.njit(cache=True, nogil=True)(_finish_range)
        _finish_all = numba.njit(cache=True, nogil=True, parallel=True)(_finish_all)
        _kernel = (_compress, _finish_all)
    return _kernel


def _encoded(messages: Sequence[str]) -> tuple[bytes, npt.NDArray[np.int64]]:
    """The messages' UTF-8 bytes back to back, and the offsets (n + 1) of each in them."""
    from inspect_kit.hashing import PackedIds

    if isinstance(messages, PackedIds):  # already so
        return messages.data, np.asarray(messages.offsets, dtype=np.int64)
    data = "".join(messages).encode()
    n = len(messages)
    offsets = np.zeros(n + 1, dtype=np.int64)
    if len(data) == sum(map(len, messages)):  # all ASCII: one byte per character
        lengths = np.fromiter(map(len, messages), dtype=np.int64, count=n)
    else:
        lengths = np.fromiter(map(len, map(str.encode, messages)), dtype=np.int64, count=n)
    np.cumsum(lengths, out=offsets[1:])
    return data, offsets


def digests(prefix: bytes, messages: Sequence[str], threads: int = 1) -> bytes:
    """The 32-byte digests of prefix + message (UTF-8) for each message, concatenated in order,
    computed on `threads` threads (numba's, at most as many as it has)."""
    import numba

    _, finish_all = _compiled()
    data, offsets = _encoded(messages)
    out = np.empty((len(messages), 32), dtype=np.uint8)
    if len(messages):
        threads = max(1, min(threads, int(getattr(numba.config, "NUMBA_NUM_THREADS", 1))))
        with _launch:
            _launch_parallel(finish_all, prefix, data, offsets, out, threads)
    return out.tobytes()


def _launch_parallel(finish_all: Any, prefix: bytes, data: bytes, offsets: Any, out: Any, threads: int) -> None:
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        parts = threads * 8 if len(offsets) > 10_000 else 1
        head = np.frombuffer(prefix, dtype=np.uint8)
        finish_all(head, np.frombuffer(data, dtype=np.uint8), offsets, out, parts)
    finally:
        numba.set_num_threads(previous)
