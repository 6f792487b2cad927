"""`inspect draw` end to end over large SQLite registries: prepare (frame read from the database,
strata, hash, stored snapshot) and run (tickets, selection, tasks), with wall time and peak memory.

The registry is filled with sqlite3 directly (this measures the draw, not the import). Beside the
draw, the same run times a bare `SELECT identifier, credit_class FROM entities` of the frame: the
floor of reading it. Each measurement runs in a fresh process, so its peak RSS is its own.

    python benchmarks/bench_draw.py [--entities 1000000 10000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(db: Path, n: int) -> None:
    from inspect_kit.config import load_config
    from inspect_kit.config.sync import sync_config
    from inspect_kit.registry.uscc import with_check
    from inspect_kit.storage.db import init_database, make_engine

    eng = make_engine(f"sqlite:///{db}")
    init_database(eng)
    sync_config(eng, load_config(ROOT / "configs"), dt.datetime(2026, 1, 2))
    eng.dispose()
    con = sqlite3.connect(db)
    now = "2026-01-02 00:00:00.000000"
    batch = []
    for i in range(n):
        sole = i % 3 == 0
        batch.append((with_check(f"{'92' if sole else '91'}3601{i:011d}"), "uscc", f"企业{i}",
                      "个体工商户" if sole else "企业", "SCJG", "城关镇", "ABCD"[(i * 7919) % 10 % 4], "active", now))
        if len(batch) == 200_000:
            con.executemany("INSERT INTO entities (identifier, id_scheme, name, category, department, township, "
                            "credit_class, status, updated_at) VALUES (?,?,?,?,?,?,?,?,?)", batch)
            batch.clear()
    if batch:
        con.executemany("INSERT INTO entities (identifier, id_scheme, name, category, department, township, "
                        "credit_class, status, updated_at) VALUES (?,?,?,?,?,?,?,?,?)", batch)
    con.commit()
    con.close()


def child(kind: str, db: str) -> None:
    t0 = time.perf_counter()
    if kind == "select":
        con = sqlite3.connect(db)
        rows = con.execute("SELECT identifier, credit_class FROM entities WHERE category IN ('企业','个体工商户') "
                           "AND status = 'active'").fetchall()
        out = {"rows": len(rows)}
    else:
        from inspect_kit.config import load_config
        from inspect_kit.draw import service
        from inspect_kit.storage.db import make_engine

        cfg = load_config(ROOT / "configs")
        eng = make_engine(f"sqlite:///{db}")
        f = service.prepare_frame(eng, cfg, "SCJG-01", "2026", as_of=dt.date(2026, 1, 5), now=dt.datetime(2026, 1, 5, 9))
        t1 = time.perf_counter()
        d = service.run_draw(eng, cfg, "SCJG-01", "2026", seed="84402 13395 67721 90548", seed_source="bench",
                             now=dt.datetime(2026, 1, 5, 10))
        out = {"prepare_s": t1 - t0, "run_s": time.perf_counter() - t1, "frame": f.n_rows, "selected": d.n_selected}
    out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def measure(kind: str, db: Path) -> dict:
    r = subprocess.run([sys.executable, __file__, "--child", kind, str(db)], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    for n in args.entities:
        with tempfile.TemporaryDirectory(prefix="inspect-bench-draw-") as tmp:
            db = Path(tmp) / "registry.db"
            t = time.perf_counter()
            build(db, n)
            print(f"{n:,} entities: registry built in {time.perf_counter() - t:.0f} s ({db.stat().st_size / 2**20:.0f} MiB)")
            floor = measure("select", db)
            r = measure("draw", db)
            print(f"  SELECT of the frame (floor)  {floor['seconds']:7.1f} s   peak {floor['peak_mb']:6.0f} MiB")
            print(f"  inspect draw (prepare + run) {r['seconds']:7.1f} s   peak {r['peak_mb']:6.0f} MiB   "
                  f"prepare {r['prepare_s']:.1f} s, run {r['run_s']:.1f} s; frame {r['frame']:,}, selected {r['selected']:,}")
            print(f"  ratio to the floor: {r['seconds'] / floor['seconds']:.1f}×")


if __name__ == "__main__":
    main()
