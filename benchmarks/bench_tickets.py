"""Benchmark: inspect-kit's select() against raw SHA-256 and the consistent-sampler package.

    python benchmarks/bench_tickets.py [--n 1000000] [--take N/10] [--repeat 3] [--reference-n N]

Over the same USCC-like ids it times (a) raw hashlib.sha256 of the package's hash inputs, the
floor for any byte-compatible implementation in Python, (b) inspect_kit.draw.select, and (c)
consistent_sampler.sampler; each the best of --repeat runs. It then checks that (b) and (c)
select byte-identical (id, ticket) lists. --reference-n runs the reference (and, for the
comparison, select) on the first ids only, when the reference is too slow for all of them.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consistent_sampler import sampler  # noqa: E402

from inspect_kit.draw import select  # noqa: E402

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc_like(count: int, seed: int = 2015) -> list[str]:
    """Distinct 18-character codes with a valid mod-31 check character."""
    rng = random.Random(seed)
    codes: set[str] = set()
    while len(codes) < count:
        body = ("9" + rng.choice("123") + f"{rng.randrange(110000, 660000):06d}"
                + "".join(rng.choice(USCC_CHARS) for _ in range(9)))
        total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS))
        codes.add(body + USCC_CHARS[(31 - total % 31) % 31])
    return sorted(codes)


def best_time(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of ids")
    parser.add_argument("--take", type=int, help="sample size (default n/10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, best kept")
    parser.add_argument("--reference-n", type=int, help="ids for the reference (default n)")
    parser.add_argument("--seed", default="8302 5517 2946 0031")
    args = parser.parse_args()
    take = args.take if args.take is not None else args.n // 10
    reference_n = min(args.reference_n or args.n, args.n)
    reference_take = max(1, take * reference_n // args.n)

    ids = uscc_like(args.n)
    seed_hash = hashlib.sha256(args.seed.encode()).hexdigest()
    print(f"{args.n:,} USCC-like ids, sample {take:,}, seed {args.seed!r}, best of {args.repeat}")

    raw_s, _ = best_time(
        lambda: [hashlib.sha256((seed_hash + i).encode()).digest() for i in ids], args.repeat)
    ours_s, ours = best_time(lambda: select(args.seed, ids, take), args.repeat)
    subset = ids[:reference_n]
    ref_s, ref = best_time(
        lambda: list(sampler(subset, seed=args.seed, with_replacement=False, take=reference_take,
                             output="ticket", digits=100)), args.repeat)

    ours_on_subset = ours if reference_n == args.n else select(args.seed, subset, reference_take)
    identical = ([(s.id, s.ticket) for s in ours_on_subset]
                 == [(t.id, t.ticket_number) for t in ref])  # type: ignore[union-attr]

    ref_rate = reference_n / ref_s
    rows = [("(a) raw hashlib.sha256", args.n, raw_s), ("(b) inspect_kit select", args.n, ours_s),
            ("(c) consistent_sampler", reference_n, ref_s)]
    print(f"{'':26}{'ids':>11}{'seconds':>10}{'ids/s':>13}{'× reference':>13}")
    for name, count, seconds in rows:
        rate = count / seconds
        print(f"{name:26}{count:>11,}{seconds:>10.3f}{rate:>13,.0f}{rate / ref_rate:>12.1f}×")
    if reference_n < args.n:
        print(f"(reference measured on the first {reference_n:,} ids, sample {reference_take:,};"
              f" ratios compare ids per second)")
    print(f"selected (id, ticket) byte-identical to the reference: {identical}")
    if not identical:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
