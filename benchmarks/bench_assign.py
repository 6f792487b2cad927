"""Benchmark of team assignment: LP and sampling, against linear_sum_assignment as a plain baseline.

    .venv/bin/python benchmarks/bench_assign.py            # both scales
    .venv/bin/python benchmarks/bench_assign.py --scales small

Each (scale, phase) runs in a fresh subprocess. A first subprocess compiles the sampler's numba
kernel (or loads it from its cache); the sampling phases then include the per-process cache load,
and the closing line gives team sampling as a multiple of the LP's wall time. Memory: the
kernel's peak-RSS mark is reset just before the phase (/proc/self/clear_refs), and the figure is that peak minus the RSS at the start,
i.e. what the phase itself adds (HiGHS's C++ memory included). With --tracemalloc a second run of
each phase also reports the tracemalloc peak (Python heap incl. numpy; not HiGHS's C++ memory).

Instance: ~10 departments of uneven size; a task is one department's matter (team of 2 from it) or,
one time in ten, a joint inspection (1 + 1 from two departments); an officer qualifies for its own
department's tasks; 5 % of (officer, task) pairs are conflicts; 10 % of officers are part-time with
a load cap at half their department's mean load (so the caps bind and the LP is really solved), the
others capped at twice it; forbidden pairs are "last period's teams", simulated by drawing one
random eligible pair per task.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspect_kit.assign import Fractional, Instance, Officer, TaskDemand, sample_assignment, solve_fractional  # noqa: E402

SCALES = {"small": (2_000, 200), "large": (10_000, 1_000)}
N_DEPARTMENTS = 10
JOINT_SHARE = 0.10
CONFLICT_RATE = 0.05
PART_TIME_SHARE = 0.10
PAIR_CAP = 0.5


def make_instance(n_tasks: int, n_officers: int, seed: int = 2026) -> Instance:
    rng = np.random.default_rng(seed)
    depts = [f"D{d:02d}" for d in range(N_DEPARTMENTS)]
    weights = rng.uniform(0.5, 1.5, N_DEPARTMENTS)
    weights /= weights.sum()
    officer_dept = rng.choice(N_DEPARTMENTS, size=n_officers, p=weights)
    # Task share per department follows staff numbers, with noise, so loads differ by department.
    task_weights = np.bincount(officer_dept, minlength=N_DEPARTMENTS) * rng.uniform(0.8, 1.2, N_DEPARTMENTS)
    task_weights /= task_weights.sum()
    primary = rng.choice(N_DEPARTMENTS, size=n_tasks, p=task_weights)
    joint = rng.random(n_tasks) < JOINT_SHARE
    partner = (primary + rng.integers(1, N_DEPARTMENTS, n_tasks)) % N_DEPARTMENTS

    tasks, demand_dept = [], np.zeros((n_tasks, N_DEPARTMENTS), dtype=np.int64)
    for j in range(n_tasks):
        demand = {depts[primary[j]]: 1, depts[partner[j]]: 1} if joint[j] else {depts[primary[j]]: 2}
        for d, k in demand.items():
            demand_dept[j, depts.index(d)] = k
        tasks.append(TaskDemand(id=f"T{j:05d}", demand=demand, label=f"entity E{j:05d}, township Z{j % 37:02d}"))

    eligible = demand_dept[:, officer_dept].T > 0
    eligible &= rng.random(eligible.shape) >= CONFLICT_RATE

    places = demand_dept.sum(axis=0)
    staff = np.bincount(officer_dept, minlength=N_DEPARTMENTS)
    mean_load = places / np.maximum(staff, 1)
    part_time = rng.random(n_officers) < PART_TIME_SHARE
    caps = np.where(part_time, np.ceil(0.5 * mean_load[officer_dept]), np.ceil(2 * mean_load[officer_dept]))
    officers = [Officer(id=f"P{i:04d}", department=depts[officer_dept[i]], cap=int(caps[i])) for i in range(n_officers)]

    forbidden = set()
    for j in range(n_tasks):
        for d in np.flatnonzero(demand_dept[j]):
            pool = np.flatnonzero(eligible[:, j] & (officer_dept == d))
            if demand_dept[j, d] >= 2 and len(pool) >= 2:
                a, b = rng.choice(pool, 2, replace=False)
                forbidden.add((officers[a].id, officers[b].id))
    return Instance(
        officers=officers, tasks=tasks, eligible=eligible, pair_cap=PAIR_CAP, forbidden_pairs=sorted(forbidden)
    )


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def _reset_peak_rss() -> float:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0) and return the current RSS in MB."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_mb("VmRSS")
    except OSError:  # no reset possible: fall back to the process-wide high-water mark
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_rss_mb() -> float:
    try:
        return _status_mb("VmHWM")
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(fn, traced: bool):
    """(result, (wall s, CPU s), peak RSS above the starting RSS in MB, tracemalloc peak in MB or None).

    The tracemalloc figure comes from a second run, so that tracing does not slow the timed one.
    """
    gc.collect()
    rss_before = _reset_peak_rss()
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss_extra = _peak_rss_mb() - rss_before
    traced_peak = None
    if traced:
        tracemalloc.start()
        fn()
        traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result, (seconds, cpu), rss_extra, traced_peak


def phase_lp(scale: str, store: Path, traced: bool) -> dict:
    instance = make_instance(*SCALES[scale])
    fractional, seconds, rss, traced_mb = _measure(lambda: solve_fractional(instance), traced)
    store.write_bytes(fractional.canonical_bytes())
    g = fractional.graph
    return {
        "phase": "LP + grid",
        "seconds": seconds,
        "rss_mb": rss,
        "traced_mb": traced_mb,
        "note": f"{g.n_slots} slots, {g.n_edges} edges, {int((fractional.units > 0).sum())} positive, "
        f"{len(g.forbidden_pairs)} forbidden pairs, stored {store.stat().st_size / 2**20:.1f} MB",
    }


def phase_sample(scale: str, store: Path, with_forbidden: bool, traced: bool) -> dict:
    data = store.read_bytes()
    if not with_forbidden:
        data = b"".join(line for line in data.splitlines(keepends=True) if not line.startswith(b"forbidden\t"))
    fractional = Fractional.from_canonical(data)
    assignment, seconds, rss, traced_mb = _measure(
        lambda: sample_assignment(fractional, "20260105-dice-314159", strict_forbidden_pairs=False), traced
    )
    name = "sampling + repair" if with_forbidden else "sampling (no forbidden pairs)"
    return {
        "phase": name,
        "seconds": seconds,
        "rss_mb": rss,
        "traced_mb": traced_mb,
        "note": f"{len(assignment.repairs)} swaps, {len(assignment.unresolved)} tasks unresolved, "
        f"max load {max(assignment.loads.values())}",
    }


def _baseline_blocks(instance: Instance):
    """Per department: cost matrix slots (task repeated k times) x officer copies (one per cap unit)."""
    rng = np.random.default_rng(7)
    eligible = np.asarray(instance.eligible)
    depts = sorted({o.department for o in instance.officers})
    for dept in depts:
        officers = [i for i, o in enumerate(instance.officers) if o.department == dept]
        copies = np.repeat(officers, [instance.officers[i].cap for i in officers])
        rows = [j for j, t in enumerate(instance.tasks) for _ in range(t.demand.get(dept, 0))]
        if not rows:
            continue
        allowed = eligible[np.ix_(copies, rows)].T
        cost = np.where(allowed, rng.random(allowed.shape), 1e6)  # random cost; 1e6 = not eligible
        yield cost


def phase_baseline(scale: str, traced: bool) -> dict:
    from scipy.optimize import linear_sum_assignment

    instance = make_instance(*SCALES[scale])

    def run():
        shapes = []
        for cost in _baseline_blocks(instance):
            linear_sum_assignment(cost)
            shapes.append(cost.shape)
        return shapes

    shapes, seconds, rss, traced_mb = _measure(run, traced)
    biggest = max(shapes, key=lambda s: s[0] * s[1])
    return {
        "phase": "linear_sum_assignment baseline",
        "seconds": seconds,
        "rss_mb": rss,
        "traced_mb": traced_mb,
        "note": f"{len(shapes)} department blocks, largest {biggest[0]}x{biggest[1]} "
        f"(incl. building the cost matrices)",
    }


def phase_warm() -> dict:
    """Compile the sampler's kernel (or load it from numba's cache) on a tiny instance."""
    from inspect_kit.assign.core import rounding_kernel
    from inspect_kit.assign.core.randomness import HashStream

    if not rounding_kernel.available():
        return {
            "phase": "kernel compile or cache load",
            "seconds": (0.0, 0.0),
            "rss_mb": 0.0,
            "traced_mb": None,
            "note": "numba not installed: the Python walk runs",
        }

    def warm():
        rounding_kernel.round_compiled(2, 1, [0, 1], [0, 0], [5, 5], 10, HashStream("warm", "team"))

    _, seconds, rss, _ = _measure(warm, False)
    return {
        "phase": "kernel compile or cache load",
        "seconds": seconds,
        "rss_mb": rss,
        "traced_mb": None,
        "note": "once per process, included in the sampling figures below",
    }


def run_child(args) -> None:
    store = Path(args.store)
    if args.phase == "warm":
        out = phase_warm()
    elif args.phase == "lp":
        out = phase_lp(args.scale, store, args.tracemalloc)
    elif args.phase == "sample":
        out = phase_sample(args.scale, store, True, args.tracemalloc)
    elif args.phase == "sample-plain":
        out = phase_sample(args.scale, store, False, args.tracemalloc)
    else:
        out = phase_baseline(args.scale, args.tracemalloc)
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=list(SCALES), choices=list(SCALES))
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report the tracemalloc peak (re-runs every phase; slow for sampling)",
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--scale", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        run_child(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scales:
            n_tasks, n_officers = SCALES[scale]
            print(f"\n== {n_tasks} tasks x {n_officers} officers ==")
            print(f"{'phase':34} {'wall s':>8} {'CPU s':>8} {'peak RSS +MB':>13} {'tracemalloc MB':>15}  note")
            store = Path(tmp) / f"{scale}.fractional"
            walls = {}
            for phase in ("warm", "lp", "sample-plain", "sample", "baseline"):
                cmd = [sys.executable, __file__, "--phase", phase, "--scale", scale, "--store", str(store)]
                cmd += ["--tracemalloc"] if args.tracemalloc else []
                done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
                if done.returncode != 0:
                    print(f"{phase}: failed\n{done.stderr}")
                    continue
                r = json.loads(done.stdout.strip().splitlines()[-1])
                traced = "-" if r["traced_mb"] is None else f"{r['traced_mb']:.0f}"
                wall, cpu = r["seconds"]
                walls[phase] = wall
                print(f"{r['phase']:34} {wall:8.2f} {cpu:8.2f} {r['rss_mb']:13.0f} {traced:>15}  {r['note']}")
            if "lp" in walls:
                ratios = ", ".join(
                    f"{name} {walls[phase] / walls['lp']:.2f}×"
                    for phase, name in (("sample-plain", "sampling"), ("sample", "sampling + repair"))
                    if phase in walls
                )
                print(f"team sampling / LP wall time: {ratios} (goal of issue 17: <= 2×)")


if __name__ == "__main__":
    main()
