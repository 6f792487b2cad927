"""A seeded random stream that anyone can re-implement: SHA-256 in counter mode.

Block i of stream (seed, domain) is SHA-256 of the UTF-8 bytes of "{seed}:{domain}:{i}", i = 0, 1, ...
(decimal counter). A uniform integer in [0, n): take m = bit_length(n) // 256 + 1 consecutive blocks,
read them as one big-endian integer v < 2^(256 m); if v < n * floor(2^(256 m) / n) return v mod n,
otherwise reject and take the next m blocks. (Rejection keeps it exactly uniform; for the small n of
team sampling it almost never happens, so a draw costs one hash.) Nothing depends on numpy,
Python's `random` or the platform, so a published seed gives the same numbers everywhere.

The domain separates independent uses of one seed (team sampling, forbidden-pair repair,
substitutes). Domains contain no ':' and the counter no ':', so a message splits uniquely from the
right and two (seed, domain) streams never share a block.
"""

from __future__ import annotations

import hashlib

BLOCK_BITS = 256


class HashStream:
    """Uniform integers from SHA-256("{seed}:{domain}:{counter}") blocks, by rejection."""

    def __init__(self, seed: str, domain: str):
        if not isinstance(seed, str) or not seed:
            raise ValueError("seed must be a non-empty string")
        if ":" in domain or not domain:
            raise ValueError(f"domain must be non-empty and free of ':' (got {domain!r})")
        self.seed = seed
        self.domain = domain
        self.counter = 0  # index of the next unused block
        self._prefix = hashlib.sha256(f"{seed}:{domain}:".encode("utf-8"))

    def _block(self) -> int:
        h = self._prefix.copy()
        h.update(str(self.counter).encode("ascii"))
        self.counter += 1
        return int.from_bytes(h.digest(), "big")

    def below(self, n: int) -> int:
        """A uniform integer in [0, n); exact for any n >= 1 (big integers included)."""
        if n < 1:
            raise ValueError(f"below() needs n >= 1 (got {n})")
        blocks = n.bit_length() // BLOCK_BITS + 1
        span = 1 << (BLOCK_BITS * blocks)
        limit = span - span % n  # largest multiple of n not above span
        while True:
            if blocks == 1:  # the common case, inlined: team sampling makes millions of these draws
                h = self._prefix.copy()
                h.update(str(self.counter).encode("ascii"))
                self.counter += 1
                value = int.from_bytes(h.digest(), "big")
            else:
                value = 0
                for _ in range(blocks):
                    value = (value << BLOCK_BITS) | self._block()
            if value < limit:
                return value % n
