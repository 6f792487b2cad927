"""Benchmark: wall time of `inspect --help` and `inspect draw --help` against a bare Python start.

    python benchmarks/bench_startup.py [--runs 15]

Each command runs --runs times, the three interleaved so that a busy moment of the machine hits
all of them alike; the median and the best wall time are printed, the ratio of the medians to
`python -c pass` (the floor: the interpreter's own start-up), and the median CPU time, which a
busy machine inflates much less than the wall time. Compiled bytecode is cached in a temporary folder
(PYTHONPYCACHEPREFIX) and warmed by one untimed run, as an installed package would have it, even
when PYTHONDONTWRITEBYTECODE is set. The goal of issue 17: each help at most 0.3 s wall.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 0.3

COMMANDS = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "inspect --help": [sys.executable, "-m", "inspect_kit", "--help"],
    "inspect draw --help": [sys.executable, "-m", "inspect_kit", "draw", "--help"],
}


def wall(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child): CPU time shows the work even on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(
            PYTHONPYCACHEPREFIX=cache,
            COLUMNS="100",
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        )
        for cmd in COMMANDS.values():
            wall(cmd, env)  # warm: write the bytecode cache
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
        for _ in range(args.runs):
            for name, cmd in COMMANDS.items():
                times[name].append(wall(cmd, env))
    floor = statistics.median(w for w, _ in times["python -c pass (floor)"])
    print(
        f"start-up, {args.runs} interleaved runs each (goal: each help <= {GOAL_S} s wall); "
        f"1-minute load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'':26}{'median s':>10}{'best s':>9}{'× python':>10}{'CPU s':>8}")
    for name, values in times.items():
        median = statistics.median(w for w, _ in values)
        best = min(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        mark = "" if name.startswith("python") else ("  ok" if median <= GOAL_S else "  OVER GOAL (median)")
        print(f"{name:26}{median:>10.3f}{best:>9.3f}{median / floor:>9.1f}×{cpu:>8.3f}{mark}")


if __name__ == "__main__":
    main()
