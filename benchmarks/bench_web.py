"""Field officers submitting results at once: N simulated inspectors (default 50) post findings
through the JSON API of `inspect serve` on PostgreSQL for a bounded time (default 60 s), on
localhost only.

Set-up (not timed): a new PostgreSQL database with the demo county (`inspect demo --db URL`), an
account and an API token for every officer on a current team, and `inspect serve --workers W`
in a subprocess. Each simulated inspector is an asyncio task with its own token that, in a loop
until the deadline, changes the notes of one of its own tasks (POST /api/tasks/{task}/finding;
a task with no result yet gets a whole one, after the 422 that says so).
Two inspectors of one team may write the same finding at once: one wins, the other is answered
409 (optimistic concurrency: read it again) — both count as answered requests.

Printed: requests per second, p50/p95/max latency, the answers by status, and the check that no
revision was lost or duplicated: the revisions the benchmark's writes added (source "api") equal
the writes answered "updated", and every finding's revisions are numbered 1..N without a gap.

    python benchmarks/bench_web.py [--pg-url URL] [--clients 50] [--seconds 60] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pg_database(admin_url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"inspect_bench_web_{uuid.uuid4().hex[:8]}"
    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    eng.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop(admin_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    eng.dispose()


def _officer_tokens(url: str) -> dict[str, list[str]]:
    """token → the officer's tasks (an account per officer on a current team of any period)."""
    import datetime as dt

    from inspect_kit.accounts.service import add_user, create_token, list_users
    from inspect_kit.assign import service as assign
    from inspect_kit.storage.db import make_engine

    engine = make_engine(url)
    now = dt.datetime(2026, 3, 1, 9, 0)
    have = {u.cert_no for u in list_users(engine) if u.cert_no}
    tasks: dict[str, list[str]] = {}
    for a in assign.current_assignments(engine):  # every period: the yearly matters have most teams
        for team in a.teams:
            for m in team.officers:
                tasks.setdefault(m.cert_no, []).append(team.task_no)
    out = {}
    for cert, nos in sorted(tasks.items()):
        name = f"bench.{cert}"
        if cert not in have:
            add_user(engine, name, "inspector", "bench password 123", now, cert_no=cert)
        else:
            name = next(u.name for u in list_users(engine) if u.cert_no == cert)
        out[create_token(engine, name, "bench", now)] = nos
    engine.dispose()
    return out


def _serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "INSPECT_DB_URL": url}
    cmd = [sys.executable, "-m", "inspect_kit", "--config", str(ROOT / "configs"), "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"inspect serve did not start: {proc.stderr.read().decode() if proc.stderr else ''}")


def _finding(task_no: str) -> dict[str, str]:
    """A complete result (a task may have none yet): inspected inside its period, after its draw."""
    period = task_no.split("-")[2]
    day = {"Q1": "03-20", "Q2": "06-10", "Q3": "09-10", "Q4": "11-20"}.get(period[4:], "07-01")
    return {"inspection_date": f"{period[:4]}-{day}", "results": "R01", "follow_up": "F01"}


async def _inspector(base: str, token: str, tasks: list[str], deadline: float, k: int, out: list) -> None:
    import httpx

    rng = random.Random(k)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        i = 0
        while time.perf_counter() < deadline:
            task = rng.choice(tasks)
            t0 = time.perf_counter()
            note = {"notes": f"bench {k}-{i}"}
            r = await client.post(f"/api/tasks/{task}/finding", json=note)
            if r.status_code == 422 and "inspection_date" in r.text:  # no result yet: record a whole one
                out.append((time.perf_counter() - t0, 422, "no result yet"))
                t0 = time.perf_counter()
                r = await client.post(f"/api/tasks/{task}/finding", json={**_finding(task), **note})
            body = r.json()
            action = body.get("action") if r.status_code == 200 else str(body.get("detail"))[:60]
            out.append((time.perf_counter() - t0, r.status_code, action))
            i += 1


async def _load(base: str, tokens: dict[str, list[str]], clients: int, seconds: float) -> list:
    out: list = []
    pairs = list(tokens.items())
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(_inspector(base, *pairs[k % len(pairs)], deadline, k, out) for k in range(clients)))
    return out


def _check(url: str) -> dict[str, object]:
    from sqlalchemy import func, select

    from inspect_kit.storage.db import make_engine
    from inspect_kit.storage.models import FindingRevision

    engine = make_engine(url)
    with engine.connect() as c:
        api = c.execute(select(func.count()).where(FindingRevision.source == "api")).scalar_one()
        rows = c.execute(select(FindingRevision.finding_id, FindingRevision.revision)).all()
    engine.dispose()
    per: dict[int, list[int]] = {}
    for fid, rev in rows:
        per.setdefault(fid, []).append(rev)
    gapless = all(sorted(v) == list(range(1, len(v) + 1)) for v in per.values())
    return {"api_revisions": api, "findings": len(per), "revisions_gapless": gapless}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg-url", default=os.environ.get("INSPECT_TEST_PG_URL"))
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    if not args.pg_url:
        raise SystemExit("give --pg-url (or INSPECT_TEST_PG_URL): the benchmark runs on PostgreSQL")
    url = _pg_database(args.pg_url)
    proc = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run(
                [sys.executable, "-m", "inspect_kit", "--db", url, "demo", "--out", tmp], cwd=ROOT, capture_output=True
            )
            if r.returncode:
                raise SystemExit(r.stderr.decode())
        tokens = _officer_tokens(url)
        proc = _serve(url, args.port, args.workers)
        results = asyncio.run(_load(f"http://127.0.0.1:{args.port}", tokens, args.clients, args.seconds))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    check = _check(url)
    _drop(args.pg_url, url)
    lat = sorted(x[0] for x in results)
    statuses = Counter(x[1] for x in results)
    updated = sum(1 for x in results if x[2] in ("updated", "added"))
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000  # noqa: E731
    report = {
        "clients": args.clients,
        "seconds": args.seconds,
        "workers": args.workers,
        "officers": len(tokens),
        "requests": len(results),
        "requests_per_second": round(len(results) / args.seconds, 1),
        "p50_ms": round(q(0.50), 1),
        "p95_ms": round(q(0.95), 1),
        "max_ms": round(lat[-1] * 1000, 1),
        "status": dict(statuses),
        "writes_answered_updated": updated,
        "refusals": dict(Counter(x[2] for x in results if x[1] != 200).most_common(3)),
        **check,
        "no_revision_lost_or_duplicated": check["api_revisions"] == updated and check["revisions_gapless"],
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if not report["no_revision_lost_or_duplicated"]:
        raise SystemExit("a revision was lost or duplicated")


if __name__ == "__main__":
    main()
