"""`inspect draw` end to end over large registries: prepare (frame read from the database, strata,
hash, stored snapshot) and run (tickets, selection, tasks), with wall time and peak memory.

The registry is filled directly (this measures the draw, not the import). In the same run the
floor is measured: a bare `SELECT identifier, credit_class` of the frame plus one SHA-256 per
identifier with hashlib (C), the least any draw must do. Each measurement runs in a fresh
process, so its peak RSS is its own; the ratio printed is draw time / floor time.

With --pg-url (or INSPECT_TEST_PG_URL) the same registry is also drawn on PostgreSQL, both
ways: the client path (frame shipped to Python) and the in-database draw (inspect_kit.draw.store.indb),
against the PostgreSQL floor (the same SELECT through psycopg + hashlib). Without a URL the
PostgreSQL part is skipped with a message.

    python benchmarks/bench_draw.py [--entities 1000000 10000000] [--pg-url URL] [--pg-entities N ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FRAME_SQL = (
    "SELECT identifier, credit_class FROM entities WHERE category IN ('企业','个体工商户') AND status = 'active'"
)
COLUMNS = "identifier, id_scheme, name, category, department, township, credit_class, status, updated_at"


def _rows(n: int):
    from inspect_kit.registry.uscc import with_check

    now = dt.datetime(2026, 1, 2)
    for i in range(n):
        sole = i % 3 == 0
        yield (
            with_check(f"{'92' if sole else '91'}3601{i:011d}"),
            "uscc",
            f"企业{i}",
            "个体工商户" if sole else "企业",
            "SCJG",
            "城关镇",
            "ABCD"[(i * 7919) % 10 % 4],
            "active",
            now,
        )


def _init(url: str) -> None:
    from inspect_kit.config import load_config
    from inspect_kit.config.sync import sync_config
    from inspect_kit.storage.db import init_database, make_engine

    eng = make_engine(url)
    init_database(eng)
    sync_config(eng, load_config(ROOT / "configs"), dt.datetime(2026, 1, 2))
    eng.dispose()


def build_sqlite(db: Path, n: int) -> None:
    _init(f"sqlite:///{db}")
    con = sqlite3.connect(db)
    batch = []
    for r in _rows(n):
        batch.append(r[:-1] + ("2026-01-02 00:00:00.000000",))
        if len(batch) == 200_000:
            con.executemany(f"INSERT INTO entities ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", batch)
            batch.clear()
    con.executemany(f"INSERT INTO entities ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", batch)
    con.commit()
    con.close()


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def build_pg(url: str, n: int) -> None:
    import psycopg

    _init(url)
    with psycopg.connect(_pg_dsn(url)) as con:
        with con.cursor().copy(f"COPY entities ({COLUMNS}) FROM STDIN") as copy:
            for r in _rows(n):
                copy.write_row(r)
        con.execute("ANALYZE entities")


def child(kind: str, url: str) -> None:
    t0 = time.perf_counter()
    if kind in ("floor", "floor-pg"):
        if kind == "floor":
            con = sqlite3.connect(url)
            cur = con.execute(FRAME_SQL)
        else:
            import psycopg

            con = psycopg.connect(_pg_dsn(url))
            cur = con.cursor()
            cur.execute(FRAME_SQL)
        rows = cur.fetchall()
        sha = hashlib.sha256
        for ident, _ in rows:
            sha(ident.encode()).digest()
        out = {"rows": len(rows)}
    else:
        from inspect_kit.config import load_config
        from inspect_kit.draw import service
        from inspect_kit.draw.core.seeds import SeedSource
        from inspect_kit.draw.store.indb import with_min_rows
        from inspect_kit.storage.db import make_engine

        cfg = load_config(ROOT / "configs")
        if kind.endswith("indb"):
            cfg = with_min_rows(cfg, 0)
        elif kind.endswith("client"):
            cfg = with_min_rows(cfg, None)
        eng = make_engine(url if "://" in url else f"sqlite:///{url}")
        again = kind.endswith("client")  # the second draw of the PostgreSQL registry: a re-draw
        hour = 11 if again else 9
        f = service.prepare_frame(
            eng,
            cfg,
            "SCJG-01",
            "2026",
            source=SeedSource.witnessed("bench", ["bench"]),
            as_of=dt.date(2026, 1, 5),
            now=dt.datetime(2026, 1, 5, hour),
            redraw=again,
            reason="bench: the other path" if again else None,
        )
        t1 = time.perf_counter()
        d = service.run_draw(
            eng,
            cfg,
            "SCJG-01",
            "2026",
            seed="84402 13395 67721 90548 31",
            now=dt.datetime(2026, 1, 5, hour + 1),
            with_tasks=False,
        )
        out = {
            "prepare_s": t1 - t0,
            "run_s": time.perf_counter() - t1,
            "frame": f.n_rows,
            "selected": d.n_selected,
            "frame_sha256": f.sha256,
        }
        with eng.connect() as conn:  # what must not change between versions and paths
            from sqlalchemy import select

            from inspect_kit.storage.models import Draw

            out["sample_sha256"] = conn.execute(select(Draw.sample_sha256).where(Draw.id == d.id)).scalar_one()
    out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def measure(kind: str, url: str, timeout: float | None = None) -> dict:
    r = subprocess.run(
        [sys.executable, __file__, "--child", kind, url], capture_output=True, text=True, timeout=timeout
    )
    if r.returncode:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def _line(label: str, r: dict, floor: dict | None = None) -> str:
    s = f"  {label:<34} {r['seconds']:7.1f} s   peak {r['peak_mb']:6.0f} MiB"
    if "prepare_s" in r:
        s += (
            f"   prepare {r['prepare_s']:.1f} s, run {r['run_s']:.1f} s; frame {r['frame']:,}, "
            f"selected {r['selected']:,}"
        )
    if floor is not None:
        s += f"   {r['seconds'] / floor['seconds']:.1f}× the floor"
    return s


def sqlite_runs(n: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="inspect-bench-draw-") as tmp:
        db = Path(tmp) / "registry.db"
        t = time.perf_counter()
        build_sqlite(db, n)
        print(
            f"SQLite, {n:,} entities: registry built in {time.perf_counter() - t:.0f} s "
            f"({db.stat().st_size / 2**20:.0f} MiB)"
        )
        floors, draws = [], []
        for _ in range(repeat):  # floor and draw alternate, so a busy neighbour hits both
            floors.append(measure("floor", str(db)))
            shutil_copy = Path(tmp) / "draw.db"
            shutil_copy.write_bytes(db.read_bytes())
            draws.append(measure("draw", str(shutil_copy)))
            shutil_copy.unlink()
        floor, r = min(floors, key=lambda x: x["seconds"]), min(draws, key=lambda x: x["seconds"])
        print(_line("SELECT + SHA-256 per id (floor)", floor))
        print(_line("inspect draw (prepare + run)", r, floor))
        print(f"  frame {r['frame_sha256']}  sample {r['sample_sha256']}")


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_pg_dsn(url), autocommit=True) as con:
        con.execute(sql)


def pg_runs(base_url: str, n: int) -> None:
    from sqlalchemy.engine import make_url

    name = f"inspect_bench_{uuid.uuid4().hex[:10]}"
    _pg_admin(base_url, f'CREATE DATABASE "{name}"')
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        t = time.perf_counter()
        build_pg(url, n)
        print(f"PostgreSQL, {n:,} entities: registry built in {time.perf_counter() - t:.0f} s")
        floor = measure("floor-pg", url)
        print(_line("SELECT + SHA-256 per id (floor)", floor))
        results = {}
        for kind, label in (("indb", "in-database draw"), ("client", "client path (frame shipped)")):
            results[kind] = measure(f"draw-{kind}", url)
            print(_line(label, results[kind], floor))
        a, b = results["indb"], results["client"]
        same = a["frame_sha256"] == b["frame_sha256"] and a["sample_sha256"] == b["sample_sha256"]
        print(f"  both ways give the same frame hash and sample: {'yes' if same else 'NO'}")
    finally:
        _pg_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, nargs="*", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=1, help="measure floor and draw this many times, keep the best")
    ap.add_argument("--pg-url", default=os.environ.get("INSPECT_TEST_PG_URL"))
    ap.add_argument("--pg-entities", type=int, nargs="*", default=[1_000_000])
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    for n in args.entities:
        sqlite_runs(n, args.repeat)
    if not args.pg_url:
        print("PostgreSQL: skipped (no --pg-url and no INSPECT_TEST_PG_URL)")
        return
    for n in args.pg_entities:
        pg_runs(args.pg_url, n)


if __name__ == "__main__":
    main()
