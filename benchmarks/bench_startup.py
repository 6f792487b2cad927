"""Benchmark: wall time of `inspect --help` and `inspect draw --help` against a bare Python start.

    python benchmarks/bench_startup.py [--runs 15]

Each command runs --runs times, the three interleaved so that a busy moment of the machine hits
all of them alike; the median and the best are printed, with the ratio to `python -c pass` (the
floor: the interpreter's own start-up). Compiled bytecode is cached in a temporary folder
(PYTHONPYCACHEPREFIX) and warmed by one untimed run, as an installed package would have it, even
when PYTHONDONTWRITEBYTECODE is set. The goal of issue 17: each help at most 0.3 s wall.
"""

from __future__ import annotations

import argparse
import os
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


def wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPYCACHEPREFIX=cache, COLUMNS="100",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
        for cmd in COMMANDS.values():
            wall(cmd, env)  # warm: write the bytecode cache
        times: dict[str, list[float]] = {name: [] for name in COMMANDS}
        for _ in range(args.runs):
            for name, cmd in COMMANDS.items():
                times[name].append(wall(cmd, env))
    floor = statistics.median(times["python -c pass (floor)"])
    print(f"start-up, {args.runs} interleaved runs each (goal: each help <= {GOAL_S} s wall)")
    print(f"{'':26}{'median s':>10}{'best s':>9}{'× python':>10}")
    for name, values in times.items():
        median = statistics.median(values)
        mark = "" if name.startswith("python") else ("  ok" if median <= GOAL_S else "  OVER GOAL")
        print(f"{name:26}{median:>10.3f}{min(values):>9.3f}{median / floor:>9.1f}×{mark}")


if __name__ == "__main__":
    main()
