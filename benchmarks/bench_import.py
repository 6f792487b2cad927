"""Import benchmark: N generated entity rows from CSV into SQLite.

Measures `inspect registry import entities` (the library call the command wraps: full validation,
upsert, history rows, one transaction) in rows per second and peak memory, beside the floor:
the sqlite3 shell's own `.import` of the same file into a bare table, no validation, no indexes.
Each measurement runs in its own process, so peak memory (ru_maxrss) is that run's alone.

    python benchmarks/bench_import.py [--rows 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADER = [
    "统一社会信用代码",
    "单位名称",
    "类别",
    "监管部门",
    "所属乡镇",
    "行业",
    "信用等级",
    "状态",
    "联系电话",
    "法定代表人",
]


def generate(path: Path, rows: int) -> None:
    from inspect_kit.registry.uscc import with_check

    rng = random.Random(7)
    towns = ["城关镇", "清水镇", "白沙乡", "龙潭镇", "石桥乡"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(rows):
            sole = i % 3 == 0
            w.writerow(
                [
                    with_check(f"{'92' if sole else '91'}360199{i:09d}"),
                    f"青山县测试{i}商贸{'店' if sole else '有限公司'}",
                    "个体工商户" if sole else "企业",
                    "SCJG",
                    towns[i % 5],
                    "批发和零售业",
                    "ABCD"[rng.randrange(4)],
                    "存续",
                    f"138{i:08d}",
                    "张三",
                ]
            )


def _child(kind: str, csv_path: str, db_path: str) -> None:
    import resource

    t0 = time.perf_counter()
    if kind == "sqlite3-import":
        subprocess.run(["sqlite3", db_path], input=f".mode csv\n.import {csv_path} raw\n", text=True, check=True)
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    else:
        import datetime as dt

        from inspect_kit.config import load_config
        from inspect_kit.config.sync import sync_config
        from inspect_kit.registry.importer import ImportOptions, import_registry
        from inspect_kit.storage.db import init_database, make_engine

        engine = make_engine(f"sqlite:///{db_path}")
        init_database(engine)
        cfg = load_config(ROOT / "configs")
        sync_config(engine, cfg, dt.datetime(2026, 1, 2))
        t0 = time.perf_counter()
        s = import_registry(
            engine, "entities", csv_path, ImportOptions(now=dt.datetime(2026, 1, 2), known_categories=cfg.categories)
        )
        assert s.added > 0 and s.rejected == 0, s
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": peak_kb / 1024}))


def measure(kind: str, csv_path: Path, workdir: Path) -> dict:
    db = workdir / f"{kind}.db"
    db.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(csv_path), str(db)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    if shutil.which("sqlite3") is None:
        sys.exit("the sqlite3 shell is needed for the floor measurement (apt-get install sqlite3)")
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="inspect-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    csv_path = workdir / "entities.csv"
    t = time.perf_counter()
    generate(csv_path, args.rows)
    print(
        f"generated {args.rows:,} rows ({csv_path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.1f} s"
    )
    floor = measure("sqlite3-import", csv_path, workdir)
    ours = measure("inspect-import", csv_path, workdir)
    for name, r in (("sqlite3 .import (floor)", floor), ("inspect registry import", ours)):
        print(
            f"{name:26s} {r['seconds']:8.1f} s  {args.rows / r['seconds']:>10,.0f} rows/s  peak {r['peak_mb']:7.0f} MiB"
        )
    print(f"ratio: inspect import takes {ours['seconds'] / floor['seconds']:.1f}× the floor's time")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
