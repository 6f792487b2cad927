"""Benchmark: inspect-kit's select() against raw SHA-256 and the consistent-sampler package.

    python benchmarks/bench_tickets.py [--n 300000 1000000] [--take N/10] [--repeat 3] [--reference-n N]

For each size, over the same USCC-like ids, it times (a) a raw hashlib.sha256 loop over the
package's hash inputs, the floor for any byte-compatible one-core implementation in Python,
(b1) inspect_kit.draw.select on one core without the C extension (its hashlib path), (b2) select
as it runs (the C extension inspect_kit._sha256x, on the threads inspect_kit.sha256_kernel picks),
(b3) select in a fresh process: `import inspect_kit.draw` and the first select call on the same
ids (read from a temporary file before the clock starts), and (c) consistent_sampler.sampler; each
the best of --repeat runs. It prints each rate as a multiple of the reference's and of the raw
loop's (issue 17's goal: (b2) and (b3) at least 10x the reference), then checks that (b1), (b2),
(b3) and (c) select byte-identical (id, ticket) lists. --reference-n runs the reference (and, for
the comparison, select) on the first ids only, when the reference is too slow for all of them.
Other work on the machine slows the threaded path most: compare figures from one quiet run (the
load average is printed).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consistent_sampler import sampler  # noqa: E402

from inspect_kit import hashing, sha256_kernel  # noqa: E402
from inspect_kit.draw import Selected, select  # noqa: E402

# (b3): a fresh interpreter reads the ids, then times the import and the first select; it prints
# the seconds and a digest of the (id, ticket) list it selected.
FRESH = """
import sys, time
ids = open(sys.argv[1], encoding="utf-8").read().split("\\n")
start = time.perf_counter()
from inspect_kit.draw import select
drawn = select(sys.argv[2], ids, int(sys.argv[3]))
seconds = time.perf_counter() - start
import hashlib
print(seconds, hashlib.sha256("\\n".join(s.id + "\\t" + s.ticket for s in drawn).encode()).hexdigest())
"""


def fresh_select(ids: list[str], seed: str, take: int, repeat: int) -> tuple[float, str]:
    """Best seconds of `import inspect_kit.draw` + the first select in a new process, and the digest
    of what it selected."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".ids") as file:
        file.write("\n".join(ids))
        file.flush()
        runs = []
        for _ in range(repeat):
            command = [sys.executable, "-c", FRESH, file.name, seed, str(take)]
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
            seconds, digest = done.stdout.split()
            runs.append((float(seconds), digest))
    return min(runs)[0], min(runs)[1] if len({d for _, d in runs}) == 1 else "differs between runs"


def selection_digest(drawn: list[Selected]) -> str:
    return hashlib.sha256("\n".join(s.id + "\t" + s.ticket for s in drawn).encode()).hexdigest()


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc_like(count: int, seed: int = 2015) -> list[str]:
    """Distinct 18-character codes with a valid mod-31 check character."""
    rng = random.Random(seed)
    codes: set[str] = set()
    while len(codes) < count:
        body = (
            "9"
            + rng.choice("123")
            + f"{rng.randrange(110000, 660000):06d}"
            + "".join(rng.choice(USCC_CHARS) for _ in range(9))
        )
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


def measure(n: int, take: int | None, repeat: int, reference_n: int | None, seed: str) -> bool:
    take = take if take is not None else n // 10
    reference_n = min(reference_n or n, n)
    reference_take = max(1, take * reference_n // n)

    ids = uscc_like(n)
    seed_hash = hashlib.sha256(seed.encode()).hexdigest()
    now = hashing.parallel_workers(n)
    print(f"\n{n:,} USCC-like ids, sample {take:,}, seed {seed!r}, best of {repeat}")

    raw_s, _ = best_time(lambda: [hashlib.sha256((seed_hash + i).encode()).digest() for i in ids], repeat)
    with hashlib_one_core():
        one_s, one = best_time(lambda: select(seed, ids, take), repeat)
    threads = sha256_kernel.threads_for(n) if sha256_kernel.available() else now
    ours_s, ours = best_time(lambda: select(seed, ids, take), repeat)
    fresh_s, fresh_digest = fresh_select(ids, seed, take, repeat)
    subset = ids[:reference_n]
    ref_s, ref = best_time(
        lambda: list(
            sampler(subset, seed=seed, with_replacement=False, take=reference_take, output="ticket", digits=100)
        ),
        repeat,
    )

    ours_on_subset = ours if reference_n == n else select(seed, subset, reference_take)
    identical = (
        [(s.id, s.ticket) for s in ours_on_subset] == [(t.id, t.ticket_number) for t in ref]  # type: ignore[union-attr]
        and one == ours
        and fresh_digest == selection_digest(ours)  # type: ignore[arg-type]
    )

    ref_rate, raw_rate = reference_n / ref_s, n / raw_s
    rows = [
        ("(a) raw hashlib.sha256 loop", n, raw_s),
        ("(b1) select, hashlib, one core", n, one_s),
        (f"(b2) select, {threads} thread{'s' if threads > 1 else ''}", n, ours_s),
        ("(b3) select, fresh process", n, fresh_s),
        ("(c) consistent_sampler", reference_n, ref_s),
    ]
    print(f"{'':34}{'ids':>11}{'seconds':>10}{'ids/s':>13}{'× reference':>13}{'× raw loop':>12}")
    for name, count, seconds in rows:
        rate = count / seconds
        print(f"{name:34}{count:>11,}{seconds:>10.3f}{rate:>13,.0f}{rate / ref_rate:>12.1f}×{rate / raw_rate:>11.2f}×")
    if reference_n < n:
        print(
            f"(reference measured on the first {reference_n:,} ids, sample {reference_take:,};"
            f" ratios compare ids per second)"
        )
    compression = (sha256_kernel.accelerated() or "portable C") if sha256_kernel.available() else None
    print(
        f"C extension: {compression or 'NOT built (select hashes with hashlib)'}; without it select would use "
        f"{now} core{'s' if now > 1 else ''}; 1-minute load average {os.getloadavg()[0]:.1f} on "
        f"{len(os.sched_getaffinity(0))} cores"
    )
    print(
        f"goal >= 10× reference: (b2) {'met' if n / ours_s >= 10 * ref_rate else 'NOT met'}, "
        f"(b3) fresh process {'met' if n / fresh_s >= 10 * ref_rate else 'NOT met'}; "
        f"selected (id, ticket) byte-identical across (b1), (b2), (b3), (c): {identical}"
    )
    return identical


@contextmanager
def hashlib_one_core():
    """select's hashlib path on one core (the C extension set aside)."""
    saved = hashing.PARALLEL_MIN, sha256_kernel.available
    hashing.PARALLEL_MIN = 1 << 62
    sha256_kernel.available = lambda: False  # type: ignore[method-assign]
    try:
        yield
    finally:
        hashing.PARALLEL_MIN, sha256_kernel.available = saved  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[300_000, 1_000_000], help="numbers of ids")
    parser.add_argument("--take", type=int, help="sample size (default n/10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, best kept")
    parser.add_argument("--reference-n", type=int, help="ids for the reference (default n)")
    parser.add_argument("--seed", default="8302 5517 2946 0031")
    args = parser.parse_args()
    results = [measure(n, args.take, args.repeat, args.reference_n, args.seed) for n in args.n]
    if not all(results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
