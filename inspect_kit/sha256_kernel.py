"""SHA-256 of prefix + message for millions of short messages, compiled: `digests(prefix, messages)`.

    digests(prefix, messages) == b"".join(hashlib.sha256(prefix + m.encode()).digest() for m in messages)

The same bytes as inspect_kit.hashing.sha256_block, without a Python call per message: the messages
are encoded chunk by chunk into one buffer each (joined with NUL separators, see _encoded), the
prefix's full 64-byte blocks are compressed once per chunk (the midstate), and a numba kernel
finishes every message (its bytes, the 0x80 marker, the bit length: FIPS 180-4 padding). Blocks
are compressed by OpenSSL's SHA256_Transform, called from the kernel (the library hashlib uses; SHA
extensions where the CPU has them), if it is found and gives hashlib's digests on a check at load;
else by the kernel's own SHA-256. On several threads, this thread encodes the next chunk while
helper threads hash the previous ones (the kernel releases the GIL), then it hashes too. A digest
does not depend on the thread that computed it, so the result is the same for any number of
threads. Tests compare it with hashlib on random Unicode, empty and multi-block messages and
prefixes of every length around the block size, with either compression.

Beside each digest the kernel gives the first 9 digits of its consistent-sampler ticket (the
selection key of inspect_kit.draw.core.sampler), `tickets_of` writes the full tickets of chosen
digests, and `counter_digests` hashes decimal counters (a HashStream's blocks) without listing them.

numba compiles the kernel on first use (seconds) and caches it beside this file; `available()` says
whether numba is installed. Callers use it only where it pays (see inspect_kit.draw.core.sampler):
importing numba and loading the cached kernel cost about 0.5 s (benchmarks/bench_tickets.py prints it)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
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
    mid: Any,
    tail: Any,
    prefix_len: int,
    data: Any,
    offsets: Any,
    gap: int,
    out: Any,
    keys: Any,
    transform: int,
    lo: int,
    hi: int,
) -> None:
    """out[i] = the digest of prefix + data[offsets[i]:offsets[i+1] - gap] for lo <= i < hi, from
    the prefix's midstate `mid` and its last (len < 64) bytes `tail`; keys[i] = the digest's
    ticket prefix key (see _ticket_key). Blocks are compressed by the C function at address
    `transform` (OpenSSL's SHA256_Transform) if it is not 0, else by _compress."""
    w = np.empty(64, np.uint32)
    blk = np.zeros(64, np.uint8)
    ctx = np.zeros(28, np.uint32)  # OpenSSL's SHA256_CTX; its first 8 words are the state
    h = ctx[:8]
    ctx_address = ctx.ctypes.data
    blk_address = blk.ctypes.data
    nt = tail.shape[0]
    for i in range(lo, hi):
        start = offsets[i]
        length = offsets[i + 1] - gap - start
        m = nt + length  # bytes after the midstate, before padding
        n_blocks = (m + 9 + 63) // 64
        bits = np.uint64((prefix_len + length) * 8)
        for k in range(8):
            h[k] = mid[k]
        for b in range(n_blocks):
            base = b * 64
            stop = min(base + 64, m)
            j = base
            while j < stop and j < nt:
                blk[j - base] = tail[j]
                j += 1
            src = start + j - nt
            for k in range(j - base, stop - base):
                blk[k] = data[src]
                src += 1
            for k in range(max(stop - base, 0), 64):
                blk[k] = 0
            if base <= m < base + 64:
                blk[m - base] = 0x80
            if b == n_blocks - 1:
                for k in range(8):
                    blk[56 + k] = np.uint8((bits >> np.uint64(8 * (7 - k))) & np.uint64(0xFF))
            if transform != 0:
                _transform(transform, ctx_address, blk_address)
            else:
                _compress(h, blk, w)
        for k in range(8):
            out[i, 4 * k] = np.uint8(h[k] >> 24)
            out[i, 4 * k + 1] = np.uint8((h[k] >> 16) & 0xFF)
            out[i, 4 * k + 2] = np.uint8((h[k] >> 8) & 0xFF)
            out[i, 4 * k + 3] = np.uint8(h[k] & 0xFF)
        keys[i] = _ticket_key(h)


def _ticket_key(h: Any) -> Any:  # pragma: no cover - compiled
    """The first 9 digits of the digest's ticket as one integer (draw.core.sampler._prefix_keys):
    x mod 10**9 of the digest x (big-endian 32-bit words h), written with 9 digits and reversed.
    Horner's rule on the words: r < 10**9 < 2**30, so r * 2**32 + word < 2**63 stays exact."""
    modulus = np.uint64(1_000_000_000)
    r = np.uint64(0)
    for k in range(8):
        r = ((r << np.uint64(32)) | np.uint64(h[k])) % modulus
    key = np.uint64(0)
    ten = np.uint64(10)
    for _ in range(9):
        key = key * ten + r % ten
        r //= ten
    return key


def _finish_all(  # pragma: no cover - compiled
    prefix: Any, data: Any, offsets: Any, gap: int, out: Any, keys: Any, transform: int
) -> None:
    """_finish_range for every message; the prefix's full blocks are compressed first, once."""
    mid = _IV.copy()
    w = np.empty(64, np.uint32)
    full = prefix.shape[0] // 64 * 64
    for s in range(0, full, 64):
        _compress(mid, prefix[s : s + 64], w)
    tail = prefix[full:]
    _finish_range(mid, tail, prefix.shape[0], data, offsets, gap, out, keys, transform, 0, offsets.shape[0] - 1)


def _write_counters(first: int, data: Any, offsets: Any) -> None:  # pragma: no cover - compiled
    """data[offsets[i]:offsets[i + 1]] = the decimal digits of first + i (offsets[0] = 0)."""
    pos = 0
    for i in range(offsets.shape[0] - 1):
        number = first + i
        width = 1
        power = 10
        while number >= power:
            width += 1
            power *= 10
        for k in range(width - 1, -1, -1):
            data[pos + k] = 48 + number % 10
            number //= 10
        pos += width
        offsets[i + 1] = pos


def _counters(first: int, n: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """(data, offsets) of the messages str(first), str(first + 1), ..., str(first + n - 1)."""
    last = first + n - 1
    data = np.empty(n * len(str(max(last, 0))), dtype=np.uint8)  # no counter has more digits
    offsets = np.zeros(n + 1, dtype=np.int64)
    _write_counters_compiled(first, data, offsets)
    return data, offsets


def _write_tickets(digests: Any, indexes: Any, text: Any) -> int:  # pragma: no cover - compiled
    """The consistent-sampler tickets of digests[indexes] (see inspect_kit.draw.core.sampler), each
    "0." + the decimal digits of the digest x from the lowest up, at least 64 of them, followed by
    a newline, written into `text`; returns the number of bytes written.

    "0." + format(x, "064d")[::-1] is exactly that: the digits of x reversed start with its units,
    and the zeros that pad it on the left to 64 digits come last. x is divided by 10**9 as eight
    32-bit limbs, 9 digits per division (each remainder * 2**32 + limb < 2**62: exact in uint64).
    """
    limbs = np.empty(8, np.uint64)
    billion = np.uint64(1_000_000_000)
    ten = np.uint64(10)
    pos = 0
    for i in indexes:
        for k in range(8):
            limbs[k] = (
                (np.uint64(digests[i, 4 * k]) << np.uint64(24))
                | (np.uint64(digests[i, 4 * k + 1]) << np.uint64(16))
                | (np.uint64(digests[i, 4 * k + 2]) << np.uint64(8))
                | np.uint64(digests[i, 4 * k + 3])
            )
        text[pos] = 48  # "0"
        text[pos + 1] = 46  # "."
        pos += 2
        first = pos
        last = pos  # one past the last nonzero digit written
        top = 0  # limbs[:top] are zero
        while top < 8:
            r = np.uint64(0)
            for k in range(top, 8):
                cur = (r << np.uint64(32)) | limbs[k]
                limbs[k] = cur // billion
                r = cur % billion
            while top < 8 and limbs[top] == 0:
                top += 1
            for _ in range(9):
                digit = r % ten
                r //= ten
                text[pos] = 48 + digit
                pos += 1
                if digit != 0:
                    last = pos
        pos = max(last, first + 64)  # drop the zeros above the top digit, keep 64 digits at least
        for k in range(last, pos):
            text[k] = 48
        text[pos] = 10  # newline
        pos += 1
    return pos


def tickets_of(block: bytes | npt.NDArray[np.uint8], indexes: Sequence[int]) -> list[str]:
    """The consistent-sampler ticket strings of the 32-byte digests at these positions of block
    (concatenated digests, or an (n, 32) array of them)."""
    _compiled()
    text = np.empty(len(indexes) * 82, dtype=np.uint8)  # "0." + at most 81 digits + newline
    digests = np.frombuffer(block, dtype=np.uint8).reshape(-1, 32) if isinstance(block, bytes) else block
    end = _write_tickets_compiled(digests, np.asarray(indexes, dtype=np.int64), text)
    return text[: end - 1].tobytes().decode("ascii").split("\n") if end else []


_kernel: Any = None  # (compress, finish_all) compiled; typed Any: numba ships no types
_transform: Any = None  # numba intrinsic: call the C function at an address (ctx, block)
_write_tickets_compiled: Any = None
_write_counters_compiled: Any = None
_openssl = 0  # address of OpenSSL's SHA256_Transform once checked against hashlib, else 0


def _compiled() -> Any:
    global _kernel, _compress, _finish_range, _finish_all, _rotr, _ticket_key, _transform, _openssl
    global _write_tickets_compiled, _write_counters_compiled
    if _kernel is None:
        import numba

        _transform = _call_intrinsic()
        # The compiled functions call each other by these module names, so they are rebound here.
        _rotr = numba.njit(inline="always", cache=True)(_rotr)
        _compress = numba.njit(inline="always", cache=True)(_compress)
        _ticket_key = numba.njit(inline="always", cache=True)(_ticket_key)
        _finish_range = numba.njit(cache=True, nogil=True)(_finish_range)
        _finish_all = numba.njit(cache=True, nogil=True)(_finish_all)
        _write_tickets_compiled = numba.njit(cache=True, nogil=True)(_write_tickets)
        _write_counters_compiled = numba.njit(cache=True, nogil=True)(_write_counters)
        _kernel = (_compress, _finish_all)
        _openssl = _checked_openssl_transform()
    return _kernel


def _call_intrinsic() -> Any:
    """`call(address, ctx, block)`: a call of the C function `void f(void *, const void *)` at
    `address`, inlined in compiled code (so the address is an argument, and the kernel caches)."""
    from llvmlite import ir  # type: ignore[import-untyped]
    from numba.core import types
    from numba.extending import intrinsic

    @intrinsic
    def call(typingctx: Any, address: Any, ctx: Any, block: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            pointer = ir.IntType(8).as_pointer()
            function = ir.FunctionType(ir.VoidType(), [pointer, pointer])
            target = builder.inttoptr(args[0], function.as_pointer())
            builder.call(target, [builder.inttoptr(args[1], pointer), builder.inttoptr(args[2], pointer)])
            return context.get_dummy_value()

        return types.void(types.int64, types.uintp, types.uintp), codegen

    return call


def _checked_openssl_transform() -> int:
    """The address of OpenSSL's SHA256_Transform (the library hashlib uses: SHA extensions where
    the CPU has them, several times faster than _compress) if it gives hashlib's digests on
    messages of every padding case, else 0 (then _compress runs)."""
    import ctypes
    import ctypes.util
    import hashlib

    name = ctypes.util.find_library("crypto")
    try:
        address = ctypes.cast(ctypes.CDLL(name).SHA256_Transform, ctypes.c_void_p).value if name else None
    except (OSError, AttributeError):
        address = None
    if not address:
        return 0
    prefix = b"p" * 64
    messages = ["", "a" * 55, "b" * 56, "c" * 64, "企业" * 40]
    expected = b"".join(hashlib.sha256(prefix + m.encode()).digest() for m in messages)
    data, offsets, gap = _encoded(messages)
    out = np.empty((len(messages), 32), dtype=np.uint8)
    keys = np.empty(len(messages), dtype=np.uint64)
    _finish_all(np.frombuffer(prefix, dtype=np.uint8), data, offsets, gap, out, keys, address)
    return address if out.tobytes() == expected else 0


def _encoded(messages: Sequence[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], int]:
    """(data, offsets, gap): message i's UTF-8 bytes are data[offsets[i] : offsets[i + 1] - gap].

    The messages are joined with NUL bytes (gap 1) and split where those are, unless a message
    holds a NUL itself; then they are joined without separator and measured one by one (gap 0).
    Either way each message is read from Python once or twice, never per byte.
    """
    n = len(messages)
    offsets = np.zeros(n + 1, dtype=np.int64)
    data = "\0".join(messages).encode()
    if n and data.count(0) == n - 1:
        buffer = np.frombuffer(data, dtype=np.uint8)
        offsets[1:n] = np.flatnonzero(buffer == 0) + 1
        offsets[n] = len(data) + 1
        return buffer, offsets, 1
    data = "".join(messages).encode()
    if len(data) == sum(map(len, messages)):  # all ASCII: one byte per character
        lengths = np.fromiter(map(len, messages), dtype=np.int64, count=n)
    else:
        lengths = np.fromiter(map(len, map(str.encode, messages)), dtype=np.int64, count=n)
    np.cumsum(lengths, out=offsets[1:])
    return np.frombuffer(data, dtype=np.uint8), offsets, 0


def _encoded_range(
    messages: Sequence[str], lo: int, hi: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], int]:
    """`_encoded` of messages lo..hi-1; identifiers already packed (hashing.PackedIds: one UTF-8
    buffer and offsets) are sliced from their buffer, never decoded."""
    from inspect_kit.hashing import PackedIds

    if isinstance(messages, PackedIds):
        offsets = np.asarray(messages.offsets[lo : hi + 1], dtype=np.int64)
        start, end = int(offsets[0]), int(offsets[-1])
        return np.frombuffer(messages.data, dtype=np.uint8)[start:end], offsets - start, 0
    return _encoded(messages[lo:hi])


def digests(prefix: bytes, messages: Sequence[str], threads: int = 1) -> bytes:
    """The 32-byte digests of prefix + message (UTF-8) for each message, concatenated in order,
    computed on `threads` threads (numba's, at most as many as it has)."""
    return digests_and_keys(prefix, messages, threads)[0].tobytes()


def digests_and_keys(
    prefix: bytes, messages: Sequence[str], threads: int = 1
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint64]]:
    """The digests of `digests(...)` as an (n, 32) array, and for each the first 9 digits of its
    ticket as a uint64 (inspect_kit.draw.core.sampler._prefix_keys, computed while hashing)."""
    _compiled()
    return _hash_chunks(prefix, len(messages), lambda lo, hi: _encoded_range(messages, lo, hi), threads)


def counter_digests(prefix: bytes, first: int, n: int, threads: int = 1) -> npt.NDArray[np.uint8]:
    """The (n, 32) digests of prefix + str(first + i) for i < n (a HashStream's blocks), the
    decimal counters written by the kernel rather than listed as Python strings."""
    if not 0 <= first <= first + n <= 10**18:  # the digit loop's powers of 10 stay in int64
        raise ValueError(f"counters {first}..{first + n - 1} outside 0..10**18 - 1")
    _compiled()
    return _hash_chunks(prefix, n, lambda lo, hi: (*_counters(first + lo, hi - lo), 0), threads)[0]


# Messages are encoded and hashed CHUNK at a time: this thread encodes chunk k + 1 (it needs the GIL)
# while a helper thread hashes chunk k (the compiled kernel releases it), and once every chunk is
# encoded this thread hashes too.
CHUNK = 32_768
Chunk = tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], int]


