"""Consistent-sampler tickets, byte-compatible with the `consistent-sampler` PyPI package.

Byte-level definition (consistent_sampler 1.0.10, generation-1 ticket = sampling without
replacement; see `first_fraction` / `sha256_uniform` in the package)::

    seed_hash = sha256(seed.encode("utf-8")).hexdigest()            # 64 lowercase hex chars
    x         = int(sha256((seed_hash + id).encode("utf-8")).hexdigest(), 16)   # 0 <= x < 2**256
    digits    = format(x, "064d")[::-1]    # decimal, left-padded to >= 64 digits, then reversed
    ticket    = "0." + digits              # 64..78 digits after "0."

The package orders tickets as Python strings and breaks equal tickets by id (its `Ticket`
namedtuple compares `(ticket_number, id, generation)`); the sample of size n is the n smallest.
`select` reproduces exactly that order: by ticket string, then by id in Unicode code point order.
Equal tickets for distinct ids would need a SHA-256 collision, so the id tie-break is a formality
that we keep only to stay identical to the package.

Speed: the package builds the 64..78-digit string and a heap entry for every id. We hash with a
copied SHA-256 state (the 64-byte seed-hash prefix is exactly one compression block, so each id
costs one block), rank all ids on the first 9 ticket digits computed with numpy, and build the
long decimal string only for the candidates that can be selected (n, plus rare prefix ties).

Compiled: where the C extension is built (inspect_kit.sha256_kernel over inspect_kit._sha256x: the
CPU's SHA extensions or portable C, no Python call per id, the GIL released, threads sharing the
ids; it loads in about a millisecond), `digest_block` and `select` use it at every size. select
asks it for the prefix keys of all the ids only, radix-sorted (`ranked`), then for the digests
and tickets (`tickets_of`) of the candidates: a million digests are never written, and numpy is
not imported (a fresh process would pay more for it than for drawing 300,000 ids). The winners cannot be picked on the
digest: a ticket reverses the digest's decimal digits, so ticket order is not digest order.
Without it, hashing is hashlib's (inspect_kit.hashing: forked workers over contiguous slices of
the ids from PARALLEL_MIN ids on; see there when workers are forked and how a failed one is
replaced). A digest does not depend on who computed it, so every path gives the same bytes; tests
compare the extension's digests, keys, tickets and samples with hashlib, the Python formatting and
the package, on one thread and on several.
"""

from __future__ import annotations

import hashlib
import sys
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import repeat
from typing import TYPE_CHECKING, NamedTuple

from inspect_kit import sha256_kernel
from inspect_kit.hashing import PackedIds, _hash_slice, sha256_block
from inspect_kit.nogc import paused_gc

if TYPE_CHECKING:
    import numpy as np

# numpy is imported by the hashlib path only (see "Compiled" above).

ALGORITHM_NAME = "consistent-sampler-sha256"
# The `consistent-sampler` release whose generation-1 tickets we reproduce byte for byte.
ALGORITHM_VERSION = "1.0.10"

MIN_PUBLISHED_DIGITS = 18
_MAX_DIGITS = 78  # len(str(2**256 - 1)); tickets have 64..78 digits after "0."
# 9 digits is the most that exact uint64 arithmetic gives cheaply (see _prefix_keys). Equal
# prefixes are settled exactly on the full ticket, so the width affects speed, never the result.
_PREFIX_DIGITS = 9


@cache
def _reversed_3_digits() -> np.ndarray:
    import numpy as np

    return np.array([int(f"{v:03d}"[::-1]) for v in range(1000)], dtype=np.uint64)


class Selected(NamedTuple):
    """One drawn id: its full ticket string and its 1-based rank in ticket order.

    A NamedTuple rather than a dataclass: a draw can select 100,000 ids, and a tuple is built
    several times faster than a frozen dataclass.
    """

    id: str
    ticket: str
    rank: int