def _hash_chunks(
    prefix: bytes, n: int, chunk: Callable[[int, int], Chunk], threads: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint64]]:
    """Digests and keys of n messages, chunk(lo, hi) giving (data, offsets, gap) of messages lo..hi-1,
    on `threads` threads (this one included); any number of threads gives the same arrays."""
    out = np.empty((n, 32), dtype=np.uint8)
    keys = np.empty(n, dtype=np.uint64)
    head = np.frombuffer(prefix, dtype=np.uint8)
    bounds = [(lo, min(lo + CHUNK, n)) for lo in range(0, n, CHUNK)]
    helpers = max(min(threads, len(bounds)) - 1, 0)
    if not helpers:
        for lo, hi in bounds:
            _finish_all(head, *chunk(lo, hi), out[lo:hi], keys[lo:hi], _openssl)
        return out, keys
    work: queue.SimpleQueue[tuple[int, int, Chunk] | None] = queue.SimpleQueue()
    failures: list[BaseException] = []

    def hash_chunks() -> None:
        while (item := work.get()) is not None:
            lo, hi, (data, offsets, gap) = item
            try:
                _finish_all(head, data, offsets, gap, out[lo:hi], keys[lo:hi], _openssl)
            except BaseException as error:  # noqa: BLE001 - re-raised by the caller's thread
                failures.append(error)

    started = [threading.Thread(target=hash_chunks, daemon=True) for _ in range(helpers)]
    for thread in started:
        thread.start()
    try:
        for lo, hi in bounds:
            work.put((lo, hi, chunk(lo, hi)))
    finally:
        for _ in range(helpers + 1):
            work.put(None)
    hash_chunks()
    for thread in started:
        thread.join()
    if failures:
        raise failures[0]
    return out, keys