def _seed_state(seed: str) -> "hashlib._Hash":
    """SHA-256 state after absorbing hex(sha256(seed)); copy it, then feed one id."""
    return hashlib.sha256(_seed_hash(seed).encode("ascii"))


def _seed_hash(seed: str) -> str:
    """hex(sha256(seed)), the prefix of every ticket's hash input."""
    if not isinstance(seed, str):
        raise TypeError(f"seed must be a str, got {type(seed).__name__}")
    if seed == "":
        raise ValueError("seed must not be empty")
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def _checked_ids(ids: Iterable[str]) -> Sequence[str]:
    """The ids as a list of plain str; anything else is refused (tuples, ints, UUIDs are not
    canonical). A numpy string array is fine: its elements are str subclasses, taken as plain str.
    PackedIds (a stored frame's stratum, decoded from valid UTF-8) are taken as they are."""
    if isinstance(ids, PackedIds):
        return ids
    numpy = sys.modules.get("numpy")  # not imported: ids cannot be a numpy array
    if numpy is not None and isinstance(ids, numpy.ndarray):
        if ids.dtype.kind != "U" and not (ids.dtype == object and all(isinstance(i, str) for i in ids.flat)):
            raise TypeError(f"identifiers must be canonical str, got a numpy array of dtype {ids.dtype}")
        return [str(i) for i in ids.tolist()]
    id_list = list(ids)
    if id_list and set(map(type, id_list)) != {str}:
        bad = next((i for i in id_list if not isinstance(i, str)), None)
        if bad is not None:
            raise TypeError(f"identifiers must be canonical str, got {type(bad).__name__}: {bad!r}")
        id_list = [str(i) for i in id_list]  # str subclasses (numpy.str_) as plain str
    return id_list


def _refuse_duplicates(id_list: Sequence[str], order: memoryview | np.ndarray, ties: list[int]) -> None:
    """Equal ids have equal digests, hence equal prefix keys: only those need comparing.

    `order` is an argsort of the prefix keys, `ties` the j where the j-th and (j + 1)-th smallest
    keys are equal. Sorting integers is several times cheaper than building a set of a million
    strings.
    """
    if not ties:
        return
    suspects = [id_list[int(order[j])] for j in {j for t in ties for j in (t, t + 1)}]
    dupes = sorted(i for i, count in Counter(suspects).items() if count > 1)
    if dupes:
        more = " …" if len(dupes) > 5 else ""
        raise ValueError(f"duplicate identifiers: {dupes[:5]}{more}")


def _digests(seed: str, id_list: Sequence[str]) -> list[bytes]:
    """The 32-byte digests of the ids, in input order, on this core."""
    return _hash_slice(_seed_state(seed), id_list, 0, len(id_list))


def digest_block(seed: str, id_list: Sequence[str], workers: int | None = None) -> bytes:
    """The ids' 32-byte digests sha256(hex(sha256(seed)) + id), concatenated in input order.

    Hashed by the C extension where it is built (inspect_kit.sha256_kernel) and no `workers` are
    imposed; else by hashlib, on every core from PARALLEL_MIN ids on (see inspect_kit.hashing). The
    bytes are the same either way, for any number of threads or workers.
    """
    if workers is None and sha256_kernel.available():
        return sha256_kernel.digests(_seed_hash(seed).encode("ascii"), id_list)
    return sha256_block(_seed_state(seed), id_list, workers)


def _digest_words(digests: list[bytes] | bytes) -> np.ndarray:
    """The digests (a list, or one concatenated block) as an (N, 4) array of big-endian 64-bit
    words: x = sum(W_k * 2**(64*(3-k)))."""
    import numpy as np

    block = digests if isinstance(digests, bytes) else b"".join(digests)
    return np.frombuffer(block, dtype=">u8").reshape(len(block) // 32, 4)


def _ticket_from_digest(digest: bytes) -> str:
    # str().zfill(64) is the package's format(x, "064d") for x >= 0, and measurably faster.
    # (A numpy long-division version was slower: 64-bit integer division does not vectorise.)
    return "0." + str(int.from_bytes(digest, "big")).zfill(64)[::-1]


def ticket(seed: str, identifier: str) -> str:
    """The package's exact generation-1 ticket string for one id, e.g. '0.2629971412…'."""
    return tickets(seed, [identifier])[0]


def tickets(seed: str, ids: Iterable[str]) -> list[str]:
    """Tickets for many ids, in input order."""
    block = digest_block(seed, _checked_ids(ids))
    return [_ticket_from_digest(block[i : i + 32]) for i in range(0, len(block), 32)]


def ticket_key(ticket_text: str) -> int:
    """A full-precision int whose order is exactly the package's string order of tickets.

    key = int(digits padded with "0" on the right to 78 chars) * 100 + len(digits).
    Proof, for digit strings a, b (length <= 78) with right-padded forms A, B:
      * a, b differ first at i < min(len): A, B differ first at i the same way, so int(A) and
        int(B) differ by >= 1 in that direction; * 100 outweighs the length term (< 100).
      * a is a proper prefix of b (so a < b as strings): B is A with some zeros replaced by
        digits, so int(A) <= int(B); if equal, len(a) < len(b) decides. Hence key(a) < key(b).
      * a == b: equal keys.
    All tickets share the "0." prefix, so ticket order = digits order = key order.
    """
    digits = ticket_text[2:]
    well_formed = ticket_text.startswith("0.") and digits.isascii() and digits.isdigit()
    if not well_formed or len(digits) > _MAX_DIGITS:
        raise ValueError(f"not a consistent-sampler ticket: {ticket_text!r}")
    return int(digits.ljust(_MAX_DIGITS, "0")) * 100 + len(digits)


def ticket_keys(seed: str, ids: Iterable[str]) -> list[int]:
    """Full-precision sort keys (see `ticket_key`) for many ids, in input order."""
    return [ticket_key(t) for t in tickets(seed, ids)]


def _prefix_keys(words: np.ndarray, digits: int | None = None) -> np.ndarray:
    """The first `digits` (default 9) ticket digits of each digest as a uint64, one per row.

    Monotone in ticket order: a smaller prefix key means a strictly smaller ticket.
    Ticket digit i is (x // 10**i) % 10 for every i < 64 (format "064d" pads on the left, so the
    reversed string starts with the 64 lowest decimal digits of x). The first d digits are thus
    x mod 10**d, written with d digits and reversed. With x = sum of four big-endian 64-bit words
    W_k * 2**(64*(3-k)), x mod m = sum((W_k mod m) * (2**(64*(3-k)) mod m)) mod m; for m = 10**9
    each term is < 2**60 and four terms stay below 2**62, so uint64 arithmetic is exact.
    """
    import numpy as np

    digits = _PREFIX_DIGITS if digits is None else digits
    if digits not in (3, 6, 9):
        raise ValueError("prefix digits must be 3, 6 or 9")
    modulus = np.uint64(10**digits)
    low = np.zeros(len(words), dtype=np.uint64)
    for k in range(4):
        low += (words[:, k] % modulus) * np.uint64(pow(2, 64 * (3 - k), 10**digits))
    low %= modulus
    thousand = np.uint64(1000)
    key = np.zeros_like(low)
    for _ in range(digits // 3):  # reverse three digits at a time through a lookup table
        key = key * thousand + _reversed_3_digits()[low % thousand]
        low //= thousand
    return key


def select(seed: str, ids: Iterable[str], n: int) -> list[Selected]:
    """The n ids with the smallest tickets, in ticket order (ties by id), ranks 1..n.

    Equal to `consistent_sampler.sampler(ids, seed=seed, with_replacement=False, take=n,
    output="id")`, independent of the order of `ids`. Duplicate ids are refused. The cyclic garbage
    collector is paused meanwhile (inspect_kit.nogc: the n result tuples beside a million ids).
    """
    with paused_gc():
        return _select(seed, ids, n)


def _select(seed: str, ids: Iterable[str], n: int) -> list[Selected]:
    # A list goes to the extension as it is: it refuses anything but str (and str subclasses, made
    # plain str below); _checked_ids would cost one more pass over a million ids.
    id_list = ids if type(ids) is list else _checked_ids(ids)
    if type(n) is not int or not 0 <= n <= len(id_list):
        raise ValueError(f"sample size must be an int in 0..{len(id_list)}, got {n!r}")
    compiled = sha256_kernel.available()
    block = b""
    order: memoryview | np.ndarray
    ordered: memoryview | np.ndarray
    if compiled:  # keys only, radix-sorted: the winners' digests are hashed again below
        order, ordered, ties = _compiled_ranks(seed, id_list)
    else:
        import numpy as np

        id_list = _checked_ids(id_list)
        block = digest_block(seed, id_list)
        prefix = _prefix_keys(_digest_words(block))
        order = np.argsort(prefix)
        ordered = prefix[order]
        ties = np.flatnonzero(ordered[1:] == ordered[:-1]).tolist()
    _refuse_duplicates(id_list, order, ties)
    if n == 0:
        return []
    # Whoever is among the n smallest tickets has a prefix <= the n-th smallest prefix: a larger
    # prefix would mean n strictly smaller tickets exist. Equal prefixes beyond n are rare ties,
    # and so is the order among equal prefixes: _settle_equal_prefixes puts those runs in order.
    count = bisect_right(ordered, ordered[n - 1])
    candidates: list[int] = order[:count].tolist()
    chosen_ids = id_list.take(candidates) if isinstance(id_list, PackedIds) else [id_list[i] for i in candidates]
    if set(map(type, chosen_ids)) != {str}:
        chosen_ids = [str(i) for i in chosen_ids]  # numpy.str_ and other subclasses as plain str
    if compiled:
        winners = sha256_kernel.digests(_seed_hash(seed).encode("ascii"), chosen_ids)
        chosen_tickets = sha256_kernel.tickets_of(winners, range(len(chosen_ids)))
    else:
        chosen_tickets = [_ticket_from_digest(block[32 * i : 32 * i + 32]) for i in candidates]
    _settle_equal_prefixes([j for j in ties if j + 1 < count], chosen_tickets, chosen_ids)
    # tuple.__new__ builds the NamedTuple without a Python-level call per item (twice as fast).
    return list(map(tuple.__new__, repeat(Selected), zip(chosen_ids[:n], chosen_tickets[:n], range(1, n + 1))))


def _compiled_ranks(seed: str, id_list: Sequence[str]) -> sha256_kernel.Ranked:
    seed_hash = _seed_hash(seed).encode("ascii")
    try:
        return sha256_kernel.ranked(seed_hash, id_list)
    except TypeError:
        _checked_ids(id_list)  # names the offending element
        raise


def _settle_equal_prefixes(ties: list[int], tickets_: list[str], ids: list[str]) -> None:
    """Within each run of equal prefixes, put (ticket, id) pairs in the package's exact order.

    The lists are in prefix order, which is already the exact order between different prefixes;
    `ties` are the i where prefix i equals prefix i + 1, ascending.
    """
    runs: list[list[int]] = []
    for i in ties:
        if runs and runs[-1][1] == i:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    for first, last in runs:
        settled = sorted(zip(tickets_[first : last + 1], ids[first : last + 1]))
        tickets_[first : last + 1] = [t for t, _ in settled]
        ids[first : last + 1] = [i for _, i in settled]


def format_ticket(ticket_text: str, digits: int = MIN_PUBLISHED_DIGITS) -> str:
    """A ticket truncated (never rounded) to `digits` digits for notices; at least 18 digits."""
    if digits < MIN_PUBLISHED_DIGITS:
        raise ValueError(f"published tickets need at least {MIN_PUBLISHED_DIGITS} digits")
    ticket_key(ticket_text)  # validates the form
    return ticket_text[: 2 + digits]
